// Requested vs used per task, with advice: the ResourceReport component
// (components/resource-report.ts; template: the top-level cards/charts/resources.vl.json).
import { defineCardType } from './define.js';
import { loadRunTasks } from '../run-records.js';

export default defineCardType({
  type: 'resources',
  description: 'requested vs used cpu and memory per task, with advice',
  render: async (task, c, i) => [new c.ResourceReport(await loadRunTasks(i.store, task.runId, i.done))],
});
