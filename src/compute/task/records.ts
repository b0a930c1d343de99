// A task's records: its DONE record (the one builder, for a step that completed and for one that
// @catchErrors completed), and the journal entries of a finished attempt — made by the task where
// it ran, or by the runner for a task whose process was lost (killed at its @timeout, died).
import fs from 'node:fs';
import path from 'node:path';
import { FlowDatastore } from '../../datastore/store.js';
import type { ArtifactRef, AttemptMeta, ErrorInfo, ResourceUse, TaskDone } from '../../datastore/metadata.js';
import type { JournalEntry, TaskLogs } from '../../datastore/task-records.js';
import { FlowUsageError } from '../../errors.js';
import { pathspecOf, type TaskResult, type TaskSpec } from './spec.js';
import { TaskArtifacts } from './artifacts.js';
import { errorInfo } from './error-info.js';

/** What a completed attempt produced: its artifacts and where the flow goes next. */
export interface TaskBody {
  artifacts: Record<string, ArtifactRef>;
  next?: string[];
  foreachCount?: number;
  /** @catchErrors: the error the step completed with */
  caught?: ErrorInfo;
  resources?: ResourceUse;
}

/** The DONE record of a task: where it sits (from its spec), what it produced, when. */
export function doneRecord(spec: TaskSpec, body: TaskBody, startedAt: string): TaskDone {
  return {
    pathspec: pathspecOf(spec),
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
    ...(body.resources ? { resources: body.resources } : {}),
  };
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
  const done = doneRecord(spec, { artifacts, next: spec.graphOut, caught: info, resources }, startedAt);
  return { result: { ok: true, caught: true, pathspec, next: spec.graphOut, error: info, resources }, done };
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
