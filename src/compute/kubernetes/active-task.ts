// The state the Kubernetes executor keeps per task (its Job, pod, log, timers) and per watched
// namespace, and the small helpers it uses to settle tasks.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskResult, TaskSpec } from '../task/spec.js';
import type { ResolvedKubernetes } from './options.js';

export interface Active {
  name: string;
  namespace: string;
  spec: Omit<TaskSpec, 'worker'>;
  k8s: ResolvedKubernetes;
  pod?: string;
  /** the last thing Kubernetes said while the pod waited (ContainerCreating, Pending …) */
  waiting: string;
  logging?: Promise<void>;
  /** ends the log stream being followed (the API went away: it may hang without a word) */
  logAbort?: AbortController;
  log: string;
  pendingTimer?: NodeJS.Timeout;
  settle: (r: TaskResult) => void;
  settled: boolean;
  /** the pod has finished and its result is being read: later events (deletion by TTL…) change nothing */
  completing?: boolean;
}

export const lost = (pathspec: string, type: string, message: string): TaskResult => ({ ok: false, lost: true, pathspec, error: { type, message } });

/** seconds between "Kubernetes API unreachable" lines */
export const NOTICE_MS = 5000;
/** a pod listing that takes longer has failed */
export const LIST_TIMEOUT_MS = 15_000;
/** Wait up to `ms` for `cond`, looking every 50 ms. */
export async function until(cond: () => boolean, ms: number): Promise<void> {
  for (const t0 = Date.now(); !cond() && Date.now() - t0 < ms; ) await sleep(50);
}

export interface WatchState {
  ctl?: AbortController;
  /** when the API stopped answering (undefined: it answers) */
  failingSince?: number;
  lastNotice?: number;
  attempt: number;
  reconnecting?: boolean;
}
