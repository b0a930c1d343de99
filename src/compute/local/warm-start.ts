// Warm workers started the moment `flowbook run` (or `resume`) is parsed, before the runner
// imports its own modules: a worker's start (node itself, then flowbook's task code) is the
// longest wait of a short run, and this way it overlaps all of the runner's (its imports, the
// graph, the flow's bundle, the run record). The run's LocalExecutor adopts them (prestart); the
// flow module follows by message once the runner has prepared it. A command that fails before
// adopting them leaves nothing behind: a worker exits when its runner does (IPC disconnect, and
// the kernel's parent-death signal).
import { LocalWorker } from './worker.js';
import { thisMachine } from './slots.js';

let waiting: LocalWorker[] = [];

/**
 * Start the workers a run with these flags starts first (as many as it may run at once, up to
 * 2); none for --isolation process (a fresh process per task) or a --max-workers that is not a
 * number (the run reports it).
 */
export function startWarm(flags: { maxWorkers?: string; isolation?: string }): void {
  if (flags.isolation === 'process') return;
  const max = flags.maxWorkers === undefined ? thisMachine().cores : Number(flags.maxWorkers);
  if (!Number.isInteger(max) || max < 1) return;
  for (let i = waiting.length; i < Math.min(max, 2); i++) waiting.push(new LocalWorker(i + 1));
}

/** The workers startWarm() started, handed over once (later calls get none). */
export function takeWarm(): LocalWorker[] {
  const got = waiting.filter((w) => w.alive);
  waiting = [];
  return got;
}
