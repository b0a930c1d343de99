// @schedule, checked and read: as in Metaflow, `hourly`, `daily` and `weekly` are shorthands (at
// minute 0, midnight, Sunday midnight); `cron` is the standard five-field expression Argo
// (robfig/cron) reads, in `timezone` (IANA) or the cluster's. It applies only to a deployed flow
// (compute/argo/schedule.ts makes its CronWorkflow); a local run only says so.
import { FLOW_META, type ScheduleSpec } from './decorators.js';
import { FlowUsageError } from '../errors.js';

export interface Schedule {
  cron: string;
  timezone?: string;
}

const FIELD = /^[0-9A-Za-z*?/,\-#LW]+$/;

/** The flow class's @schedule, checked; undefined when it has none. */
export function scheduleOf(cls: Function): Schedule | undefined {
  const spec: ScheduleSpec | undefined = (cls as any)[FLOW_META]?.schedule;
  if (!spec) return undefined;
  const given = [spec.cron !== undefined, !!spec.hourly, !!spec.daily, !!spec.weekly].filter(Boolean).length;
  if (given !== 1) throw new FlowUsageError(`@schedule on ${cls.name} takes exactly one of cron, hourly, daily, weekly`);
  const cron = spec.cron ?? (spec.hourly ? '0 * * * *' : spec.daily ? '0 0 * * *' : '0 0 * * 0');
  const fields = cron.trim().split(/\s+/);
  if (!/^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every \S+)$/.test(cron.trim()) && (fields.length !== 5 || !fields.every((f) => FIELD.test(f)))) {
    throw new FlowUsageError(`@schedule on ${cls.name}: cron ${JSON.stringify(cron)} is not a five-field cron expression (minute hour day-of-month month day-of-week)`);
  }
  if (spec.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: spec.timezone });
    } catch {
      throw new FlowUsageError(`@schedule on ${cls.name}: unknown timezone ${JSON.stringify(spec.timezone)} (use an IANA name such as Europe/Paris)`);
    }
  }
  return { cron: cron.trim(), ...(spec.timezone ? { timezone: spec.timezone } : {}) };
}

/** How a schedule reads to a person. */
export const describeSchedule = (s: Schedule) => `cron '${s.cron}'${s.timezone ? ` (${s.timezone})` : ' (the cluster\'s time zone)'}`;


/** The line a local run prints for a flow with @schedule (checked here too: a bad one is found before deploying). */
export function scheduleNote(cls: Function, file: string): string | undefined {
  const s = scheduleOf(cls);
  return s && `note: @schedule (${describeSchedule(s)}) applies only when deployed: flowbook argo-workflows create ${file}`;
}
