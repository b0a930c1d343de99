// What a pod does before and after its task, wherever it was started from: a Kubernetes Job of a
// local run (`flowbook step --task-spec …`, runJobTask) or an Argo workflow's DAG task
// (`flowbook argo-workflows step …`, compute/argo/pod.ts). The flow's code comes from the
// datastore (the code package), not the image; the task runs through the same runTask() as a
// local worker's.
import path from 'node:path';
import { FlowDatastore } from '../datastore/store.js';
import { fetchCodePackage, type CodePackageRef } from './code-package.js';
import { runTask } from './task/run-task.js';
import type { TaskResult, TaskSpec } from './task/spec.js';

/**
 * Fetch the flow's code into $FLOWBOOK_CODE_DIR (default ./.flowbook-code, inside the image's
 * project so its packages resolve); the flow file's path there. Warns when the image's
 * package-lock.json differs from the project's (`since`: when the package was made).
 */
export async function fetchPodCode(store: FlowDatastore, ref: CodePackageRef, since: string): Promise<string> {
  const dir = process.env.FLOWBOOK_CODE_DIR || path.resolve('.flowbook-code');
  const code = await fetchCodePackage(store, ref, dir);
  if (code.lockMatches === false) console.error(`warning: this image's package-lock.json differs from the one ${since}: dependencies may differ`);
  return code.flowFile;
}

/** The worker a pod's task records (`pod NAME` from the downward API), else `fallback`. */
export const podWorker = (fallback: string) => (process.env.FLOWBOOK_POD_NAME ? `pod ${process.env.FLOWBOOK_POD_NAME}` : fallback);

/**
 * One task of a local run's Job (or `flowbook step` by hand): run it here and store its outcome,
 * which the runner reads and commits to the step's journal (a pod has no IPC to it).
 */
export async function runJobTask(spec: TaskSpec): Promise<TaskResult> {
  const store = new FlowDatastore(spec.root, spec.flowName);
  if (spec.codePackage) spec = { ...spec, flowFile: await fetchPodCode(store, spec.codePackage, 'the run was started with') };
  const r = await runTask({ ...spec, worker: spec.worker ?? podWorker('step-cli'), echo: spec.echo ?? true });
  await store.backend.put(store.outcomeKey(spec.runId, spec.step, spec.taskId, spec.attempt), JSON.stringify(r));
  return r;
}
