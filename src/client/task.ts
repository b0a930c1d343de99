// Step, Task and DataArtifact: a step's tasks, a task's artifacts, logs and metadata.
import type { ArtifactRef, AttemptMeta, ErrorInfo, ForeachFrame, ResourceUse, TaskDone } from '../datastore/metadata.js';
import { FlowUsageError, IntegrityError, NotFoundError } from '../errors.js';
import { sortedTasks, type TaskRecord } from '../datastore/task-records.js';
import PQueue from 'p-queue';
import { inspect } from 'node:util';
import { storeFor } from './context.js';
import { parsePathspec } from './pathspec.js';
import { checkInNamespace, RunObject } from './run.js';
import { suggestions } from './flows.js';
import { rowsToArrow, rowsToDataFrame, valueToArrow, valueToDataFrame } from './dataframe.js';
import { isPlainObject } from './table.js';
import { refuseSnakeCase } from './metaflow-names.js';
import { displayable } from '../notebook/display.js';

const warned = new Set<string>();
/** A damaged task record is said once per process, not at every listing. */
function warnOnce(why: string): void {
  if (warned.has(why)) return;
  warned.add(why);
  process.stderr.write(`warning: ${why}\n`);
}

/**
 * Names that inspectors, `await` and test matchers probe on any object: never artifact lookups
 * (an artifact by one of these names is read with `task.artifact(name)`).
 */
const NOT_ARTIFACTS = new Set(['then', 'constructor', 'toJSON', 'inspect', 'asymmetricMatch', 'nodeType', 'tagName', '$$typeof', '@@__IMMUTABLE_ITERABLE__@@', '@@__IMMUTABLE_RECORD__@@', '__proto__', 'prototype']);
const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

export interface DataSource {
  /** what the data is of, for printing: `ForeachFlow/1733…/end/7` */
  label: string;
  /** the artifact names, when they can be told without loading anything (undefined: cannot) */
  names(): string[] | undefined;
  load(name: string): Promise<unknown>;
}

/**
 * `await x.data.name` loads one artifact; nothing else is read. `Object.keys(x.data)` and
 * `'name' in x.data` list the artifacts, console.log prints their names; any other probe
 * (`then`, `constructor`, symbols…) is undefined, never a storage lookup.
 */
export function dataProxy<T = Record<string, Promise<any>>>(src: DataSource): T {
  const describe = () => {
    const names = src.names();
    return names ? `Data ${src.label} { ${names.join(', ')} }` : `Data ${src.label}: no artifacts`;
  };
  // util.inspect looks at a proxy's target, not through its traps: the target prints the names
  const target = Object.defineProperties(Object.create(null), {
    // configurable: a proxy may then list only the artifact names as its keys
    [inspect.custom]: { value: () => describe(), configurable: true },
    [Symbol.toStringTag]: { value: 'Data', configurable: true },
    toString: { value: () => describe(), configurable: true },
  });
  const has = (name: string) => !NOT_ARTIFACTS.has(name) && (src.names() ?? []).includes(name);
  return new Proxy(target, {
    get: (t, name) => {
      if (typeof name !== 'string' || NOT_ARTIFACTS.has(name)) return typeof name === 'symbol' ? Reflect.get(t, name) : undefined;
      if (OBJECT_MEMBERS.has(name) && !has(name)) return name === 'toString' ? t.toString : (Object.prototype as any)[name];
      return src.load(name);
    },
    has: (_t, name) => typeof name === 'string' && has(name),
    ownKeys: () => src.names() ?? [],
    getOwnPropertyDescriptor: (_t, name) => (typeof name === 'string' && has(name) ? { configurable: true, enumerable: true, get: () => src.load(name) } : undefined),
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  }) as T;
}

export class StepObject {
  readonly flowName: string;
  readonly runId: string;
  readonly id: string;
  readonly pathspec: string;

  constructor(pathspec: string) {
    const p = parsePathspec(pathspec, 'step');
    this.flowName = p.flow;
    this.runId = p.run!;
    this.id = p.step!;
    this.pathspec = `${p.flow}/${p.run}/${p.step}`;
    checkInNamespace(this.flowName, this.runId);
  }

  /** The run this step belongs to. */
  get run(): RunObject {
    return new RunObject(`${this.flowName}/${this.runId}`);
  }

  /** Tasks in task-id order: one read of the step's journal, however many tasks it has. */
  async tasks(): Promise<TaskObject[]> {
    const { store } = storeFor(this.flowName);
    // (a damaged record shows when its task is used: its data says why, naming file and line;
    // `flowbook verify` lists them all)
    const records = await store.stepRecords(this.runId, this.id);
    // a step whose only batch was cut short by a crash exists, with no task
    if (!records.tasks.size && !(await store.backend.exists(store.stepKey(this.runId, this.id)))) {
      const names = await store.listSteps(this.runId);
      const close = suggestions(this.id, names);
      throw new NotFoundError(`step not found: ${this.pathspec}${close.length ? ` (did you mean '${close[0]}'?)` : ''}; the run's steps: ${names.join(', ') || 'none yet'}`, { pathspec: this.pathspec });
    }
    return sortedTasks(records).map((rec) => new TaskObject(`${this.pathspec}/${rec.taskId}`, rec));
  }

  /** The first task (the only one of a step outside a foreach). */
  get task(): Promise<TaskObject | undefined> {
    return this.tasks().then((t) => t[0]);
  }

  /**
   * A row per successful task. Small artifacts come from the records just read; larger ones are
   * read a bounded number at a time (a 10,000-task step must not open 10,000 files at once).
   */
  private async rows(fields?: string[]): Promise<Record<string, unknown>[]> {
    const tasks = (await this.tasks()).filter((t) => t.successful);
    const { store } = storeFor(this.flowName);
    const queue = new PQueue({ concurrency: 32 });
    return Promise.all(
      tasks.map(async (t) => {
        // `task_index`, not `index`: a column named index hides danfo's DataFrame.index
        const row: Record<string, unknown> = { task_id: t.id, task_index: t.index ?? null, successful: t.successful };
        for (const [name, ref] of Object.entries(t.refs())) {
          if (fields && !fields.includes(name)) continue;
          if (!fields && ref.serializer !== 'json') continue;
          const v = ref.inline !== undefined ? await store.getArtifact(name, ref) : await queue.add(() => store.getArtifact(name, ref), { throwOnTimeout: true });
          // by default scalars and plain objects (flattened to dotted columns); named fields whatever they hold
          if (fields || v === null || ['string', 'number', 'boolean'].includes(typeof v) || isPlainObject(v)) row[name] = v;
        }
        return row;
      }),
    );
  }

  /** A danfo DataFrame with a row per task (scalar artifacts, or the fields named). */
  async toDataFrame(fields?: string[]): Promise<any> {
    return displayable(await rowsToDataFrame(await this.rows(fields)));
  }

  /** An apache-arrow Table with a row per task. */
  async toArrow(fields?: string[]): Promise<any> {
    return displayable(await rowsToArrow(await this.rows(fields)));
  }
}

export class TaskObject {
  readonly flowName: string;
  readonly runId: string;
  readonly stepName: string;
  readonly id: string;
  readonly pathspec: string;
  private record: TaskRecord;

  /** `record`: given by StepObject.tasks(), which has read it with the rest of the step (and checked the namespace) */
  constructor(pathspec: string, record?: TaskRecord) {
    const p = parsePathspec(pathspec, 'task');
    this.flowName = p.flow;
    this.runId = p.run!;
    this.stepName = p.step!;
    this.id = p.task!;
    this.pathspec = `${p.flow}/${p.run}/${p.step}/${p.task}`;
    if (!record) {
      checkInNamespace(this.flowName, this.runId);
      const { store } = storeFor(this.flowName);
      record = store.taskRecordSync(this.runId, this.stepName, this.id);
      if (!record) {
        for (const why of store.stepRecordsSync(this.runId, this.stepName).damaged) warnOnce(why);
        throw new NotFoundError(`task not found: ${this.pathspec}`, { pathspec: this.pathspec });
      }
    }
    this.record = record;
  }

  /** The step this task belongs to. */
  get step(): StepObject {
    return new StepObject(`${this.flowName}/${this.runId}/${this.stepName}`);
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
      const run = new RunObject(`${this.flowName}/${this.runId}`);
      const before = run.predecessorsOf(this.stepName);
      const tasks = await Promise.all(before.map((s) => run.step(s).tasks().then((t) => t.filter((x) => x.successful))));
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
      const run = new RunObject(`${this.flowName}/${this.runId}`);
      const next = run.successorsOf(this.stepName) ?? this.done?.next ?? [];
      const { store } = storeFor(this.flowName);
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
  /** the task this one was cloned from by resume */
  get origin(): string | undefined {
    return this.done?.origin;
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
    const ref = this.done?.artifacts[name];
    if (ref) return ref;
    const has = Object.keys(this.done?.artifacts ?? {});
    if (!this.done && this.record.damaged) throw new IntegrityError(`task ${this.pathspec} did not finish: ${this.record.damaged}`);
    throw new NotFoundError(
      this.done
        ? `artifact '${name}' not found in ${this.pathspec} (it has: ${has.join(', ') || 'none'})`
        : `task ${this.pathspec} did not finish: it has no artifacts`,
      { pathspec: `${this.pathspec}/${name}` },
    );
  }

  /** The task's cards (rendered HTML files beside the task). */
  get cards(): Promise<{ id: string; path: string; html(): Promise<string> }[]> {
    const { store } = storeFor(this.flowName);
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
    return storeFor(this.flowName).store.readLog(this.runId, this.stepName, this.id, last, stream);
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

export class DataArtifactObject {
  readonly flowName: string;
  readonly pathspec: string;
  readonly name: string;
  private ref: ArtifactRef;

  constructor(pathspec: string, ref?: ArtifactRef) {
    const p = parsePathspec(pathspec, 'artifact');
    this.flowName = p.flow;
    this.name = p.artifact!;
    this.pathspec = pathspec;
    if (ref) this.ref = ref;
    else {
      this.ref = new TaskObject(`${p.flow}/${p.run}/${p.step}/${p.task}`).ref(this.name);
    }
  }

  get sha(): string {
    return this.ref.sha;
  }
  get size(): number {
    return this.ref.size;
  }
  get type(): string {
    return this.ref.type;
  }
  get serializer(): string {
    return this.ref.serializer;
  }

  /** The value, read and verified against its sha256 (a DataFrame or Arrow table prints as a table). */
  async data(): Promise<any> {
    return displayable(await storeFor(this.flowName).store.getArtifact(this.name, this.ref));
  }

  async toDataFrame(): Promise<any> {
    return displayable(await valueToDataFrame(await this.data(), this.name));
  }

  async toArrow(): Promise<any> {
    return displayable(await valueToArrow(await this.data(), this.name));
  }
}

// Metaflow's names, refused with flowbook's (`task.parent_tasks` is `parentTasks`)
refuseSnakeCase(StepObject.prototype, 'Step', { flow_name: 'flowName', run_id: 'runId', step_name: 'id', path_spec: 'pathspec' });
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
refuseSnakeCase(DataArtifactObject.prototype, 'DataArtifact', { flow_name: 'flowName', path_spec: 'pathspec' });
