// The scheduler: walks the DAG as tasks finish — linear steps, static branches, foreach (nested
// to any depth), switches and joins — and hands ready tasks to the worker pool within the
// machine's cpu/memory slots. Resume plugs in as a `cloner` that completes a task from an
// earlier run instead of running it.
import type { FlowGraph, GraphNode } from '../flow/graph-types.js';
import type { TaskResult, TaskSpec } from '../compute/task/spec.js';
import { taskKey, type Frame, type TaskPlace } from '../compute/task/placement.js';
import { retryable } from '../compute/task/error-info.js';

/** A task the scheduler has planned: its place in the graph, and which attempt runs next. */
export interface PlannedTask extends TaskPlace {
  attempt: number;
}

export interface SchedulerHooks {
  /** resources the step holds while it runs */
  slotsOf(step: string): { cpu: number; memory: number };
  maxWorkers: number;
  cores: number;
  memoryMiB: number;
  /** run one attempt; resolves when it has finished (ok or not), and frees its slot */
  execute(task: PlannedTask, spec: Omit<TaskSpec, 'worker'>): Promise<TaskResult>;
  /**
   * make the attempt's records durable (group commit); the task's successors are planned only
   * after. A rejection fails the task. Runs after the slot is freed, so workers never wait on it.
   */
  commit?(task: PlannedTask, result: TaskResult): Promise<void>;
  /** the task id to use for a task (resume keeps the id a cloned task had); default: the next number */
  taskIdFor?(step: string, key: string): string | undefined;
  /** the first number the scheduler hands out as a task id */
  firstTaskId?: number;
  /** the same task in another run, when resuming: returns a result without running */
  clone?(task: PlannedTask): Promise<TaskResult | undefined>;
  /** @cache: an earlier task's results (its `cachedFrom` says which), or a failure to key it; undefined runs it */
  fromCache?(task: PlannedTask): Promise<TaskResult | undefined>;
  makeSpec(task: PlannedTask, node: GraphNode): Omit<TaskSpec, 'worker'>;
  retriesOf(step: string): { times: number; minutesBetweenRetries: number };
  onTaskEvent(kind: 'start' | 'done' | 'failed' | 'retry' | 'cloned' | 'cached', task: PlannedTask, result?: TaskResult): void;
}

/**
 * The tasks of one foreach split, not yet made: they are made one by one as they are dispatched,
 * so a 10,000-way foreach holds one entry in the ready queue instead of 10,000 planned tasks. Its
 * task ids were handed out when it was planned (a block, as planning them one by one would).
 */
interface ForeachBatch {
  batch: true;
  step: string;
  /** the split task's pathspec: each task's one input */
  from: string;
  /** the split's frames; task i adds the foreach frame of index i */
  frames: Frame[];
  split: { step: string; taskId: string; field: string };
  firstTaskId: number;
  count: number;
  /** the next index to make */
  next: number;
}

type ReadyEntry = PlannedTask | ForeachBatch;

const isBatch = (e: ReadyEntry): e is ForeachBatch => 'batch' in e;

interface JoinWait {
  step: string;
  frames: Frame[];
  count: number;
  arrived: (string | undefined)[];
  n: number;
}

export class Scheduler {
  private nextTaskId = 1;
  private ready: ReadyEntry[] = [];
  private running = new Set<PlannedTask>();
  private cpuUsed = 0;
  private memUsed = 0;
  private joins = new Map<string, JoinWait>();
  /** tasks that finished and whose records are being made durable */
  private committing = 0;
  private timers = new Set<NodeJS.Timeout>();
  private wake?: () => void;
  failure?: { task: PlannedTask; result: TaskResult };
  endDone = false;
  counts = { done: 0, failed: 0, cloned: 0, retried: 0, cached: 0 };
  /** tasks planned so far (a retry is the same task): the progress line's total */
  planned = 0;

  constructor(
    private graph: FlowGraph,
    private hooks: SchedulerHooks,
  ) {
    this.nextTaskId = hooks.firstTaskId ?? 1;
  }

  get runningCount(): number {
    return this.running.size;
  }

  private plan(step: string, inputs: string[], frames: Frame[], emptyForeach?: string): void {
    const key = taskKey(step, frames);
    const taskId = this.hooks.taskIdFor?.(step, key) ?? String(this.nextTaskId++);
    this.planned++;
    this.ready.push({ step, taskId, inputs, frames, key, attempt: 0, ...(emptyForeach ? { emptyForeach } : {}) });
  }

  /** A foreach's tasks, made as they are dispatched (see ForeachBatch). */
  private planForeach(step: string, from: string, frames: Frame[], split: ForeachBatch['split'], count: number): void {
    this.ready.push({ batch: true, step, from, frames, split, firstTaskId: this.nextTaskId, count, next: 0 });
    this.nextTaskId += count;
    this.planned += count;
  }

  /** Task `next` of a batch, as plan() would have made it. */
  private batchTask(b: ForeachBatch): PlannedTask {
    const frames: Frame[] = [...b.frames, { kind: 'foreach', step: b.split.step, taskId: b.split.taskId, index: b.next, count: b.count, field: b.split.field }];
    return { step: b.step, taskId: String(b.firstTaskId + b.next), inputs: [b.from], frames, key: taskKey(b.step, frames), attempt: 0 };
  }

  /** Run the whole graph; resolves when nothing is left to run or a task failed for good. */
  async run(): Promise<void> {
    this.plan('start', [], []);
    for (;;) {
      this.dispatch();
      if (this.running.size === 0 && this.committing === 0 && this.ready.length === 0 && this.timers.size === 0) return;
      if (this.failure && this.running.size === 0 && this.committing === 0) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  private fits(step: string): boolean {
    const s = this.hooks.slotsOf(step);
    if (this.running.size === 0) return true; // a task bigger than the machine still runs, alone
    return (
      this.running.size < this.hooks.maxWorkers &&
      this.cpuUsed + s.cpu <= this.hooks.cores + 1e-9 &&
      this.memUsed + s.memory <= this.hooks.memoryMiB
    );
  }

  private dispatch(): void {
    if (this.failure) return;
    // first come first served, but a smaller task may pass a big one that does not fit yet
    for (let i = 0; i < this.ready.length && this.running.size < this.hooks.maxWorkers; ) {
      const entry = this.ready[i];
      if (!this.fits(entry.step)) {
        i++;
        continue;
      }
      if (!isBatch(entry)) {
        this.ready.splice(i, 1);
        this.start(entry);
        continue;
      }
      // a batch keeps its place in the queue until its last task is made
      const task = this.batchTask(entry);
      if (++entry.next === entry.count) this.ready.splice(i, 1);
      this.start(task);
    }
  }

  private start(task: PlannedTask): void {
    const s = this.hooks.slotsOf(task.step);
    this.running.add(task);
    this.cpuUsed += s.cpu;
    this.memUsed += s.memory;
    const node = this.graph.nodes[task.step];
    const go = async (): Promise<{ result: TaskResult; cloned: boolean }> => {
      const cloned = task.attempt === 0 && this.hooks.clone ? await this.hooks.clone(task) : undefined;
      if (cloned) return { result: cloned, cloned: true };
      // the lookup happens before the task is handed to where it runs (no pod for a hit)
      const cached = task.attempt === 0 && this.hooks.fromCache ? await this.hooks.fromCache(task) : undefined;
      if (cached) return { result: cached, cloned: false };
      this.hooks.onTaskEvent('start', task);
      return { result: await this.hooks.execute(task, this.hooks.makeSpec(task, node)), cloned: false };
    };
    const internal = (err: any): TaskResult => ({ ok: false, pathspec: task.key, error: { type: err?.name === 'DatastoreError' ? err.name : 'InternalError', message: String(err?.message ?? err), stack: err?.stack } });
    go()
      .catch((err): { result: TaskResult; cloned: boolean } => ({ result: internal(err), cloned: false }))
      .then(async ({ result, cloned }) => {
        // the worker is free: it takes the next task while this one's records become durable
        this.running.delete(task);
        this.cpuUsed -= s.cpu;
        this.memUsed -= s.memory;
        this.committing++;
        this.wake?.();
        try {
          await this.hooks.commit?.(task, result);
        } catch (err) {
          result = internal(err);
          cloned = false;
        } finally {
          this.committing--;
        }
        this.finished(task, node, result, cloned);
        this.wake?.();
      });
  }

  private finished(task: PlannedTask, node: GraphNode, result: TaskResult, cloned: boolean): void {
    if (!result.ok) {
      const retry = this.hooks.retriesOf(task.step);
      // a mistake in the flow's code fails the same way again: never retried
      if (task.attempt < retry.times && !this.failure && retryable(result.error)) {
        this.counts.retried++;
        this.hooks.onTaskEvent('retry', task, result);
        const again = { ...task, attempt: task.attempt + 1 };
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.ready.unshift(again);
          this.wake?.();
        }, retry.minutesBetweenRetries * 60_000);
        this.timers.add(t);
        return;
      }
      this.counts.failed++;
      this.hooks.onTaskEvent('failed', task, result);
      this.failure ??= { task, result };
      this.ready = [];
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      return;
    }
    const kind = cloned ? 'cloned' : result.cachedFrom ? 'cached' : 'done';
    this.counts[kind]++;
    this.hooks.onTaskEvent(kind, task, result);
    if (this.failure) return;
    this.successors(task, node, result);
  }

  private successors(task: PlannedTask, node: GraphNode, result: TaskResult): void {
    const pathspec = result.pathspec;
    if (node.name === 'end' || node.type === 'end') {
      this.endDone = true;
      return;
    }
    const next = result.next ?? node.out;
    // the kind of transition comes from the node's fields, not its type: a join may also split
    if (!node.foreach && !node.condition && node.out.length > 1) {
      next.forEach((step, i) =>
        this.toStep(step, pathspec, [...task.frames, { kind: 'static', step: node.name, taskId: task.taskId, index: i, count: next.length }]),
      );
      return;
    }
    if (node.foreach) {
      const count = result.foreachCount ?? 0;
      const frame = (i: number): Frame => ({ kind: 'foreach', step: node.name, taskId: task.taskId, index: i, count, field: node.foreach });
      if (count === 0) {
        // an empty foreach goes straight to its join, with no inputs; what the foreach step set
        // reaches the join through mergeArtifacts, as if every (absent) item had changed nothing
        const join = node.matchingJoin!;
        this.plan(join, [], task.frames, pathspec);
        return;
      }
      // (without the ids of a resume: those are the origin's, asked task by task as they are planned)
      if (!this.graph.nodes[next[0]].isJoin && !this.hooks.taskIdFor) {
        this.planForeach(next[0], pathspec, task.frames, { step: node.name, taskId: task.taskId, field: node.foreach }, count);
        return;
      }
      for (let i = 0; i < count; i++) this.toStep(next[0], pathspec, [...task.frames, frame(i)]);
      return;
    }
    for (const step of next) this.toStep(step, pathspec, task.frames);
  }

  /** Move one task's output to `step`: directly, or into the join that closes its innermost split. */
  private toStep(step: string, from: string, frames: Frame[]): void {
    const target = this.graph.nodes[step];
    if (!target.isJoin) {
      this.plan(step, [from], frames);
      return;
    }
    const top = frames[frames.length - 1];
    const outer = frames.slice(0, -1);
    const id = `${step}|${taskKey('', outer)}|${top.step}:${top.taskId}`;
    let wait = this.joins.get(id);
    if (!wait) this.joins.set(id, (wait = { step, frames: outer, count: top.count, arrived: new Array(top.count), n: 0 }));
    wait.arrived[top.index] = from;
    wait.n++;
    if (wait.n === wait.count) {
      this.joins.delete(id);
      this.plan(step, wait.arrived as string[], outer);
    }
  }

  /** Stop: drop what has not started (running tasks are killed by the caller). */
  abort(): void {
    this.ready = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
