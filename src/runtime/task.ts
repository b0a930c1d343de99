// runTask: one attempt of one task. Builds the flow instance with its inputs' artifacts as lazy
// fields, runs the step, checks the transition and stores the artifacts (small ones inside the
// record). It returns the task's records — the attempt and, when it finished, the DONE record —
// for the runner to commit to the step's journal: the task counts once that batch is durable.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlowDatastore } from '../datastore/store.js';
import type { ArtifactRef, AttemptMeta, ErrorInfo, TaskDone } from '../datastore/metadata.js';
import type { JournalEntry, TaskLogs } from '../datastore/task-records.js';
import { ForeachError, FlowUsageError, NotFoundError } from '../errors.js';
import { retryable } from './retry.js';
import { TASK_STATE, type ArtifactSource, type InputView, type TaskState } from '../flow/flowspec.js';
import { loadFlow } from '../flow/load.js';
import { resolveSecretsAgain, storableParams } from '../flow/params.js';
import { setCurrent } from '../flow/current.js';
import { startUsage } from './usage.js';
import { loadSerializersFor } from '../datastore/serializers.js';
import type { CardCollector } from '../cards/collector.js';
import { TaskOutput } from './task-output.js';
import { pathspecOf, type TaskResult, type TaskSpec } from './task-spec.js';

/** The artifacts of a finished task, read on demand. */
export class TaskArtifacts implements ArtifactSource {
  private cache = new Map<string, unknown>();
  constructor(
    readonly store: FlowDatastore,
    readonly done: TaskDone,
  ) {}
  static async open(store: FlowDatastore, pathspec: string): Promise<TaskArtifacts> {
    const [, runId, step, taskId] = pathspec.split('/');
    const done = await store.readDone(runId, step, taskId).catch((err) => {
      throw new NotFoundError(`input task ${pathspec} cannot be read: ${err?.message ?? err}`, { cause: err });
    });
    if (!done) throw new NotFoundError(`input task ${pathspec} has no DONE record`);
    return new TaskArtifacts(store, done);
  }
  names(): string[] {
    return Object.keys(this.done.artifacts);
  }
  ref(name: string): ArtifactRef {
    return this.done.artifacts[name];
  }
  sha(name: string): string {
    return this.done.artifacts[name].sha;
  }
  load(name: string): unknown {
    if (!this.cache.has(name)) this.cache.set(name, this.store.getArtifactSync(name, this.done.artifacts[name]));
    return this.cache.get(name);
  }
}

interface Lazy {
  source: TaskArtifacts;
  loaded: boolean;
}

/** Define `name` on the instance as a lazy read of `source`; a write replaces it with a plain field. */
function defineLazy(obj: any, name: string, source: TaskArtifacts, lazies: Map<string, Lazy>): void {
  const entry: Lazy = { source, loaded: false };
  lazies.set(name, entry);
  Object.defineProperty(obj, name, {
    configurable: true,
    enumerable: true,
    get() {
      entry.loaded = true;
      return source.load(name);
    },
    set(v) {
      lazies.delete(name);
      Object.defineProperty(obj, name, { value: v, writable: true, enumerable: true, configurable: true });
    },
  });
}

function inputView(src: TaskArtifacts): InputView {
  const view: any = {};
  const d = src.done;
  Object.defineProperties(view, {
    stepName: { value: d.step },
    taskId: { value: d.taskId },
    pathspec: { value: d.pathspec },
    index: { value: d.foreachStack.at(-1)?.index },
  });
  for (const name of src.names()) Object.defineProperty(view, name, { enumerable: true, get: () => src.load(name) });
  return view;
}

/** flowbook's own code (src/ and dist/ of this package; source maps show src/ for dist/): never "where" a user's error was thrown */
const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));
const FLOWBOOK_CODE = [path.join(PACKAGE, 'src') + path.sep, path.join(PACKAGE, 'dist') + path.sep];

export function errorInfo(err: unknown): ErrorInfo {
  const e = err as any;
  const stack: string | undefined = e instanceof Error ? e.stack : undefined;
  // where in the user's code it was thrown: the first frame outside flowbook and node_modules
  const where = stack
    ?.split('\n')
    .slice(1)
    .map((l) => /\((.+?):(\d+):\d+\)$|at (.+?):(\d+):\d+$/.exec(l.trim()))
    .find((m) => {
      const file = (m?.[1] ?? m?.[3] ?? '').replace(/^file:\/\//, '');
      return !!m && !/node_modules|^node:/.test(file) && !FLOWBOOK_CODE.some((dir) => file.startsWith(dir));
    });
  return {
    type: e?.name ?? typeof err,
    message: e instanceof Error ? e.message : String(err),
    stack,
    ...(where ? { where: `${path.relative(process.cwd(), where[1] ?? where[3])}:${where[2] ?? where[4]}` } : {}),
  };
}

export async function runTask(spec: TaskSpec): Promise<TaskResult> {
  const store = new FlowDatastore(spec.root, spec.flowName);
  const pathspec = pathspecOf(spec);
  const startedAt = new Date().toISOString();
  const usage = startUsage();
  const out = new TaskOutput(
    store.logFiles(spec.runId, spec.step, spec.taskId, spec.attempt),
    `[${spec.runId}/${spec.step}/${spec.taskId}${spec.attempt ? `.${spec.attempt}` : ''}]`,
    spec.echo,
  );
  // @card: components appended through current.card are rendered when the task ends
  const flowModule = await loadFlow(spec.flowFile, spec.flowName).catch(() => undefined);
  // the flow's code is the worker's, loaded once per warm worker: not part of the task's memory
  usage.rebase();
  const stepMeta = flowModule?.steps.get(spec.step);
  // the card modules load only for steps that have cards
  const cards = spec.cards ?? stepMeta?.cards ?? [];
  const collector: CardCollector | undefined = cards.length ? new (await import('../cards/collector.js')).CardCollector(cards) : undefined;
  const live = collector && (await import('../cards/render.js')).liveCardWriter(store, pathspec, collector);
  if (collector) collector.onRefresh = live!.refresh;
  setCurrent({
    card: collector,
    flowName: spec.flowName,
    runId: spec.runId,
    stepName: spec.step,
    taskId: spec.taskId,
    retryCount: spec.attempt,
    pathspec,
    tags: spec.tags,
    username: spec.user,
    resources: spec.resources,
    datastoreRoot: store.backend.location,
    flowFile: spec.flowFile,
    isRunningFlow: true,
  });
  let result: TaskResult;
  let inputs: TaskArtifacts[] = [];
  let logs: TaskLogs | undefined;
  let done: TaskDone | undefined;
  try {
    inputs = await Promise.all(spec.inputs.map((p) => TaskArtifacts.open(store, p)));
    // artifacts are read synchronously inside the step: load their serializers' libraries now
    await loadSerializersFor(inputs.flatMap((i) => Object.values(i.done.artifacts)));
    const body = await runStep(spec, store, inputs, out);
    done = {
      pathspec,
      step: spec.step,
      taskId: spec.taskId,
      attempt: spec.attempt,
      artifacts: body.artifacts,
      foreachStack: spec.foreachStack,
      inputs: spec.inputs,
      startedAt,
      finishedAt: new Date().toISOString(),
      key: spec.key,
      next: body.next,
      foreachCount: body.foreachCount,
      ...(body.caught ? { caught: body.caught } : {}),
    };
    out.close();
    logs = await store.saveLogs(spec.runId, spec.step, spec.taskId, spec.attempt);
    done.resources = usage.stop(spec.resources, spec.worker, spec.localSlot);
    // a card that fails to render never fails the task: it becomes an error card
    if (collector) {
      await live!.close();
      const { renderTaskCards } = await import('../cards/render.js');
      await renderTaskCards(store, done, collector, storableParams(flowModule?.params ?? [], spec.params), spec.flowFile).catch((e) => console.error(`${pathspec}: cards not rendered: ${e?.message ?? e}`));
    }
    result = { ok: true, pathspec, next: body.next, foreachCount: body.foreachCount, resources: done.resources };
    if (body.caught) result = { ...result, caught: true, error: body.caught };
  } catch (err) {
    const info = errorInfo(err);
    // the user's stack goes to the task's stderr log; the run prints one line
    // the full stack goes to the task's log; the run's console gets one line from the runner
    // (with --debug, the stack too)
    out[process.env.FLOWBOOK_DEBUG ? 'write' : 'logOnly']('stderr', `${info.stack ?? `${info.type}: ${info.message}`}\n`);
    out.close();
    logs = await store.saveLogs(spec.runId, spec.step, spec.taskId, spec.attempt).catch(() => undefined);
    const resources = usage.stop(spec.resources, spec.worker, spec.localSlot);
    result = { ok: false, pathspec, error: info, resources };
    done = undefined;
    if (spec.catchVar && (spec.lastAttempt || !retryable(info))) {
      const caught = await completeCaught(spec, store, inputs, info, startedAt, resources).catch((e) => ({ result: { ...result, error: errorInfo(e) }, done: undefined }));
      result = caught.result;
      done = caught.done;
    }
  } finally {
    await live?.close();
    setCurrent(undefined);
  }
  return withRecords(spec, result, startedAt, done, logs);
}

/**
 * The journal entries of a finished attempt: its DONE record when it completed (the attempt's
 * own record is then implied by it: same times and resources, see journal-lines.ts), else the
 * failed attempt.
 */
export function withRecords(spec: TaskSpec, result: TaskResult, startedAt: string, done: TaskDone | undefined, logs?: TaskLogs): TaskResult {
  if (done && result.ok && !result.error) {
    return { ...result, records: [{ kind: 'done', taskId: spec.taskId, done, ...(logs ? { logs } : {}) }] };
  }
  const attempt: AttemptMeta = {
    pathspec: result.pathspec,
    attempt: spec.attempt,
    status: result.ok ? 'done' : 'failed',
    startedAt,
    finishedAt: new Date().toISOString(),
    ...(result.resources ? { resources: result.resources } : {}),
    ...(result.error ? { error: result.error } : {}),
  };
  const records: JournalEntry[] = [{ kind: 'attempt', taskId: spec.taskId, attempt, ...(logs ? { logs } : {}) }];
  if (done && result.ok) records.push({ kind: 'done', taskId: spec.taskId, done });
  return { ...result, records };
}

/** @catchErrors: the failed step still completes, with its inputs' artifacts and the error. */
export async function completeCaught(
  spec: TaskSpec,
  store: FlowDatastore,
  inputs: TaskArtifacts[],
  info: ErrorInfo,
  startedAt: string,
  resources: TaskResult['resources'],
): Promise<{ result: TaskResult; done: TaskDone }> {
  if (spec.transition === 'foreach' || spec.transition === 'switch') {
    throw new FlowUsageError(`step '${spec.step}' failed and @catchErrors cannot continue its ${spec.transition}: ${info.message}`);
  }
  const artifacts: Record<string, ArtifactRef> = spec.isJoin || inputs.length !== 1 ? {} : { ...inputs[0].done.artifacts };
  artifacts[spec.catchVar!] = await store.putArtifact(spec.catchVar!, { type: info.type, message: info.message, stack: info.stack ?? '' });
  const pathspec = pathspecOf(spec);
  const done: TaskDone = {
    pathspec,
    step: spec.step,
    taskId: spec.taskId,
    attempt: spec.attempt,
    artifacts,
    foreachStack: spec.foreachStack,
    inputs: spec.inputs,
    startedAt,
    finishedAt: new Date().toISOString(),
    key: spec.key,
    next: spec.graphOut,
    caught: info,
    resources,
  };
  return { result: { ok: true, caught: true, pathspec, next: spec.graphOut, error: info, resources }, done };
}

async function runStep(spec: TaskSpec, store: FlowDatastore, inputs: TaskArtifacts[], output: TaskOutput) {
  const flow = await loadFlow(spec.flowFile, spec.flowName);
  const meta = flow.steps.get(spec.step);
  if (!meta) throw new FlowUsageError(`flow ${spec.flowName} has no step '${spec.step}'`);
  const inst = new flow.cls() as any;
  const lazies = new Map<string, Lazy>();
  const frame = spec.foreachStack.at(-1);
  const state: TaskState & { secretFields: Set<string> } = { stepName: spec.step, hasInput: false, foreachStack: spec.foreachStack, index: frame?.index, secretFields: new Set() };
  Object.defineProperty(inst, TASK_STATE, { value: state, enumerable: false });

  // parameters: their values in start, inherited like any artifact after it
  // secrets are never stored: every step gets them from the spec (or, in a pod, its env)
  const params = resolveSecretsAgain(flow.params, spec.params, `step '${spec.step}' (in a pod, through a Kubernetes Secret)`);
  for (const p of flow.params) {
    delete inst[p.field];
    if (p.options.secret) {
      state.secretFields.add(p.field);
      inst[p.field] = params[p.name];
    } else if (spec.step === 'start' || inputs.length === 0) inst[p.field] = params[p.name];
    else defineLazy(inst, p.field, inputs[0], lazies);
  }
  if (!spec.isJoin && inputs.length === 1) {
    for (const name of inputs[0].names()) if (!lazies.has(name)) defineLazy(inst, name, inputs[0], lazies);
  }
  if (frame) {
    const split = await TaskArtifacts.open(store, `${spec.flowName}/${spec.runId}/${frame.step}/${frame.taskId}`);
    const list = split.load(frame.field) as unknown[];
    state.hasInput = true;
    state.input = list[frame.index];
  }

  const method = inst[spec.step] as (...a: any[]) => unknown;
  try {
    if (spec.isJoin) {
      // a foreach over zero items: no inputs, and mergeArtifacts takes what the foreach step had
      state.inputSources = spec.emptyForeach && !inputs.length ? [await TaskArtifacts.open(store, spec.emptyForeach)] : inputs;
      const views = inputs.map(inputView) as any;
      for (const v of views) if (!(v.stepName in views) && !/^\d+$/.test(v.stepName)) views[v.stepName] = v;
      await method.call(inst, views);
    } else {
      await method.call(inst);
    }
  } catch (err) {
    // @catchErrors on the last attempt (a mistake in the flow's code is never retried, so its
    // attempt is the last): keep what the step had set, add the error, carry on
    const info = errorInfo(err);
    if (!spec.catchVar || !(spec.lastAttempt || !retryable(info)) || spec.transition === 'foreach' || spec.transition === 'switch') throw err;
    output[process.env.FLOWBOOK_DEBUG ? 'write' : 'logOnly']('stderr', `${info.stack ?? `${info.type}: ${info.message}`}\n`);
    inst[spec.catchVar] = { type: info.type, message: info.message, stack: info.stack ?? '' };
    return { artifacts: await persist(inst, state, lazies, store), next: spec.graphOut, foreachCount: undefined, caught: info };
  }

  // the transition
  const t = state.transition;
  let next: string[] | undefined;
  let foreachCount: number | undefined;
  if (spec.step === 'end') {
    if (t) throw new FlowUsageError(`step 'end' must not call this.next()`);
  } else {
    if (!t) throw new FlowUsageError(`step '${spec.step}' finished without calling this.next(...)`);
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
    if (!same(t.steps, spec.graphOut)) {
      throw new FlowUsageError(`step '${spec.step}' called next(${t.steps.join(', ')}) but its source says next(${spec.graphOut.join(', ')})`);
    }
    next = t.steps;
    if (t.foreach) {
      const list = inst[t.foreach];
      if (!Array.isArray(list)) {
        throw new ForeachError(`foreach over '${t.foreach}' in step '${spec.step}': expected an array, got ${list === null ? 'null' : typeof list}`);
      }
      if (list.length > spec.maxNumSplits) {
        throw new ForeachError(`foreach over '${t.foreach}' in step '${spec.step}' makes ${list.length} splits, more than --max-num-splits ${spec.maxNumSplits}`);
      }
      foreachCount = list.length;
    }
    if (t.condition) {
      const value = inst[t.condition];
      const chosen = t.cases?.[String(value)];
      if (!chosen) {
        throw new FlowUsageError(
          `switch in step '${spec.step}': condition '${t.condition}' is ${JSON.stringify(value)}, not one of the cases: ${Object.keys(t.cases ?? {}).join(', ')}`,
        );
      }
      next = [chosen];
    }
  }

  return { artifacts: await persist(inst, state, lazies, store), next, foreachCount, caught: undefined as ErrorInfo | undefined };
}

/** Store every field of the instance: untouched inherited artifacts by reference, the rest serialized. */
async function persist(inst: any, state: TaskState & { secretFields: Set<string> }, lazies: Map<string, Lazy>, store: FlowDatastore) {
  const refs: Record<string, ArtifactRef> = {};
  const writes: Promise<void>[] = [];
  for (const name of Object.keys(inst)) {
    if (state.secretFields.has(name)) continue;
    const lazy = lazies.get(name);
    if (lazy && !lazy.loaded) {
      refs[name] = lazy.source.ref(name);
      continue;
    }
    const merged = state.merged?.get(name);
    if (merged && merged.source instanceof TaskArtifacts) {
      refs[name] = merged.source.ref(merged.name);
      continue;
    }
    const value = inst[name];
    if (value === undefined) continue;
    writes.push(store.putArtifact(name, value).then((ref) => void (refs[name] = ref)));
  }
  await Promise.all(writes);
  return refs;
}

/**
 * The worker running a task died or was killed at its @timeout: its records are made here, in
 * the runner — the failed attempt and, on the last attempt of a @catchErrors step, the task
 * completed with the error.
 */
export async function recordLostTask(spec: TaskSpec, lost: TaskResult, startedAt: string): Promise<TaskResult> {
  const store = new FlowDatastore(spec.root, spec.flowName);
  const info = lost.error ?? { type: 'WorkerDied', message: 'the worker process died' };
  // keep what the task printed before it died, and say why it stopped, in its own log (a pod's
  // log is saved by the Kubernetes executor; it has no local file here)
  const files = store.logFiles(spec.runId, spec.step, spec.taskId, spec.attempt);
  let logs: TaskLogs | undefined;
  if (store.backend.kind === 'local' || fs.existsSync(files.stderr)) {
    fs.mkdirSync(path.dirname(files.stderr), { recursive: true });
    fs.appendFileSync(files.stderr, `${info.type}: ${info.message}\n`);
    logs = await store.saveLogs(spec.runId, spec.step, spec.taskId, spec.attempt).catch(() => undefined);
  }
  let result: TaskResult = { ...lost, error: info };
  let done: TaskDone | undefined;
  if (spec.catchVar && spec.lastAttempt) {
    const caught = await Promise.all(spec.inputs.map((p) => TaskArtifacts.open(store, p)))
      .then((inputs) => completeCaught(spec, store, inputs, info, startedAt, undefined))
      .catch((e) => ({ result: { ...lost, error: errorInfo(e) }, done: undefined }));
    result = caught.result;
    done = caught.done;
  }
  const withRec = withRecords(spec, result, startedAt, done, logs);
  // the attempt's error is why the worker was lost, even when @catchErrors completed the task
  (withRec.records![0] as Extract<JournalEntry, { kind: 'attempt' }>).attempt.error = info;
  return withRec;
}
