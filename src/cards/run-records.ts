// What the run-level cards (timeline, resources) and `flowbook advise` read: every task of a run
// with its times, its worker and what it used — finished tasks from their DONE record, the others
// from their last attempt. Plain records only: the judgement of them is in usage/.
import type { FlowDatastore } from '../datastore/store.js';
import type { ResourceUse, TaskDone } from '../datastore/metadata.js';

/**
 * A task of the run as the run cards show it (not the journal's TaskRecord, which is everything
 * recorded about a task: this is its times, where it ran and what it used).
 */
export interface RunTask {
  pathspec: string;
  step: string;
  taskId: string;
  /** cached: @cache reused an earlier task's results (it did not run; its times are the lookup's) */
  status: 'done' | 'running' | 'failed' | 'cached';
  /** a cached task: the task that ran */
  cachedFrom?: string;
  startedAt: string;
  finishedAt?: string;
  /** "<worker> @ <host>" when the task ran here, the pod name on Kubernetes */
  where: string;
  resources?: ResourceUse;
}

/**
 * `current`: the task rendering the card, finished but not yet in its step's journal (the runner
 * commits it after the task hands its records over), shown as done.
 */
export async function loadRunTasks(store: FlowDatastore, runId: string, current?: TaskDone): Promise<RunTask[]> {
  const out: RunTask[] = [];
  for (const step of await store.listSteps(runId)) {
    for (const { taskId, done, attempts } of (await store.stepRecords(runId, step)).tasks.values()) {
      if (done?.cachedFrom) {
        out.push({ pathspec: done.pathspec, step, taskId, status: 'cached', startedAt: done.startedAt, finishedAt: done.finishedAt, where: 'cached (@cache)', cachedFrom: done.cachedFrom });
        continue;
      }
      if (done) {
        // a task cloned by resume did not run in this run: its times belong to the origin
        if (done.origin) continue;
        out.push({ pathspec: done.pathspec, step, taskId, status: 'done', startedAt: done.startedAt, finishedAt: done.finishedAt, where: where(done.resources), resources: done.resources });
        continue;
      }
      const last = attempts[attempts.length - 1];
      if (!last) continue;
      out.push({ pathspec: last.pathspec, step, taskId, status: last.status === 'failed' ? 'failed' : 'running', startedAt: last.startedAt, finishedAt: last.finishedAt, where: where(last.resources), resources: last.resources });
    }
  }
  if (current && !out.some((t) => t.pathspec === current.pathspec && t.status === 'done')) {
    const i = out.findIndex((t) => t.pathspec === current.pathspec);
    if (i >= 0) out.splice(i, 1);
    out.push({ pathspec: current.pathspec, step: current.step, taskId: current.taskId, status: 'done', startedAt: current.startedAt, finishedAt: current.finishedAt, where: where(current.resources), resources: current.resources });
  }
  return out.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
}

function where(r?: ResourceUse): string {
  return r ? `${r.worker} @ ${r.host}` : '';
}
