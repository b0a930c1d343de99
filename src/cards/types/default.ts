// The default card: what the task was and did — metadata, flow graph, parameters, artifacts,
// resources (default-body.ts builds it; the look is cards/style.css).
import { defineCardType } from './define.js';
import { defaultCardBody } from './default-body.js';

export default defineCardType({
  type: 'default',
  description: 'the task: metadata, parameters, artifacts, resources',
  render: (task, _c, i) => defaultCardBody(i.store, i.done, task.params),
});
