// The run's timeline (template: cards/charts/timeline.vl.json), from the run's task records.
import { defineCardType } from '../define.js';
import { loadRunTasks } from '../run-records.js';

export default defineCardType({
  type: 'timeline',
  description: "a Gantt of the run's tasks per worker or pod",
  render: async (task, c, i) => [new c.RunTimeline(await loadRunTasks(i.store, task.runId, i.done))],
});
