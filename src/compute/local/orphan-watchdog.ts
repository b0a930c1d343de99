// A worker must die with its runner whatever its step is doing. The IPC 'disconnect' event only
// fires when the event loop is free, so a step stuck in synchronous code (a long loop, a blocking
// native call) would outlive a runner killed with -9.
//
// On Linux the kernel does it: the worker is started through util-linux's `setpriv --pdeathsig
// KILL` (it sets PR_SET_PDEATHSIG and execs node, so no extra process stays), and the kernel
// kills the worker the moment the runner dies — at no memory cost. Where setpriv is missing, a
// tiny worker thread (its own event loop, ~12 MiB of memory) watches the parent pid instead.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** the flag worker-main.js is started with when the kernel will kill it with its parent */
export const PDEATHSIG_FLAG = '--pdeathsig';

let setpriv: string | null | undefined;

/** setpriv, when this machine has one that knows --pdeathsig (Linux, util-linux ≥ 2.33) */
export function pdeathsigLauncher(): string | undefined {
  if (setpriv === undefined) {
    setpriv = null;
    if (process.platform === 'linux') {
      for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/bin'])) {
        const f = path.join(dir, 'setpriv');
        if (dir && fs.existsSync(f)) {
          // an older util-linux has setpriv without --pdeathsig: asked once (~2 ms)
          if (spawnSync(f, ['--help'], { encoding: 'utf8', timeout: 2000 }).stdout?.includes('--pdeathsig')) setpriv = f;
          break;
        }
      }
    }
  }
  return setpriv ?? undefined;
}

const WATCH = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL');
}, workerData.everyMs);
`;

/** In the worker: watch the parent with a thread, unless the kernel already will (PDEATHSIG_FLAG). */
export function dieWithParent(everyMs = 200): void {
  if (process.argv.includes(PDEATHSIG_FLAG)) return;
  const w = new Worker(WATCH, { eval: true, workerData: { parent: process.ppid, self: process.pid, everyMs } });
  // never keeps the process alive, never blocks its exit
  w.unref();
}
