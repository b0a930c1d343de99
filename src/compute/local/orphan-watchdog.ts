// A worker must die with its runner whatever its step is doing. The IPC 'disconnect' event only
// fires when the event loop is free, so a step stuck in synchronous code (a long loop, a blocking
// native call) would outlive a runner killed with -9. A tiny worker thread, which has its own event
// loop, watches the parent pid and kills this process the moment it is reparented.
import { Worker } from 'node:worker_threads';

const WATCH = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL');
}, workerData.everyMs);
`;

export function dieWithParent(everyMs = 200): void {
  const w = new Worker(WATCH, { eval: true, workerData: { parent: process.ppid, self: process.pid, everyMs } });
  // never keeps the process alive, never blocks its exit
  w.unref();
}
