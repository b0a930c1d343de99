// Entry of a local worker process: loads the flow module once, then runs tasks sent over IPC
// until the runner disconnects. With --isolation process the runner sends it a single task.
import { runTask, errorInfo } from '../runtime/task.js';
import { loadFlow } from '../flow/load.js';
import type { TaskSpec } from '../runtime/task-spec.js';
import { dieWithParent } from './orphan-watchdog.js';

type Msg = { type: 'preload'; flowFile: string; flowName: string } | { type: 'task'; id: number; spec: TaskSpec };

// the runner is gone (finished, or killed with -9): nothing here may outlive it — the event
// when the loop is free, the watchdog thread when a step holds it
process.on('disconnect', () => process.exit(0));
dieWithParent();

process.on('message', async (msg: Msg) => {
  if (msg.type === 'preload') {
    await loadFlow(msg.flowFile, msg.flowName).catch(() => {
      /* reported when a task runs */
    });
    return;
  }
  if (msg.type === 'task') {
    const s = msg.spec;
    const result = await runTask(s).catch((err) => ({
      ok: false,
      pathspec: `${s.flowName}/${s.runId}/${s.step}/${s.taskId}`,
      error: errorInfo(err),
    }));
    process.send?.({ type: 'result', id: msg.id, result });
  }
});

process.send?.({ type: 'ready' });
