// Requested vs used per task, with advice (template: cards/charts/resources.vl.json).
import { defineCardType } from '../define.js';
import { loadRunTasks } from '../run-records.js';

export default defineCardType({
  type: 'resources',
  description: 'requested vs used cpu and memory per task, with advice',
  render: async (task, c, i) => [new c.ResourceReport(await loadRunTasks(i.store, task.runId, i.done))],
});
