// What a run's finished tasks used, summed per step as their records arrive: the figures the
// right-sizing judgement (right-size.ts) reads. The runner adds each DONE record once it is
// durable and keeps only these sums — a few numbers per step, whatever the number of tasks — so
// the run's closing notes need neither the task records nor the card machinery; `flowbook advise`
// and the resources card fill the same tally from the stored records, so both judge the same
// figures the same way. Kept free of everything but the record types, so the runner loads it
// with nothing else of cards/.
import type { LocalSlot, ResourceUse, TaskDone } from '../../datastore/metadata.js';

/** a CPU average over less wall time than this says little (start-up dominates) */
export const MIN_WALL_FOR_CPU = 1;

/** One finished task's figures, requested vs used (TaskUse in right-size.ts adds its warnings). */
export interface TaskFigures {
  task: string;
  step: string;
  wallSeconds: number;
  cpuRequested: number;
  cpuUsed: number;
  memoryRequestedMiB: number;
  memoryUsedMiB: number;
  /** what the process held when the task started (MiB; recorded since issue 12) */
  baselineMiB?: number;
  /** it ran in a Kubernetes pod (its step has @kubernetes, or the run --with kubernetes) */
  kubernetes?: boolean;
  /** the most cores it used over a second (recorded since issue 19) */
  peakCores?: number;
  /** a local task: what its slot was made from (recorded since issue 19) */
  localSlot?: LocalSlot;
}

/** A task's record read as requested vs used. */
export function taskFigures(pathspec: string, step: string, r: ResourceUse): TaskFigures {
  const cpuUsed = r.wallSeconds > 0 ? (r.cpuUserSeconds + r.cpuSystemSeconds) / r.wallSeconds : 0;
  const inPod = isPod(r);
  // a pod runs one task: its memory limit covers the whole process, not only the task's rise
  const memUsed = (inPod && r.processPeakRssBytes !== undefined ? r.processPeakRssBytes + (r.childrenPeakRssBytes ?? 0) : r.peakRssBytes) / 2 ** 20;
  return {
    task: pathspec.split('/').slice(2).join('/'),
    step,
    wallSeconds: r.wallSeconds,
    cpuRequested: r.requested.cpu,
    cpuUsed,
    memoryRequestedMiB: r.requested.memory,
    memoryUsedMiB: memUsed,
    ...(r.baselineRssBytes !== undefined ? { baselineMiB: r.baselineRssBytes / 2 ** 20 } : {}),
    ...(inPod ? { kubernetes: true } : {}),
    ...(r.peakCores !== undefined ? { peakCores: r.peakCores } : {}),
    ...(r.localSlot && !inPod ? { localSlot: r.localSlot } : {}),
  };
}

export const isPod = (r: ResourceUse): boolean => typeof r.worker === 'string' && r.worker.startsWith('pod ');

/** One step's tasks of one kind (local or pods), summed. */
export interface StepTally {
  /** the earliest task (what it held and was told is the step's: the same for all its tasks) */
  first: TaskFigures;
  tasks: number;
  /** wall seconds, summed */
  wall: number;
  /** CPU seconds (cores × wall), summed */
  cpuSeconds: number;
  /** cores of the busiest task long enough to judge (MIN_WALL_FOR_CPU; undefined: none was) */
  maxCores?: number;
  /** the most cores any such task used over a second (undefined: not recorded) */
  peakCores?: number;
  /** the largest of the tasks' own peaks (MiB) */
  peakMiB: number;
}

interface Tally extends StepTally {
  firstStartedAt?: string;
}

interface StepTallies {
  local?: Tally;
  pod?: Tally;
  /** when its first task started, and where the step is in the graph (the order of the steps) */
  startedAt?: string;
  rank: number;
}

/**
 * The sums of every step. Tasks are added in the order they are listed (by start time when read
 * from the store, as they commit in the runner); the steps come out in the order of their first
 * task — ties by the graph's order — as a list of the tasks sorted by start time gives them.
 */
export class UseTally {
  private steps = new Map<string, StepTallies>();
  private base?: number;

  /** `order`: the graph's steps, which break ties between steps that started in the same millisecond */
  constructor(private order: readonly string[] = []) {}

  add(u: TaskFigures, startedAt?: string): void {
    let s = this.steps.get(u.step);
    if (!s) {
      const rank = this.order.indexOf(u.step);
      this.steps.set(u.step, (s = { rank: rank < 0 ? this.order.length : rank }));
    }
    if (startedAt !== undefined && (s.startedAt === undefined || startedAt < s.startedAt)) s.startedAt = startedAt;
    const t = (s[u.kubernetes ? 'pod' : 'local'] ??= { first: u, tasks: 0, wall: 0, cpuSeconds: 0, peakMiB: u.memoryUsedMiB });
    // the earliest task stands for the step (ties: the first added, as a stable sort keeps it)
    if (startedAt !== undefined && (t.firstStartedAt === undefined || startedAt < t.firstStartedAt)) {
      t.first = u;
      t.firstStartedAt = startedAt;
    }
    t.tasks++;
    t.wall += u.wallSeconds;
    t.cpuSeconds += u.cpuUsed * u.wallSeconds;
    t.peakMiB = Math.max(t.peakMiB, u.memoryUsedMiB);
    if (u.wallSeconds >= MIN_WALL_FOR_CPU) {
      t.maxCores = t.maxCores === undefined ? u.cpuUsed : Math.max(t.maxCores, u.cpuUsed);
      if (u.peakCores !== undefined) t.peakCores = t.peakCores === undefined ? u.peakCores : Math.max(t.peakCores, u.peakCores);
    }
    if (!u.kubernetes && u.baselineMiB !== undefined) this.base = this.base === undefined ? u.baselineMiB : Math.min(this.base, u.baselineMiB);
  }

  /** A DONE record of this run: a task that ran here (not cloned by resume, not a @cache hit) and recorded what it used. */
  addDone(done: TaskDone): void {
    if (done.origin || done.cachedFrom || !done.resources) return;
    this.add(taskFigures(done.pathspec, done.step, done.resources), done.startedAt);
  }

  /**
   * What a process holds before any task runs in it (MiB): the smallest baseline among the local
   * tasks, i.e. a fresh worker's Node and flow code (0 when not recorded).
   */
  get processBase(): number {
    return this.base ?? 0;
  }

  /**
   * Each step with the tasks it is judged on: a step's tasks run in one place; after a resume
   * across --with kubernetes, its pods are judged.
   */
  judged(): { step: string; tally: StepTally }[] {
    const steps = [...this.steps].map(([step, s], i) => ({ step, s, i }));
    // without start times (tasks added in order already) the order of insertion stands
    steps.sort((a, b) => {
      const x = a.s.startedAt;
      const y = b.s.startedAt;
      if (x !== undefined && y !== undefined && x !== y) return x < y ? -1 : 1;
      return x !== undefined && y !== undefined ? a.s.rank - b.s.rank || a.i - b.i : a.i - b.i;
    });
    return steps.map(({ step, s }) => ({ step, tally: (s.pod ?? s.local)! }));
  }

  /**
   * Whether any step may be judged wrong. The judgement gives a verdict on cpu only for tasks long
   * enough to judge, and on memory only against a request: without either every step is ok, and
   * a run's closing notes need not load the judgement at all.
   */
  mayAdvise(): boolean {
    return this.judged().some(({ tally }) => tally.maxCores !== undefined || tally.first.memoryRequestedMiB > 0);
  }
}
