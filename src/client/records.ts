// The records a client object stands on, read synchronously when it is made: a run's record,
// checked against the namespace (runs outside it are invisible, as in Metaflow), the run's graph
// as recorded when it ran, and a task's journal record. They live below every client class so that
// a Task or a DataArtifact can check what it is given without importing the Run or Task above it.
import type { RunMeta } from '../datastore/metadata.js';
import type { TaskRecord } from '../datastore/task-records.js';
import { NotFoundError } from '../errors.js';
import { getNamespace, storeFor } from './context.js';

export function readRunSync(flowName: string, runId: string): RunMeta {
  const { store } = storeFor(flowName);
  try {
    const key = `${store.runKey(runId)}/run.json`;
    return store.parseMetadata<RunMeta>(key, store.backend.getSync(key));
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`run not found: ${flowName}/${runId} in datastore ${store.backend.location}`, { cause: err, pathspec: `${flowName}/${runId}` });
    throw err;
  }
}

/** A run's tags: the system's (`user:…`, `runtime:…`) then the user's. */
export const allTags = (m: RunMeta): string[] => [...m.systemTags, ...m.tags];

/** Runs outside the current namespace are invisible, as in Metaflow. Returns the run's record. */
export function checkInNamespace(flowName: string, runId: string, meta?: RunMeta): RunMeta {
  const m = meta ?? readRunSync(flowName, runId);
  const ns = getNamespace();
  if (ns !== null && !allTags(m).includes(ns)) {
    throw new NotFoundError(`run ${flowName}/${runId} is not in namespace ${ns}; namespace(null) sees every run`, { pathspec: `${flowName}/${runId}` });
  }
  return m;
}

/** The steps that follow `step` in the run's graph (undefined: the run recorded no graph). */
export function successorsOf(meta: RunMeta, step: string): string[] | undefined {
  return meta.graph?.nodes[step]?.out;
}

/** The steps that lead to `step` in the run's graph. */
export function predecessorsOf(meta: RunMeta, step: string): string[] {
  return Object.entries(meta.graph?.nodes ?? {})
    .filter(([, n]) => n.out.includes(step))
    .map(([name]) => name);
}

const warned = new Set<string>();
/** A damaged task record is said once per process, not at every listing. */
function warnOnce(why: string): void {
  if (warned.has(why)) return;
  warned.add(why);
  process.stderr.write(`warning: ${why}\n`);
}

/**
 * The journal record of one task, its run checked against the namespace first. A task with no
 * record is not found (the step's damaged lines, if any, are said once: they may be why).
 */
export function readTaskRecord(flowName: string, runId: string, stepName: string, taskId: string): TaskRecord {
  checkInNamespace(flowName, runId);
  const { store } = storeFor(flowName);
  const record = store.taskRecordSync(runId, stepName, taskId);
  if (!record) {
    for (const why of store.stepRecordsSync(runId, stepName).damaged) warnOnce(why);
    throw new NotFoundError(`task not found: ${flowName}/${runId}/${stepName}/${taskId}`, { pathspec: `${flowName}/${runId}/${stepName}/${taskId}` });
  }
  return record;
}
