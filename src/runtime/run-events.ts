// What the run says as its tasks start, finish, fail, retry and are cloned: the console lines,
// the progress line, the tasks its outcome names — and, at the first failure, stopping the rest.
import type { TaskResult } from '../compute/task/spec.js';
import type { RunConsole } from './console.js';
import { notRetriedNote, retryLine, retryStartLine } from './retry.js';
import type { Scheduler, PlannedTask, SchedulerHooks } from './scheduler.js';
import { LISTED, type Cloner } from './run-types.js';

/** `Type: message`, without saying the type twice when the message starts with it (`OOMKilled: …`) */
const typed = (e?: { type?: string; message?: string }) => (e?.type && !e.message?.startsWith(`${e.type}:`) ? `${e.type}: ${e.message}` : `${e?.message}`);

export interface RunEvents {
  onTaskEvent: SchedulerHooks['onTaskEvent'];
  /** the first LISTED cloned and run tasks */
  clonedTasks: string[];
  ranTasks: string[];
  cachedTasks: string[];
}

export function runEvents(o: {
  runPathspec: string;
  ui: RunConsole;
  retriesOf: SchedulerHooks['retriesOf'];
  cloner?: Cloner;
  scheduler: () => Scheduler;
  /** stop every running task (the first failure fails the run) */
  killAll: () => void;
}): RunEvents {
  const clonedTasks: string[] = [];
  const ranTasks: string[] = [];
  const cachedTasks: string[] = [];
  const { ui, retriesOf } = o;
  const onTaskEvent = (kind: Parameters<SchedulerHooks['onTaskEvent']>[0], task: PlannedTask, result?: TaskResult) => {
    const sched = o.scheduler();
    const ps = `${o.runPathspec}/${task.step}/${task.taskId}`;
    if (kind === 'cloned' && clonedTasks.length < LISTED) clonedTasks.push(`${ps} (from ${o.cloner?.originOf(task)})`);
    if (kind === 'done' && ranTasks.length < LISTED) ranTasks.push(ps);
    // a hit says where its results come from (the first LISTED; the run's last line counts them all)
    if (kind === 'cached' && cachedTasks.length < LISTED) {
      cachedTasks.push(`${ps} ← ${result?.cachedFrom}`);
      ui.info(`${ps}: cached ← ${result?.cachedFrom}`);
      if (cachedTasks.length === LISTED) ui.info(`  (more cached tasks are counted, not listed)`);
    }
    if (kind === 'retry') {
      const r = retriesOf(task.step);
      ui.info(retryLine(ps, task.attempt, r.times, r.minutesBetweenRetries, result?.error?.message));
    }
    // after a wait, the retry's start is a sign of life
    if (kind === 'start' && task.attempt > 0 && retriesOf(task.step).minutesBetweenRetries > 0) ui.info(retryStartLine(ps, task.attempt, retriesOf(task.step).times));
    if (kind === 'done' && result?.caught) ui.info(`${ps}: failed but caught by @catchErrors: ${result.error?.message}`);
    if (kind === 'failed' && !sched.failure) {
      ui.info(`${ps} failed: ${typed(result?.error)}${result?.error?.where ? ` (at ${result.error.where})` : ''}${notRetriedNote(task.attempt, retriesOf(task.step).times, result?.error)}`);
      // a task that failed because the datastore could not be reached has no stored log to point at
      if (result?.error?.type === 'DatastoreError') ui.info(`  its log may not have reached the datastore (it could not be reached); what it printed is above`);
      else ui.info(`  see its log: flowbook logs ${ps}`);
      if (sched.runningCount > 0) ui.info(`  stopping ${sched.runningCount} running task(s)`);
      queueMicrotask(o.killAll);
    }
    ui.progress({ done: sched.counts.done, cloned: sched.counts.cloned + sched.counts.cached, failed: sched.counts.failed, running: sched.runningCount, total: sched.planned });
  };
  return { onTaskEvent, clonedTasks, ranTasks, cachedTasks };
}
