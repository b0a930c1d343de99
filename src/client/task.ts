// Task: one task of a step (`Flow/RunId/step/taskId`) as its journal record tells it: whether it
// finished, its artifacts, logs, attempts, metadata and the tasks before and after it. Also how
// the client makes Tasks in bulk from one journal read per step (a step's listing, a task's
// parents), which Step uses too: they live here so that task.ts needs nothing above it.
import type { ArtifactRef, AttemptMeta, ErrorInfo, ForeachFrame, ResourceUse, TaskDone } from '../datastore/metadata.js';
import { FlowUsageError, IntegrityError, NotFoundError } from '../errors.js';
import { sortedTasks, type TaskRecord } from '../datastore/task-records.js';
import { storeFor } from './context.js';
import { parsePathspec } from './pathspec.js';
import { ClientObject } from './client-object.js';
import { predecessorsOf, readTaskRecord, successorsOf } from './records.js';
import { DataArtifactObject, artifactRef } from './data-artifact.js';
import { dataProxy } from './data-proxy.js';
import { suggestions } from './flow-names.js';
import { refuseSnakeCase } from '../flow/metaflow-names.js';

export class TaskObject extends ClientObject {
  readonly runId: string;
  readonly stepName: string;
  readonly id: string;
  private record: TaskRecord;
  // `task.step`, the link up to the step, is defined in step.ts (step.ts makes Tasks)

  /** `record`: given by a step's listing, which has read it with the rest of the step (and checked the namespace) */
  constructor(pathspec: string, record?: TaskRecord) {
    super(pathspec, 'task');
    const p = this.parts;
    this.runId = p.run!;
    this.stepName = p.step!;
    this.id = p.task!;
    this.record = record ?? readTaskRecord(this.flowName, this.runId, this.stepName, this.id);
  }

  /**
   * The tasks whose artifacts this one read (its DONE record's inputs): one for a linear step or a
   * foreach branch, one per branch for a join (in the order `inputs` had), none for `start`. Each
   * input step's journal is read once. A task that did not finish recorded no inputs: its parents
   * are then the tasks of the steps before it in the graph when each of those has a single task
   * (a branch of a foreach done in `start`), and otherwise cannot be told (a NotFoundError).
   */
  get parentTasks(): Promise<TaskObject[]> {
    const done = this.done;
    if (done) return tasksAt(this.flowName, this.runId, done.inputs);
    return (async () => {
      const before = predecessorsOf(this.checkNamespace(), this.stepName);
      const tasks = await Promise.all(before.map((s) => stepTasks(this.flowName, this.runId, s).then((t) => t.filter((x) => x.successful))));
      if (tasks.every((t) => t.length === 1)) return tasks.flat();
      throw new NotFoundError(`task ${this.pathspec} did not finish, so it recorded no inputs, and steps ${before.join(', ')} before it have several tasks`, { pathspec: this.pathspec });
    })();
  }

  /** The one task this one read from; for a join (several inputs) use `parentTasks`. */
  get parent(): Promise<TaskObject | undefined> {
    return this.parentTasks.then((ps) => {
      if (ps.length > 1) throw new FlowUsageError(`task ${this.pathspec} is a join of ${ps.length} tasks: use task.parentTasks`);
      return ps[0];
    });
  }

  /**
   * The finished tasks that read this one: the tasks of the steps after this one in the run's
   * graph whose inputs include it (each such step's journal is read once). Empty for `end`.
   */
  get childTasks(): Promise<TaskObject[]> {
    return (async () => {
      const next = successorsOf(this.checkNamespace(), this.stepName) ?? this.done?.next ?? [];
      const { store } = this.datastore();
      const children: TaskObject[] = [];
      for (const step of next) {
        const records = await store.stepRecords(this.runId, step);
        for (const rec of sortedTasks(records)) {
          if (rec.done?.inputs.includes(this.pathspec)) children.push(new TaskObject(`${this.flowName}/${this.runId}/${step}/${rec.taskId}`, rec));
        }
      }
      // a foreach's branches in the order of the list iterated over (resume can give them other ids)
      const byStep = new Map(next.map((s, i) => [s, i]));
      return children.sort((a, b) => byStep.get(a.stepName)! - byStep.get(b.stepName)! || (a.index ?? 0) - (b.index ?? 0) || Number(a.id) - Number(b.id));
    })();
  }

  /** the DONE record (its journal line is parsed on first use) */
  private get done(): TaskDone | undefined {
    return this.record.done;
  }

  /** DONE: the task's artifacts are complete and committed. */
  get successful(): boolean {
    return !!this.done;
  }
  get finished(): boolean {
    return !!this.done;
  }
  /** index in the innermost foreach, or undefined outside a foreach */
  get index(): number | undefined {
    return this.done?.foreachStack.at(-1)?.index;
  }
  get foreachStack(): ForeachFrame[] {
    return this.done?.foreachStack ?? [];
  }
  /** the task this one was cloned from by resume, or whose results @cache reused (the task that ran) */
  get origin(): string | undefined {
    return this.done?.origin;
  }
  /** @cache: the earlier task whose results this one reuses (it did not run); undefined for a task that ran */
  get cachedFrom(): string | undefined {
    return this.done?.cachedFrom;
  }
  get resources(): ResourceUse | undefined {
    return this.done?.resources;
  }

  /** `await task.data.name`; `Object.keys(task.data)`: the artifact names */
  get data(): Record<string, Promise<any>> {
    return dataProxy({
      label: this.done ? this.pathspec : `${this.pathspec} (did not finish)`,
      names: () => (this.done ? Object.keys(this.done.artifacts) : undefined),
      load: (name) => this.artifact(name).then((a) => a.data()),
    });
  }

  get artifacts(): Promise<DataArtifactObject[]> {
    return Promise.resolve(Object.entries(this.refs()).map(([n, ref]) => new DataArtifactObject(`${this.pathspec}/${n}`, ref)));
  }

  /** @internal the stored references of the task's artifacts, by name */
  refs(): Record<string, ArtifactRef> {
    return this.done?.artifacts ?? {};
  }

  async artifact(name: string): Promise<DataArtifactObject> {
    return new DataArtifactObject(`${this.pathspec}/${name}`, this.ref(name));
  }

  /** @internal the stored reference of an artifact, or the error saying why there is none */
  ref(name: string): ArtifactRef {
    return artifactRef(this.record, this.pathspec, name);
  }

  /** The task's cards (rendered HTML files beside the task). */
  get cards(): Promise<{ id: string; path: string; html(): Promise<string> }[]> {
    const own = this.ownCards();
    const from = this.done?.cachedFrom;
    if (!from) return own;
    // @cache: the cards a step drew are results of the task that ran; this task's own (its
    // default card, which says it is cached) come first, the ran task's others after
    return Promise.all([own, new TaskObject(from).ownCards().catch(() => [])]).then(([mine, theirs]) => [...mine, ...theirs.filter((c) => !mine.some((m) => m.id === c.id))]);
  }

  private ownCards(): Promise<{ id: string; path: string; html(): Promise<string> }[]> {
    const { store } = this.datastore();
    const dir = `${store.taskKey(this.runId, this.stepName, this.id)}/cards`;
    return store.backend.list(dir).then((names) =>
      names
        .filter((n) => n.endsWith('.html'))
        .sort()
        .map((n) => ({
          id: n.slice(0, -5),
          path: store.displayPath(`${dir}/${n}`),
          html: async () => (await store.backend.get(`${dir}/${n}`)).toString('utf8'),
        })),
    );
  }

  get attempts(): Promise<AttemptMeta[]> {
    return Promise.resolve([...this.record.attempts]);
  }

  /** One attempt's output (0-based, as `attempts`; default: the last attempt, as `stdout`/`stderr`). */
  async log(stream: 'stdout' | 'stderr', attempt?: number): Promise<string> {
    // a task cloned by resume printed where it ran
    if (this.done?.origin) return new TaskObject(this.done.origin).log(stream, attempt).catch(() => '');
    const last = attempt ?? this.done?.attempt ?? this.record.attempts.at(-1)?.attempt ?? 0;
    const inline = this.record.logs?.[last]?.[stream];
    if (inline !== undefined) return inline;
    return this.datastore().store.readLog(this.runId, this.stepName, this.id, last, stream);
  }
  get stdout(): Promise<string> {
    return this.log('stdout');
  }
  get stderr(): Promise<string> {
    return this.log('stderr');
  }

  /** the error @catchErrors caught, or the last failed attempt's */
  get exception(): Promise<ErrorInfo | undefined> {
    if (this.done?.caught) return Promise.resolve(this.done.caught);
    return this.attempts.then((a) => a.at(-1)?.error);
  }

  get metadata(): Promise<{
    attempts: AttemptMeta[];
    resources?: ResourceUse;
    origin?: string;
    cachedFrom?: string;
    inputs: string[];
    caught?: ErrorInfo;
    startedAt?: string;
    finishedAt?: string;
    key?: string;
  }> {
    return this.attempts.then((attempts) => ({
      attempts,
      resources: this.done?.resources ?? attempts.at(-1)?.resources,
      origin: this.done?.origin,
      cachedFrom: this.done?.cachedFrom,
      inputs: this.done?.inputs ?? [],
      caught: this.done?.caught,
      startedAt: this.done?.startedAt ?? attempts[0]?.startedAt,
      finishedAt: this.done?.finishedAt ?? attempts.at(-1)?.finishedAt,
      key: this.done?.key,
    }));
  }
}

/** Tasks from their pathspecs (all in one run), reading each step's journal once, in the order given. */
async function tasksAt(flowName: string, runId: string, pathspecs: string[]): Promise<TaskObject[]> {
  const { store } = storeFor(flowName);
  const parsed = pathspecs.map((p) => parsePathspec(p, 'task'));
  const steps = new Map<string, ReturnType<typeof store.stepRecords>>();
  for (const p of parsed) {
    if (p.flow !== flowName || p.run !== runId) throw new IntegrityError(`input ${p.flow}/${p.run}/${p.step}/${p.task} is not in run ${flowName}/${runId}`);
    if (!steps.has(p.step!)) steps.set(p.step!, store.stepRecords(runId, p.step!));
  }
  return Promise.all(
    parsed.map(async (p) => {
      const rec = (await steps.get(p.step!)!).tasks.get(p.task!);
      const pathspec = `${flowName}/${runId}/${p.step}/${p.task}`;
      if (!rec) throw new NotFoundError(`task not found: ${pathspec}`, { pathspec });
      return new TaskObject(pathspec, rec);
    }),
  );
}

/**
 * A step's tasks in task-id order: one read of the step's journal, however many tasks it has.
 * A step that is not there is not found, with the closest of the run's step names.
 */
export async function stepTasks(flowName: string, runId: string, stepName: string): Promise<TaskObject[]> {
  const { store } = storeFor(flowName);
  const pathspec = `${flowName}/${runId}/${stepName}`;
  // (a damaged record shows when its task is used: its data says why, naming file and line;
  // `flowbook verify` lists them all)
  const records = await store.stepRecords(runId, stepName);
  // a step whose only batch was cut short by a crash exists, with no task
  if (!records.tasks.size && !(await store.backend.exists(store.stepKey(runId, stepName)))) {
    const names = await store.listSteps(runId);
    const close = suggestions(stepName, names);
    throw new NotFoundError(`step not found: ${pathspec}${close.length ? ` (did you mean '${close[0]}'?)` : ''}; the run's steps: ${names.join(', ') || 'none yet'}`, { pathspec });
  }
  return sortedTasks(records).map((rec) => new TaskObject(`${pathspec}/${rec.taskId}`, rec));
}

// Metaflow's names, refused with flowbook's (`task.parent_tasks` is `parentTasks`)
refuseSnakeCase(TaskObject.prototype, 'Task', {
  flow_name: 'flowName',
  run_id: 'runId',
  step_name: 'stepName',
  task_id: 'id',
  path_spec: 'pathspec',
  created_at: '(await task.metadata).startedAt',
  finished_at: '(await task.metadata).finishedAt',
  metadata_dict: 'await task.metadata',
  current_attempt: '(await task.attempts).length - 1',
});
