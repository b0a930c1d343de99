// A run's steps judged requested vs used, read from its task records: what `flowbook advise`
// prints and the run's closing lines warn about.
import type { FlowDatastore } from '../../datastore/store.js';
import { loadRunTasks } from '../run-records.js';
import { stepUsage, type StepUsage, type TaskUse } from './right-size.js';
import { taskUse } from './task-use.js';

/** Requested vs used per step, over the tasks that finished in this run (clones did not run here). */
export async function runStepUsage(store: FlowDatastore, runId: string): Promise<StepUsage[]> {
  const uses = (await loadRunTasks(store, runId))
    .filter((t) => t.status === 'done')
    .map(taskUse)
    .filter((u): u is TaskUse => !!u);
  return stepUsage(uses);
}
