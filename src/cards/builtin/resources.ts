// Requested vs used, per task: the Grafana view that found the seeds' 9x slowdown, automatic.
// A task whose use exceeds its request by more than 1.5x (a pod would be throttled or killed) or
// stays under 0.3x of it (cores and memory reserved for nothing) gets a warning, and its step the
// @resources / @kubernetes values that fit what its tasks really used.
import type { CardComponent } from '../components.js';
import { Table } from '../components.js';
import { escapeHtml } from '../html.js';
import { VegaLite } from '../vega.js';
import { chartSpec } from '../templates.js';
import type { TaskRecord } from '../run-records.js';

export const OVER_USE = 1.5;
export const UNDER_USE = 0.3;
/** a CPU average over less wall time than this says little (start-up dominates) */
export const MIN_WALL_FOR_CPU = 1;

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
}

export interface StepAdvice {
  step: string;
  tasks: number;
  warnings: string[];
  current: { cpu: number; memory: number };
  recommended: { cpu: number; memory: number };
  decorator: string;
}

export const fmt = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(2).replace(/\.?0+$/, ''));

/** what a request was, judged by what was used: above OVER_USE it was too small, below UNDER_USE too large */
export type Verdict = 'over-requested' | 'under-requested' | 'ok';

export function verdictOf(used: number, requested: number): Verdict {
  const ratio = used / requested;
  return ratio > OVER_USE ? 'under-requested' : ratio < UNDER_USE ? 'over-requested' : 'ok';
}

export function taskUse(t: TaskRecord): TaskUse | undefined {
  const r = t.resources;
  if (!r) return undefined;
  const cpuUsed = r.wallSeconds > 0 ? (r.cpuUserSeconds + r.cpuSystemSeconds) / r.wallSeconds : 0;
  const inPod = typeof r.worker === 'string' && r.worker.startsWith('pod ');
  // a pod runs one task: its memory limit covers the whole process, not only the task's rise
  const memUsed = (inPod && r.processPeakRssBytes !== undefined ? r.processPeakRssBytes + (r.childrenPeakRssBytes ?? 0) : r.peakRssBytes) / 2 ** 20;
  const warnings: string[] = [];
  if (r.wallSeconds >= MIN_WALL_FOR_CPU && r.requested.cpu > 0) {
    const ratio = cpuUsed / r.requested.cpu;
    const v = verdictOf(cpuUsed, r.requested.cpu);
    if (v === 'under-requested') warnings.push(`CPU: used ${fmt(cpuUsed)} cores on a request of ${fmt(r.requested.cpu)} (${fmt(ratio)}x): a pod would be throttled to its request`);
    else if (v === 'over-requested') warnings.push(`CPU: used ${fmt(cpuUsed)} of ${fmt(r.requested.cpu)} cores requested (${Math.round(ratio * 100)}%): the rest sat idle`);
  }
  if (r.requested.memory > 0) {
    const ratio = memUsed / r.requested.memory;
    const v = verdictOf(memUsed, r.requested.memory);
    if (v === 'under-requested') warnings.push(`memory: peak ${fmt(memUsed)} MiB on a request of ${r.requested.memory} MiB (${fmt(ratio)}x): a pod would be OOM-killed`);
    else if (v === 'over-requested') warnings.push(`memory: peak ${fmt(memUsed)} of ${r.requested.memory} MiB requested (${Math.round(ratio * 100)}%)`);
  }
  return { task: t.pathspec.split('/').slice(2).join('/'), step: t.step, wallSeconds: r.wallSeconds, cpuRequested: r.requested.cpu, cpuUsed, memoryRequestedMiB: r.requested.memory, memoryUsedMiB: memUsed, ...(r.baselineRssBytes !== undefined ? { baselineMiB: r.baselineRssBytes / 2 ** 20 } : {}), warnings, ...(inPod ? { kubernetes: true } : {}) };
}

/** Per step with a warning: values that fit the busiest of its tasks with 20–25% headroom. */
export function resourceAdvice(uses: TaskUse[]): StepAdvice[] {
  const steps = new Map<string, TaskUse[]>();
  for (const u of uses) steps.set(u.step, [...(steps.get(u.step) ?? []), u]);
  const out: StepAdvice[] = [];
  for (const [step, us] of steps) {
    const warnings = us.flatMap((u) => u.warnings);
    if (!warnings.length) continue;
    const current = { cpu: us[0].cpuRequested, memory: us[0].memoryRequestedMiB };
    const { cpu, memory } = recommend(us, processBase(uses));
    const args = `{ cpu: ${cpu}, memory: ${memory} }`;
    out.push({ step, tasks: us.length, warnings, current, recommended: { cpu, memory }, decorator: `@resources(${args})  or  @kubernetes(${args})` });
  }
  return out;
}

/**
 * What a process holds before any task runs in it (MiB): the smallest baseline among a run's
 * local tasks, i.e. a fresh worker's Node and flow code (0 when not recorded).
 */
export function processBase(uses: TaskUse[]): number {
  const bases = uses.filter((u) => !u.kubernetes && u.baselineMiB !== undefined).map((u) => u.baselineMiB!);
  return bases.length ? Math.min(...bases) : 0;
}

/**
 * Values that fit the busiest of a step's tasks: CPU × 1.2 in halves (if judged), memory × 1.25
 * in 256 MiB. The memory is for a process of its own, as a pod is: a local task's own peak plus
 * `base` (see processBase). Judged by its own rise alone, it would be OOM-killed in a pod. A pod's
 * task is measured on its whole process already.
 */
function recommend(us: TaskUse[], base: number): { cpu: number; memory: number } {
  const timed = us.filter((u) => u.wallSeconds >= MIN_WALL_FOR_CPU);
  const cpu = timed.length ? Math.max(0.5, Math.ceil(Math.max(...timed.map((u) => u.cpuUsed)) * 1.2 * 2) / 2) : us[0].cpuRequested;
  const process = Math.max(...us.map((u) => u.memoryUsedMiB + (u.kubernetes ? 0 : base)));
  const memory = Math.max(256, Math.ceil((process * 1.25) / 256) * 256);
  return { cpu, memory };
}

/** One step of a run, requested vs used: what `flowbook advise` prints and the run's last lines warn about. */
export interface StepUsage {
  step: string;
  tasks: number;
  requested: { cpu: number; memory: number };
  /** CPU seconds over wall seconds, summed over the step's tasks */
  avgCores: number;
  /** cores of the busiest task long enough to judge (undefined: none was) */
  maxCores?: number;
  /** the largest of the tasks' own peaks */
  peakMiB: number;
  /** undefined: not judged (tasks too short for CPU; no memory request) */
  cpu?: Verdict;
  memory?: Verdict;
  /** under-requested if either resource is, else over-requested if either is, else ok */
  verdict: Verdict;
  recommended: { cpu: number; memory: number };
  /** what to paste above the step: @kubernetes(...) when its tasks ran in pods, else @resources(...) */
  decorator: string;
}

/**
 * Every step of the given tasks, judged on its busiest task with the thresholds of taskUse (a
 * step is over-requested when even its busiest task left most of the request idle).
 */
export function stepUsage(uses: TaskUse[]): StepUsage[] {
  const base = processBase(uses);
  const steps = new Map<string, TaskUse[]>();
  for (const u of uses) steps.set(u.step, [...(steps.get(u.step) ?? []), u]);
  return [...steps].map(([step, us]) => {
    const requested = { cpu: us[0].cpuRequested, memory: us[0].memoryRequestedMiB };
    const wall = us.reduce((a, u) => a + u.wallSeconds, 0);
    const cpuSeconds = us.reduce((a, u) => a + u.cpuUsed * u.wallSeconds, 0);
    const timed = us.filter((u) => u.wallSeconds >= MIN_WALL_FOR_CPU);
    const maxCores = timed.length ? Math.max(...timed.map((u) => u.cpuUsed)) : undefined;
    const peakMiB = Math.max(...us.map((u) => u.memoryUsedMiB));
    const cpu = maxCores !== undefined && requested.cpu > 0 ? verdictOf(maxCores, requested.cpu) : undefined;
    const memory = requested.memory > 0 ? verdictOf(peakMiB, requested.memory) : undefined;
    const verdict: Verdict = cpu === 'under-requested' || memory === 'under-requested' ? 'under-requested' : cpu === 'over-requested' || memory === 'over-requested' ? 'over-requested' : 'ok';
    const recommended = recommend(us, base);
    const decorator = `@${us.some((u) => u.kubernetes) ? 'kubernetes' : 'resources'}({ cpu: ${recommended.cpu}, memory: ${recommended.memory} })`;
    return { step, tasks: us.length, requested, avgCores: wall > 0 ? cpuSeconds / wall : 0, maxCores, peakMiB, cpu, memory, verdict, recommended, decorator };
  });
}

export class ResourceReport implements CardComponent {
  readonly needs = 'vega' as const;
  constructor(
    readonly tasks: TaskRecord[],
    readonly opts: { title?: string } = {},
  ) {}
  render(): string {
    const title = `<h2>${escapeHtml(this.opts.title ?? 'Resources: requested vs used')}</h2>`;
    const uses = this.tasks.map(taskUse).filter((u): u is TaskUse => !!u);
    if (!uses.length) return `${title}<p class="meta">No finished tasks with resource records.</p>`;
    const advice = resourceAdvice(uses);
    const adviceHtml = advice.length
      ? advice
          .map((a) => `<div class="advice"><span class="warn">⚠ step ${escapeHtml(a.step)}</span>: ${a.warnings.length} warning${a.warnings.length > 1 ? 's' : ''} over ${a.tasks} task${a.tasks > 1 ? 's' : ''} (e.g. ${escapeHtml(a.warnings[0])}). Recommended: <code>${escapeHtml(a.decorator)}</code> <span class="meta">(now cpu ${escapeHtml(a.current.cpu)}, memory ${escapeHtml(a.current.memory ? `${a.current.memory} MiB` : 'not set')})</span></div>`)
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
