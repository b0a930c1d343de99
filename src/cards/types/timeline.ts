// The run's timeline from its task records: the RunTimeline component
// (components/run-timeline.ts; template: the top-level cards/charts/timeline.vl.json).
import { defineCardType } from './define.js';
import { loadRunTasks } from '../run-records.js';

export default defineCardType({
  type: 'timeline',
  description: "a Gantt of the run's tasks per worker or pod",
  render: async (task, c, i) => [new c.RunTimeline(await loadRunTasks(i.store, task.runId, i.done))],
});
