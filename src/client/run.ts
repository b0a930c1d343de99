// Run: one run of a flow (`Flow/RunId`) as its record tells it: status (a run whose runner died is
// killed), times, tags, parameters, its steps and `run.data`, the end step's artifacts. Also
// `step.run`, a Step's link up to its run, defined here because this file makes Steps and
// step.ts must not import it back.
import type { RunMeta, RunStatus } from '../datastore/metadata.js';
import { effectiveStatus, readHeartbeatSync } from '../datastore/liveness.js';
import { NotFoundError } from '../errors.js';
import type { FlowSpec } from '../flow/flowspec.js';
import { ClientObject, linkToParent } from './client-object.js';
import { allTags, predecessorsOf, successorsOf } from './records.js';
import { StepObject } from './step.js';
import type { TaskObject } from './task.js';
import { dataProxy } from './data-proxy.js';
import { sortedTasks } from '../datastore/task-records.js';
import { refuseSnakeCase } from '../flow/metaflow-names.js';
import { checkUserTag } from '../datastore/names.js';

/** The artifact fields of a flow class: everything but methods and FlowSpec's own members. */
export type DataFields<C> = {
  [K in keyof C as K extends keyof FlowSpec ? never : C[K] extends (...a: any[]) => any ? never : K]: C[K];
};
export type RunData<C> = [C] extends [never] ? Record<string, Promise<any>> : { readonly [K in keyof DataFields<C>]: Promise<DataFields<C>[K]> };

export class RunObject<C = never> extends ClientObject {
  readonly id: string;
  private meta: RunMeta;
  // `run.flow`, the link up to the flow, is defined in flow.ts (flow.ts makes Runs)

  constructor(pathspec: string, meta?: RunMeta) {
    super(pathspec, 'run');
    this.id = this.parts.run!;
    this.meta = this.checkNamespace(meta);
  }

  /** running, succeeded, failed — or killed: "running" in its record, but its runner is gone */
  get status(): RunStatus {
    if (this.meta.status !== 'running') return this.meta.status;
    const { store } = this.datastore();
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
  /** a spin run (`flowbook spin`, system tag `spin`): the past task it replayed; never the flow's latest run, nor listed by runs() */
  get spinOf(): string | undefined {
    return this.meta.spinOf;
  }
  get failure(): RunMeta['failure'] {
    return this.meta.failure;
  }

  /** @internal the steps that follow `step` in this run's graph (as recorded when it ran) */
  successorsOf(step: string): string[] | undefined {
    return successorsOf(this.meta, step);
  }

  /** @internal the steps that lead to `step` in this run's graph */
  predecessorsOf(step: string): string[] {
    return predecessorsOf(this.meta, step);
  }

  /** Steps, in the order they first ran. */
  async steps(): Promise<StepObject[]> {
    const { store } = this.datastore();
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
        const done = sortedTasks(this.datastore().store.stepRecordsSync(this.id, 'end')).find((r) => r.done);
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
    const { store, index } = this.datastore();
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
    await this.datastore().index.tagAdded(this.id, tag, this.successful);
  }

  async removeTag(tag: string): Promise<void> {
    await this.retag((t) => t.filter((x) => x !== tag));
  }

  override toString(): string {
    return `Run('${this.pathspec}')`;
  }
}

declare module './step.js' {
  interface StepObject {
    /** The run this step belongs to. */
    readonly run: RunObject;
  }
}
linkToParent(StepObject, 'run', (step) => new RunObject(`${step.flowName}/${step.runId}`));

// Metaflow's names, refused with flowbook's (`run.finished_at` is `finishedAt`)
refuseSnakeCase(RunObject.prototype, 'Run', { flow_name: 'flowName', run_id: 'id', path_spec: 'pathspec', origin_run_id: 'origin' });
