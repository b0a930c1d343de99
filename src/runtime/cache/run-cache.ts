// @cache in a run: before a task of a cached step is handed to its executor (a local worker or a
// pod — the lookup is here, in the runner, so no pod is submitted for a hit and compute/ knows
// nothing of it), its key is computed (task-key.ts) and looked up in the datastore's cache index
// (one read of one small object, whatever the number of earlier runs). A hit completes the task
// like a resume clone: a DONE record referencing the earlier task's artifacts (blobs are shared,
// never copied), with `cachedFrom` and `origin` naming the task that ran. A miss runs; when it
// succeeds uncaught, its DONE record — once durable in its step's journal — becomes the entry for
// its key. Failed tasks and tasks whose error @catchErrors caught never become entries.
//
// The @cache key function runs here too, on a flow instance built as the task's would be (lazy
// inputs, this.input): in the runner rather than in the task, because a hit must be known before a
// pod is asked for — a pod that started only to learn it was not needed costs its scheduling.
import type { FlowGraph } from '../../flow/graph-types.js';
import type { LoadedFlow } from '../../flow/load.js';
import type { FlowDatastore } from '../../datastore/store.js';
import type { RunMeta, TaskDone } from '../../datastore/metadata.js';
import type { JournalEntry } from '../../datastore/task-records.js';
import { CacheIndex } from '../../datastore/cache-index.js';
import { FlowUsageError } from '../../errors.js';
import { cachedSteps } from '../../flow/decorators.js';
import { foreachStack, taskKey as placeKey, type Frame } from '../../compute/task/placement.js';
import { TaskArtifacts } from '../../compute/task/artifacts.js';
import { flowInstance } from '../../compute/task/instance.js';
import { errorInfo } from '../../compute/task/error-info.js';
import type { TaskResult } from '../../compute/task/spec.js';
import type { PlannedTask } from '../scheduler.js';
import { codeIdentities, type StepIdentity } from './code-identity.js';
import { taskKey, valueSha } from './task-key.js';
import { hitArtifacts } from './hit-artifacts.js';

interface ForeachList {
  list: unknown[];
  shas: (string | undefined)[];
}

export interface RunCacheOptions {
  graph: FlowGraph;
  /** the flow with --with's decorators (`--with cache` caches every step) */
  flow: LoadedFlow;
  store: FlowDatastore;
  run: RunMeta;
  /** the run's parameter values (secrets included: a key function may need them, no key holds them) */
  params: Record<string, unknown>;
  /** the same without secrets, as cards show them */
  storedParams: Record<string, unknown>;
  /** steps that run again and refresh their entries (`--recompute`) */
  recompute: Set<string>;
  /** a note for the run's console (a step that cannot be cached, an entry that could not be written) */
  note: (line: string) => void;
}


export class RunCache {
  private index: CacheIndex;
  private identities?: Promise<Map<string, StepIdentity>>;
  /** the key of each task that missed, to write when it succeeds (by step/taskId) */
  private keys = new Map<string, string>();
  /**
   * DONE records committed in this run that a cached step's task will read as its input, by
   * pathspec, with how many such tasks have yet to finish: kept only until the last of them has
   * (a join reads its inputs from the store, so nothing is kept for it per foreach task).
   */
  private dones = new Map<string, { done: TaskDone; readers: number }>();
  /**
   * A foreach's list and the shas of its items, read once for all its tasks, by split task and
   * field; dropped when the split's join has run (`split`: the split task's key).
   */
  private lists = new Map<string, { list: Promise<ForeachList>; split: string }>();
  private noted = new Set<string>();
  private writes = new Set<Promise<void>>();
  readonly steps: Set<string>;

  constructor(private o: RunCacheOptions) {
    this.index = new CacheIndex(o.store.backend, o.graph.flowName);
    this.steps = new Set(cachedSteps(o.flow));
  }

  private identity(step: string): Promise<StepIdentity> {
    // the compiler and esbuild run once per run, for every cached step at once
    this.identities ??= codeIdentities(this.o.flow.file, this.o.graph.flowName, this.o.graph.order, [...this.steps]);
    return this.identities.then((m) => m.get(step)!);
  }

  private async doneOf(pathspec: string): Promise<TaskDone> {
    const hit = this.dones.get(pathspec);
    if (hit) return hit.done;
    return (await TaskArtifacts.open(this.o.store, pathspec)).done;
  }

  /** How many tasks of cached steps will read this task's DONE record as their input (the scheduler plans them so). */
  private readersOf(task: PlannedTask, result: TaskResult): number {
    const node = this.o.graph.nodes[task.step];
    const next = result.next ?? node.out;
    // a join's inputs are read from the store: one task's record waits for no join
    const reads = (step: string) => this.steps.has(step) && !this.o.graph.nodes[step].isJoin;
    if (node.foreach) return result.foreachCount && reads(next[0]) ? result.foreachCount : 0;
    return next.filter(reads).length;
  }

  /** `task` has finished: the records it read as inputs are one reader fewer. */
  private release(task: PlannedTask): void {
    for (const p of task.inputs) {
      const d = this.dones.get(p);
      if (d && --d.readers <= 0) this.dones.delete(p);
    }
  }

  /** The list of the innermost foreach `frame` of `task` (`frames`: the task's). */
  private list(frame: Frame, frames: Frame[]): Promise<ForeachList> {
    const ps = `${this.o.graph.flowName}/${this.o.run.runId}/${frame.step}/${frame.taskId}`;
    const id = `${ps}\0${frame.field}`;
    let e = this.lists.get(id);
    if (!e) {
      const list = this.doneOf(ps).then(async (done) => {
        const list = (await this.o.store.getArtifact(frame.field!, done.artifacts[frame.field!])) as unknown[];
        return { list, shas: new Array(list.length) };
      });
      // the split task sits where its foreach's tasks sit, less their foreach frame (as does its join)
      const at = frames.findIndex((f) => f.kind === 'foreach' && f.step === frame.step && f.taskId === frame.taskId);
      this.lists.set(id, (e = { list, split: placeKey(frame.step, frames.slice(0, at < 0 ? frames.length : at)) }));
      list.catch(() => this.lists.delete(id));
    }
    return e.list;
  }

  /** A join has run: the lists of the foreach splits it closes are read no more. */
  private joined(task: PlannedTask): void {
    const splits = Object.values(this.o.graph.nodes).filter((n) => n.foreach && n.matchingJoin === task.step);
    if (!splits.length) return;
    const keys = new Set(splits.map((n) => placeKey(n.name, task.frames)));
    for (const [id, e] of this.lists) if (keys.has(e.split)) this.lists.delete(id);
  }

  private async itemSha(frame: Frame, frames: Frame[]): Promise<string> {
    const l = await this.list(frame, frames);
    return (l.shas[frame.index] ??= valueSha(l.list[frame.index], `item ${frame.index} of '${frame.field}'`));
  }

  private noteOnce(step: string, line: string): void {
    if (this.noted.has(step)) return;
    this.noted.add(step);
    this.o.note(line);
  }

  /** The key function's value, on an instance as the task would see it. */
  private async extra(task: PlannedTask, inputs: TaskDone[]): Promise<{ value: unknown } | undefined> {
    const keyFn = this.o.flow.steps.get(task.step)?.cache?.key;
    if (!keyFn) return undefined;
    const node = this.o.graph.nodes[task.step];
    const place = { flowName: this.o.graph.flowName, runId: this.o.run.runId, step: task.step, params: this.o.params, isJoin: node.isJoin, foreachStack: foreachStack(task.frames) };
    const sources = inputs.map((d) => new TaskArtifacts(this.o.store, d));
    const { inst } = await flowInstance(this.o.flow, place, sources, this.o.store, async (f) => (await this.list({ kind: 'foreach', ...f }, task.frames)).list);
    try {
      return { value: await keyFn.call(inst, inst) };
    } catch (err: any) {
      throw new FlowUsageError(`the @cache key function of step '${task.step}' threw: ${err?.message ?? err}`, { cause: err });
    }
  }

  /**
   * A result without running: a hit, or a failed task when its key function threw. Undefined:
   * run it (a miss, a step without @cache, a step --recompute names, a task that cannot be keyed).
   */
  async lookup(task: PlannedTask): Promise<TaskResult | undefined> {
    if (!this.steps.has(task.step)) return undefined;
    const startedAt = new Date().toISOString();
    const pathspec = `${this.o.graph.flowName}/${this.o.run.runId}/${task.step}/${task.taskId}`;
    const node = this.o.graph.nodes[task.step];
    let key: string;
    let identity: StepIdentity;
    let inputs: TaskDone[];
    try {
      identity = await this.identity(task.step);
      inputs = await Promise.all(task.inputs.map((p) => this.doneOf(p)));
      const emptyForeach = task.emptyForeach ? await this.doneOf(task.emptyForeach) : undefined;
      // a join read its inputs' records from the store: this process keeps none of them after
      if (node.isJoin) for (const step of new Set([...task.inputs, task.emptyForeach ?? ''].filter(Boolean).map((p) => p.split('/')[2]))) this.o.store.forgetStepRecords(this.o.run.runId, step);
      const inner = task.frames.filter((f) => f.kind === 'foreach').at(-1);
      const k = taskKey({
        flow: this.o.flow,
        node,
        identity,
        params: this.o.params,
        inputs,
        emptyForeach,
        frames: task.frames,
        itemSha: inner ? await this.itemSha(inner, task.frames) : undefined,
        extra: await this.extra(task, inputs),
      });
      if ('none' in k) {
        this.noteOnce(task.step, `note: step ${task.step} is not cached: ${k.none}`);
        return undefined;
      }
      key = k.key;
    } catch (err) {
      // a key that cannot be computed fails the task with one clear line; nothing runs on a guess
      const error = errorInfo(err);
      const records: JournalEntry[] = [{ kind: 'attempt', taskId: task.taskId, attempt: { pathspec, attempt: 0, status: 'failed', startedAt, finishedAt: new Date().toISOString(), error } }];
      return { ok: false, pathspec, error, records };
    }
    this.keys.set(`${task.step}/${task.taskId}`, key);
    if (this.o.recompute.has(task.step)) return undefined;
    const entry = await this.index.get(task.step, key);
    if (!entry) return undefined;
    const src = entry.done;
    const now = new Date().toISOString();
    // like a resume clone: artifacts by reference (what the step set from the task that ran, what it
    // passed on from this task's inputs: hit-artifacts.ts); its times and resources are not this
    // task's (it did not run), so neither is copied
    const { resources: _resources, ...rest } = src;
    const artifacts = await hitArtifacts({ node, identity, flow: this.o.flow, store: this.o.store, inputs, ran: src, params: this.o.params });
    const done: TaskDone = {
      ...rest,
      artifacts,
      pathspec,
      taskId: task.taskId,
      attempt: 0,
      inputs: task.inputs,
      foreachStack: foreachStack(task.frames),
      key: task.key,
      startedAt,
      finishedAt: now,
      origin: src.origin ?? entry.pathspec,
      cachedFrom: entry.pathspec,
    };
    this.keys.delete(`${task.step}/${task.taskId}`);
    return { ok: true, pathspec, next: src.next, foreachCount: src.foreachCount, cachedFrom: entry.pathspec, records: [{ kind: 'done', taskId: task.taskId, done }] };
  }

  /**
   * A task's records are durable: remember its DONE record (its successors' keys read it) and,
   * for a task of a cached step that ran and succeeded uncaught, write its cache entry. The write
   * does not hold up the task's successors; flush() waits for every write.
   */
  committed(task: PlannedTask, result: TaskResult, records: JournalEntry[] | undefined): void {
    const done = records?.find((r): r is Extract<JournalEntry, { kind: 'done' }> => r.kind === 'done')?.done;
    // its inputs were read when its first attempt was looked up (every task's first attempt commits once)
    if (task.attempt === 0) this.release(task);
    if (this.o.graph.nodes[task.step].isJoin) this.joined(task);
    const readers = done && result.ok ? this.readersOf(task, result) : 0;
    if (done && readers) this.dones.set(done.pathspec, { done, readers });
    if (done && result.cachedFrom) this.track(this.defaultCards(done));
    const id = `${task.step}/${task.taskId}`;
    const key = this.keys.get(id);
    if (!key || !done) return;
    this.keys.delete(id);
    if (!result.ok || result.caught || done.caught || result.cachedFrom) return;
    this.track(this.index.put(task.step, key, done).catch((err) => this.noteOnce(`write:${task.step}`, `note: step ${task.step}: a cache entry could not be written (${err?.message ?? err}); the task's results are kept, only a later reuse is lost`)));
  }

  private track(w: Promise<void>): void {
    this.writes.add(w);
    void w.finally(() => this.writes.delete(w));
  }

  /**
   * A hit's default cards (`@card`, `@card({ type: 'default' })`), rendered here from its DONE
   * record so they say it is cached and from where; the cards the step drew itself are the ran
   * task's (the client lists them with this task's). The card modules load only for such a hit.
   */
  private async defaultCards(done: TaskDone): Promise<void> {
    const all = this.o.flow.steps.get(done.step)?.cards ?? [];
    if (!all.some((c) => (c.type ?? 'default') === 'default')) return;
    const [{ CardCollector }, { renderTaskCards, cardName }] = await Promise.all([import('../../cards/collector.js'), import('../../cards/render.js')]);
    // each keeps the name it has among all the step's cards (`default-1` stays `default-1`)
    const specs = all.map((c, i) => ({ ...c, id: cardName(c, i) })).filter((c) => (c.type ?? 'default') === 'default');
    await renderTaskCards(this.o.store, done, new CardCollector(specs), this.o.storedParams, this.o.flow.file).catch((e) => this.o.note(`${done.pathspec}: cards not rendered: ${e?.message ?? e}`));
  }

  /** Every cache entry written so far is in the datastore. */
  async flush(): Promise<void> {
    while (this.writes.size) await Promise.all([...this.writes]);
  }
}
