// Entry of a local worker process: loads the flow module once, then runs tasks sent over IPC
// until the runner disconnects. With --isolation process the runner sends it a single task.
// It imports only what running a task needs: the flow comes as the bundle the runner prepared
// (flow/prepare.ts), so no TypeScript hooks, compiler or graph parser load here.
import { runTask } from '../task/run-task.js';
import { errorInfo } from '../task/error-info.js';
import { loadFlow } from '../../flow/load.js';
import type { TaskSpec } from '../task/spec.js';
import { dieWithParent } from './orphan-watchdog.js';
import { noteOwnThreads } from '../task/usage.js';
import { keepYoungGenerationSmall } from '../task/young-generation.js';
import fs from 'node:fs';

type Msg = { type: 'preload'; flowFile: string; flowName: string; flowModule?: string } | { type: 'task'; id: number; spec: TaskSpec };

// the runner is gone (finished, or killed with -9): nothing here may outlive it — the event
// when the loop is free, the watchdog thread when a step holds it
process.on('disconnect', () => process.exit(0));
dieWithParent();

/** the task being run, so an error thrown outside its await chain is reported as its own */
let running: number | undefined;

/**
 * A throw in a timer or event callback, or a promise rejected with no handler, happens outside
 * the step's await chain: the step cannot catch it and this process's state is unknown. The
 * error (message and stack) is sent to the runner as the task's error before the worker exits,
 * so the task records it instead of a bare "exited with code 1".
 */
function fatal(kind: string) {
  return (err: unknown) => {
    const info = errorInfo(err);
    const error = { ...info, message: `${info.message} (${kind} in the step: the worker process stopped)` };
    const exit = () => process.exit(1);
    if (running === undefined || !process.send) return exit();
    process.send({ type: 'fatal', id: running, error }, exit);
    setTimeout(exit, 2000).unref();
  };
}
/** Resolves once everything written to `stream` so far has been handed to the OS. */
const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((r) => (stream.writableLength ? stream.write('', () => r()) : r()));

process.on('uncaughtException', fatal('an uncaught exception'));
process.on('unhandledRejection', fatal('an unhandled promise rejection'));

// libuv's pool starts on the first asynchronous fs call: once it has, and before the flow's code
// runs, every thread of this process is Node's own (usage.ts reads the others' children files)
const ownThreadsNoted = fs.promises.stat('.').then(noteOwnThreads, noteOwnThreads);
keepYoungGenerationSmall();

process.on('message', async (msg: Msg) => {
  await ownThreadsNoted;
  if (msg.type === 'preload') {
    await loadFlow(msg.flowFile, msg.flowName, msg.flowModule).catch(() => {
      /* reported when a task runs */
    });
    return;
  }
  if (msg.type === 'task') {
    const s = msg.spec;
    running = msg.id;
    const result = await runTask(s).catch((err) => ({
      ok: false,
      pathspec: `${s.flowName}/${s.runId}/${s.step}/${s.taskId}`,
      error: errorInfo(err),
    }));
    // what the task printed is still queued here when it printed faster than the runner reads:
    // the result goes only once it is handed to the pipes, so nothing printed is lost when the
    // runner stops this worker, and a loud task waits for its console (backpressure)
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    running = undefined;
    process.send?.({ type: 'result', id: msg.id, result });
  }
});

process.send?.({ type: 'ready' });
