// Requested vs used, per task: the Grafana view that found the seeds' 9x slowdown, automatic.
// A task whose use exceeds its request by more than 1.5x (a pod would be throttled or killed) or
// stays under 0.3x of it (cores and memory reserved for nothing) gets a warning, and its step the
// judgement of right-size.ts: against what (its @resources, a smaller local slot, a pod's request)
// and only the decorator that fits what was measured.
import type { CardComponent } from '../components.js';
import { Table } from '../components.js';
import { escapeHtml } from '../html.js';
import { VegaLite } from '../vega.js';
import { chartSpec } from '../templates.js';
import type { TaskRecord } from '../run-records.js';
import type { LocalSlot } from '../../datastore/metadata.js';
import { OVER_USE, UNDER_USE, MIN_WALL_FOR_CPU, fmt, verdictOf, stepUsage } from './right-size.js';

export { OVER_USE, UNDER_USE, MIN_WALL_FOR_CPU, fmt, verdictOf, processBase, stepUsage, type Verdict, type StepUsage, type Against } from './right-size.js';

export interface TaskUse {
  task: string;
  step: string;
  wallSeconds: number;
  cpuRequested: number;
  cpuUsed: number;
  memoryRequestedMiB: number;
  memoryUsedMiB: number;
  /** what the process held when the task started (MiB; recorded since issue 12) */
  baselineMiB?: number;
  warnings: string[];
  /** it ran in a Kubernetes pod (its step has @kubernetes, or the run --with kubernetes) */
  kubernetes?: boolean;
  /** the most cores it used over a second (recorded since issue 19) */
  peakCores?: number;
  /** a local task: what its slot was made from (recorded since issue 19) */
  localSlot?: LocalSlot;
}

export interface StepAdvice {
  step: string;
  tasks: number;
  warnings: string[];
  current: { cpu: number; memory: number };
  recommended: { cpu: number; memory: number };
  /** undefined when no decorator fits what was measured (a local slot smaller than @resources) */
  decorator?: string;
  /** the step's one sentence: where it ran, against what, and what to do (as `flowbook advise`) */
  advice: string;
}

export function taskUse(t: TaskRecord): TaskUse | undefined {
  const r = t.resources;
  if (!r) return undefined;
  const cpuUsed = r.wallSeconds > 0 ? (r.cpuUserSeconds + r.cpuSystemSeconds) / r.wallSeconds : 0;
  const inPod = typeof r.worker === 'string' && r.worker.startsWith('pod ');
  // a pod runs one task: its memory limit covers the whole process, not only the task's rise
  const memUsed = (inPod && r.processPeakRssBytes !== undefined ? r.processPeakRssBytes + (r.childrenPeakRssBytes ?? 0) : r.peakRssBytes) / 2 ** 20;
  const warnings: string[] = [];
  // a local slot smaller than the step's @resources (localResources, this machine) is no request:
  // what a pod would do with it is not what was measured
  const slot = !inPod && r.localSlot ? r.localSlot.declared : undefined;
  const cpuSlot = slot?.cpu !== undefined && r.requested.cpu < Math.max(1, Math.floor(slot.cpu));
  const memorySlot = slot?.memory !== undefined && r.requested.memory < slot.memory;
  if (r.wallSeconds >= MIN_WALL_FOR_CPU && r.requested.cpu > 0) {
    const ratio = cpuUsed / r.requested.cpu;
    const v = verdictOf(cpuUsed, r.requested.cpu);
    if (v === 'under-requested') warnings.push(cpuSlot ? `CPU: used ${fmt(cpuUsed)} cores in a ${fmt(r.requested.cpu)}-cpu local slot (${fmt(ratio)}x)` : `CPU: used ${fmt(cpuUsed)} cores on a request of ${fmt(r.requested.cpu)} (${fmt(ratio)}x): a pod would be throttled to its request`);
    else if (v === 'over-requested') warnings.push(`CPU: used ${fmt(cpuUsed)} of ${fmt(r.requested.cpu)} cores ${cpuSlot ? 'of its local slot' : 'requested'} (${Math.round(ratio * 100)}%): the rest sat idle`);
  }
  if (r.requested.memory > 0) {
    const ratio = memUsed / r.requested.memory;
    const v = verdictOf(memUsed, r.requested.memory);
    if (v === 'under-requested') warnings.push(memorySlot ? `memory: peak ${fmt(memUsed)} MiB in a ${r.requested.memory} MiB local slot (${fmt(ratio)}x)` : `memory: peak ${fmt(memUsed)} MiB on a request of ${r.requested.memory} MiB (${fmt(ratio)}x): a pod would be OOM-killed`);
    else if (v === 'over-requested') warnings.push(`memory: peak ${fmt(memUsed)} of ${r.requested.memory} MiB ${memorySlot ? 'of its local slot' : 'requested'} (${Math.round(ratio * 100)}%)`);
  }
  return {
    task: t.pathspec.split('/').slice(2).join('/'),
    step: t.step,
    wallSeconds: r.wallSeconds,
    cpuRequested: r.requested.cpu,
    cpuUsed,
    memoryRequestedMiB: r.requested.memory,
    memoryUsedMiB: memUsed,
    ...(r.baselineRssBytes !== undefined ? { baselineMiB: r.baselineRssBytes / 2 ** 20 } : {}),
    warnings,
    ...(inPod ? { kubernetes: true } : {}),
    ...(r.peakCores !== undefined ? { peakCores: r.peakCores } : {}),
    ...(r.localSlot && !inPod ? { localSlot: r.localSlot } : {}),
  };
}

/** Per step judged wrong (see right-size.ts): its tasks' warnings, and the change that fits what was measured. */
export function resourceAdvice(uses: TaskUse[]): StepAdvice[] {
  return stepUsage(uses)
    .filter((u) => u.verdict !== 'ok')
    .map((u) => {
      const warnings = uses.filter((t) => t.step === u.step).flatMap((t) => t.warnings);
      // a local slot that was the request: the same values fit a pod's @kubernetes
      const decorator = u.decorator && u.where === 'local' ? `${u.decorator}  or  ${u.decorator.replace('@resources', '@kubernetes')}` : u.decorator;
      return { step: u.step, tasks: u.tasks, warnings, current: u.requested, recommended: u.recommended, ...(decorator ? { decorator } : {}), advice: u.advice };
    });
}

export class ResourceReport implements CardComponent {
  readonly needs = 'vega' as const;
  constructor(
    readonly tasks: TaskRecord[],
    readonly opts: {
      /** the heading. Default 'Resources: requested vs used' */
      title?: string;
    } = {},
  ) {}
  render(): string {
    const title = `<h2>${escapeHtml(this.opts.title ?? 'Resources: requested vs used')}</h2>`;
    const uses = this.tasks.map(taskUse).filter((u): u is TaskUse => !!u);
    if (!uses.length) return `${title}<p class="meta">No finished tasks with resource records.</p>`;
    const advice = resourceAdvice(uses);
    const adviceHtml = advice.length
      ? advice
          .map((a) => {
            const head = `<span class="warn">⚠ step ${escapeHtml(a.step)}</span>: ${a.warnings.length} warning${a.warnings.length === 1 ? '' : 's'} over ${a.tasks} task${a.tasks > 1 ? 's' : ''}${a.warnings.length ? ` (e.g. ${escapeHtml(a.warnings[0])})` : ''}.`;
            const fix = a.decorator ? ` Recommended: <code>${escapeHtml(a.decorator)}</code> <span class="meta">(now cpu ${escapeHtml(a.current.cpu)}, memory ${escapeHtml(a.current.memory ? `${a.current.memory} MiB` : 'not set')})</span>` : '';
            return `<div class="advice">${head}${fix} <span class="meta">${escapeHtml(a.advice)}</span></div>`;
          })
          .join('')
      : `<p>Every task used between ${UNDER_USE}x and ${OVER_USE}x of what it requested (CPU judged on tasks of ${MIN_WALL_FOR_CPU} s or more).</p>`;
    const table = new Table(
      uses.map((u) => ({
        task: u.task,
        'wall s': u.wallSeconds,
        'cpu req': u.cpuRequested,
        'cores used': u.cpuUsed,
        'mem req MiB': u.memoryRequestedMiB || '—',
        'peak MiB': u.memoryUsedMiB,
        warnings: u.warnings.length ? { render: () => u.warnings.map((w) => `<div class="warn">${escapeHtml(w)}</div>`).join('') } : '',
      })),
    );
    const bars = uses.flatMap((u) => [
      { task: u.task, measure: 'CPU (cores)', kind: 'requested', value: u.cpuRequested },
      { task: u.task, measure: 'CPU (cores)', kind: 'used', value: +u.cpuUsed.toFixed(3) },
      ...(u.memoryRequestedMiB ? [{ task: u.task, measure: 'memory (MiB)', kind: 'requested', value: u.memoryRequestedMiB }] : []),
      { task: u.task, measure: 'memory (MiB)', kind: 'used', value: +u.memoryUsedMiB.toFixed(1) },
    ]);
    const chart = new VegaLite(chartSpec('resources.vl.json'), { data: bars });
    return `${title}${adviceHtml}${chart.render()}${table.render()}`;
  }
}
