// Flow and Run: lookups through the index files (never a scan of all runs), namespaces as in
// Metaflow, and a run's data, steps and tags.
import type { RunMeta, RunStatus } from '../datastore/metadata.js';
import { effectiveStatus, readHeartbeatSync } from '../datastore/liveness.js';
import { NotFoundError } from '../errors.js';
import type { FlowSpec } from '../flow/flowspec.js';
import { getNamespace, storeFor } from './context.js';
import { parsePathspec } from './pathspec.js';
import { StepObject, TaskObject, dataProxy } from './task.js';
import { sortedTasks } from '../datastore/task-records.js';
import { rowsToDataFrame } from './dataframe.js';
import { checkFlowExists } from './flows.js';
import { runsFilter, type RunsFilter } from './runs-filter.js';
import { refuseSnakeCase } from './metaflow-names.js';
import { displayable } from '../notebook/display.js';
import { checkUserTag } from '../datastore/names.js';

/** The artifact fields of a flow class: everything but methods and FlowSpec's own members. */
export type DataFields<C> = {
  [K in keyof C as K extends keyof FlowSpec ? never : C[K] extends (...a: any[]) => any ? never : K]: C[K];
};
export type RunData<C> = [C] extends [never] ? Record<string, Promise<any>> : { readonly [K in keyof DataFields<C>]: Promise<DataFields<C>[K]> };

function readRunSync(flowName: string, runId: string): RunMeta {
  const { store } = storeFor(flowName);
  try {
    const key = `${store.runKey(runId)}/run.json`;
    return store.parseMetadata<RunMeta>(key, store.backend.getSync(key));
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`run not found: ${flowName}/${runId} in datastore ${store.backend.location}`, { cause: err, pathspec: `${flowName}/${runId}` });
    throw err;
  }
}

const allTags = (m: RunMeta) => [...m.systemTags, ...m.tags];

/** Runs outside the current namespace are invisible, as in Metaflow. */
export function checkInNamespace(flowName: string, runId: string, meta?: RunMeta): RunMeta {
  const m = meta ?? readRunSync(flowName, runId);
  const ns = getNamespace();
  if (ns !== null && !allTags(m).includes(ns)) {
    throw new NotFoundError(`run ${flowName}/${runId} is not in namespace ${ns}; namespace(null) sees every run`, { pathspec: `${flowName}/${runId}` });
  }
  return m;
}

export class RunObject<C = never> {
  readonly flowName: string;
  readonly id: string;
  readonly pathspec: string;
  private meta: RunMeta;

  constructor(pathspec: string, meta?: RunMeta) {
    const p = parsePathspec(pathspec, 'run');
    this.flowName = p.flow;
    this.id = p.run!;
    this.pathspec = `${p.flow}/${p.run}`;
    this.meta = checkInNamespace(p.flow, p.run!, meta);
  }

  /** running, succeeded, failed — or killed: "running" in its record, but its runner is gone */
  get status(): RunStatus {
    if (this.meta.status !== 'running') return this.meta.status;
    const { store } = storeFor(this.flowName);
    return effectiveStatus(this.meta, readHeartbeatSync(store.backend, store.runKey(this.id)));
  }
  get successful(): boolean {
    return this.meta.status === 'succeeded';
  }
  /** it ended (succeeded or failed); a killed run never finished */
  get finished(): boolean {
    return this.meta.status !== 'running';
  }
  get createdAt(): Date {
    return new Date(this.meta.createdAt);
  }
  get finishedAt(): Date | undefined {
    return this.meta.finishedAt ? new Date(this.meta.finishedAt) : undefined;
  }
  get durationSeconds(): number | undefined {
    return this.meta.finishedAt ? (Date.parse(this.meta.finishedAt) - Date.parse(this.meta.createdAt)) / 1000 : undefined;
  }
  get tags(): string[] {
    return allTags(this.meta);
  }
  get userTags(): string[] {
    return [...this.meta.tags];
  }
  get systemTags(): string[] {
    return [...this.meta.systemTags];
  }
  get params(): Record<string, unknown> {
    return { ...this.meta.params };
  }
  get user(): string {
    return this.meta.user;
  }
  /** the run this one resumed */
  get origin(): string | undefined {
    return this.meta.originRunId;
  }
  get failure(): RunMeta['failure'] {
    return this.meta.failure;
  }

  /** The flow this run belongs to. */
  get flow(): FlowObject<C> {
    return new FlowObject<C>(this.flowName);
  }

  /** @internal the steps that follow `step` in this run's graph (as recorded when it ran) */
  successorsOf(step: string): string[] | undefined {
    return this.meta.graph?.nodes[step]?.out;
  }

  /** @internal the steps that lead to `step` in this run's graph */
  predecessorsOf(step: string): string[] {
    return Object.entries(this.meta.graph?.nodes ?? {})
      .filter(([, n]) => n.out.includes(step))
      .map(([name]) => name);
  }

  /** Steps, in the order they first ran. */
  async steps(): Promise<StepObject[]> {
    const { store } = storeFor(this.flowName);
    const names = await store.listSteps(this.id);
    const first = await Promise.all(names.map(async (n) => Number((await store.listTasks(this.id, n))[0] ?? Infinity)));
    return names
      .map((n, i) => ({ n, t: first[i] }))
      .sort((a, b) => a.t - b.t)
      .map(({ n }) => new StepObject(`${this.pathspec}/${n}`));
  }

  step(name: string): StepObject {
    return new StepObject(`${this.pathspec}/${name}`);
  }

  /** The `end` task, whose artifacts are the run's data. */
  get endTask(): Promise<TaskObject | undefined> {
    return this.step('end')
      .tasks()
      .then((t) => t.find((x) => x.successful))
      .catch((err) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
  }

  /** `await run.data.results`: the end step's artifact, loaded on its own. */
  get data(): RunData<C> {
    const self = this;
    let end: { taskId: string; names: string[] } | null | undefined;
    // the names of a finished run's data are its end task's, read once (one small journal read)
    const endNames = () => {
      if (end === undefined) {
        const done = sortedTasks(storeFor(this.flowName).store.stepRecordsSync(this.id, 'end')).find((r) => r.done);
        end = done ? { taskId: done.taskId, names: Object.keys(done.done!.artifacts) } : null;
      }
      return end ?? undefined;
    };
    return dataProxy<RunData<C>>({
      get label() {
        return self.pathspec + (endNames() ? `/end/${endNames()!.taskId}` : ' (no finished end step)');
      },
      names: () => endNames()?.names,
      load: async (name) => {
        const task = await this.endTask;
        if (!task) throw new NotFoundError(`run ${this.pathspec} has no finished end step, so no data; look at its steps' tasks`, { pathspec: this.pathspec });
        return (await task.artifact(name)).data();
      },
    });
  }

  private async retag(change: (tags: string[]) => string[]): Promise<void> {
    const { store, index } = storeFor(this.flowName);
    await store.backend.withLock(`${store.runKey(this.id)}/run.json`, async () => {
      const meta = await store.readRun(this.id);
      meta.tags = [...new Set(change(meta.tags))];
      await store.writeRun(meta);
      this.meta = meta;
    });
    void index;
  }

  async addTag(tag: string): Promise<void> {
    checkUserTag(tag);
    await this.retag((t) => [...t, tag]);
    await storeFor(this.flowName).index.tagAdded(this.id, tag, this.successful);
  }

  async removeTag(tag: string): Promise<void> {
    await this.retag((t) => t.filter((x) => x !== tag));
  }

  toString(): string {
    return `Run('${this.pathspec}')`;
  }
}

export class FlowObject<C = never> {
  constructor(readonly name: string) {
    parsePathspec(name, 'flow');
  }
  get pathspec(): string {
    return this.name;
  }

  private async byId(id: string | undefined): Promise<RunObject<C> | undefined> {
    // nothing found: a flow with no runs (in this namespace) gives undefined, a wrong name throws
    if (id === undefined) await checkFlowExists(this.name);
    return id === undefined ? undefined : new RunObject<C>(`${this.name}/${id}`);
  }

  /** The newest run in the current namespace (running, failed or not). */
  get latestRun(): Promise<RunObject<C> | undefined> {
    return storeFor(this.name).index.latest(getNamespace()).then((id) => this.byId(id));
  }

  /** The newest successful run in the current namespace: one small index file read. */
  get latestSuccessfulRun(): Promise<RunObject<C> | undefined> {
    return storeFor(this.name).index.latestSuccessful(getNamespace()).then((id) => this.byId(id));
  }

  async run(id: string): Promise<RunObject<C>> {
    try {
      return new RunObject<C>(`${this.name}/${id}`);
    } catch (err) {
      if (err instanceof NotFoundError) await checkFlowExists(this.name, `run not found: ${this.name}/${id}: `);
      throw err;
    }
  }

  /**
   * Runs in the namespace carrying every tag given (and with that status, if given), newest first:
   * `runs('exp1', 'best')` as in Metaflow, `runs({ tags: ['exp1'], status: 'succeeded' })`, or both.
   */
  async runs(...filter: (string | RunsFilter)[]): Promise<RunObject<C>[]> {
    const opts = runsFilter(`${this}.runs()`, filter);
    const { index } = storeFor(this.name);
    let ids = await index.runs(getNamespace());
    if (!ids.length) await checkFlowExists(this.name);
    for (const tag of opts.tags) {
      const tagged = new Set(await index.runs(tag));
      ids = ids.filter((id) => tagged.has(id));
    }
    const runs: RunObject<C>[] = [];
    for (const id of ids) {
      const run = new RunObject<C>(`${this.name}/${id}`);
      // addTag/removeTag can change tags after the tag index was appended to
      if (opts.tags.every((t) => run.tags.includes(t)) && (!opts.status || run.status === opts.status)) runs.push(run);
    }
    return runs;
  }

  toString(): string {
    return `Flow('${this.name}')`;
  }

  /** A danfo DataFrame, a row per run: id, status, timing, tags and one column per parameter. */
  async runsTable(...filter: (string | RunsFilter)[]): Promise<any> {
    const runs = await this.runs(...filter);
    const rows = runs.map((r) => ({
      id: r.id,
      status: r.status,
      successful: r.successful,
      createdAt: r.createdAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
      durationSeconds: r.durationSeconds ?? null,
      tags: r.userTags.join(','),
      ...Object.fromEntries(Object.entries(r.params).map(([k, v]) => [`param_${k}`, v])),
    }));
    return displayable(await rowsToDataFrame(rows));
  }
}

// Metaflow's names, refused with flowbook's (`run.finished_at` is `finishedAt`)
refuseSnakeCase(FlowObject.prototype, 'Flow', { path_spec: 'pathspec' });
refuseSnakeCase(RunObject.prototype, 'Run', { flow_name: 'flowName', run_id: 'id', path_spec: 'pathspec', origin_run_id: 'origin' });
