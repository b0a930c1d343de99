// What a task really used: wall time, CPU (this process and the children it waited for), and
// peak RSS.
//
// Memory is the task's own rise, not the worker's: a warm worker runs many tasks, and what an
// earlier task left resident (a 1.4 GB model in a module-level cache, heap not yet given back)
// would otherwise count against every later task. At the start of a task the kernel's peak-RSS
// mark (VmHWM) is reset to the current RSS by writing 5 to /proc/self/clear_refs (Linux ≥ 4.0)
// and that RSS is kept as the baseline; at the end, peakRssBytes = VmHWM − baseline. The absolute
// peak of the process is kept beside it (processPeakRssBytes) for context: it is what a pod running
// only this task would need on top of nothing else, an upper bound. (The other way, freeing caches
// between tasks, cannot undo what user code keeps referenced.) The rise can under-state a task
// that reuses heap an earlier task freed without the process returning it; the absolute peak
// brackets it from above.
//
// CPU over a second (peakCores): every 100 ms the CPU ticks of the process, of the children it
// waited for and of its live descendants are summed; the largest rise over any second of the task
// (a window of at least 1 s between two samples) over that window's length is peakCores. It is the
// evidence advice needs before telling a task that used all of a 1-cpu slot to ask for more: a
// task that ran above its slot for a second can run in parallel; one that never did may be
// single-threaded. A task whose JavaScript never yields is sampled only at its end (its one window
// is the whole task: peakCores is then its average).
//
// Child processes (ffmpeg, pocketsphinx): their CPU is counted (cutime/cstime). Their memory is
// sampled: every 100 ms while the task runs, the peak RSS (VmHWM) of each live descendant is read
// from /proc and summed; the largest sum is childrenPeakRssBytes, added to the task's peak (an
// upper bound: the task's own peak and its children's need not coincide). Linux has no exact
// per-task figure (getrusage(RUSAGE_CHILDREN).ru_maxrss is a maximum over every child ever waited
// for); a child that lives less than 100 ms, or one run with a synchronous spawn (which blocks
// the sampler), can be missed.
import fs from 'node:fs';
import os from 'node:os';
import type { LocalSlot, ResourceUse } from '../../datastore/metadata.js';

const CLK_TCK = 100;

/** CPU seconds of the child processes this process has waited for (ffmpeg, pocketsphinx …). */
export function childCpu(): { user: number; sys: number } {
  try {
    // fields after the "(comm)" part: state is field 3, cutime 16, cstime 17 (1-based)
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(rest[13]) / CLK_TCK, sys: Number(rest[14]) / CLK_TCK };
  } catch {
    return { user: 0, sys: 0 };
  }
}

/** VmHWM (peak) and VmRSS (now) of this process in bytes; undefined off Linux. */
function rssNow(): { peak: number; rss: number } | undefined {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    if (hwm && rss) return { peak: Number(hwm[1]) * 1024, rss: Number(rss[1]) * 1024 };
  } catch {
    /* not Linux */
  }
  return undefined;
}

/**
 * Node's own threads of this process (V8's platform threads, libuv's pool), noted by a warm worker
 * before any task ran (noteOwnThreads): they run no event loop, so they start no child process,
 * and their children files need not be read — the main thread's and any thread started since (a
 * step's worker_threads) still are. A child started by a native addon from libuv's pool is the
 * one this misses. Unset (a pod, --isolation process): every thread is read.
 */
let ownThreads: Set<string> | undefined;

/** Note Node's own threads; call before the first task, once libuv's pool has started. */
export function noteOwnThreads(): void {
  try {
    ownThreads = new Set(fs.readdirSync('/proc/self/task').filter((tid) => tid !== String(process.pid)));
  } catch {
    /* not Linux */
  }
}

/** Processes below this one (children, their children …), from /proc/<pid>/task/<tid>/children. */
function descendants(of = process.pid, out: number[] = []): number[] {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${of}/task`);
  } catch {
    return out;
  }
  // reading a thread's children file costs ~17 µs: a warm worker reads 1 of its 11, not all of them
  if (of === process.pid && ownThreads) tids = tids.filter((tid) => !ownThreads!.has(tid));
  for (const tid of tids) {
    let kids = '';
    try {
      kids = fs.readFileSync(`/proc/${of}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const k of kids.split(' ').filter(Boolean)) {
      out.push(Number(k));
      descendants(Number(k), out);
    }
  }
  return out;
}

/** utime + stime + cutime + cstime of /proc/<pid>/stat, in clock ticks (0 when it is gone). */
function ticksOf(pid: number | 'self'): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}

/** CPU ticks of this process, the children it waited for and its live descendants: a reaped child moves from the last into the second. */
function treeTicks(kids: number[]): number {
  return kids.reduce((a, pid) => a + ticksOf(pid), ticksOf('self'));
}

/** The sum of the peak RSS of this process's live descendants (bytes); 0 off Linux. */
function childrenHwm(kids: number[]): number {
  let sum = 0;
  for (const pid of kids) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) sum += Number(m[1]) * 1024;
    } catch {
      /* it exited meanwhile */
    }
  }
  return sum;
}

export interface UsageMeter {
  /**
   * Take the memory baseline again: after the flow's code is loaded, which a warm worker did once
   * before its first task and a fresh process does inside it, so both record the same task.
   */
  rebase(): void;
  stop(requested: ResourceUse['requested'], worker: string, localSlot?: LocalSlot): ResourceUse;
}

/** Reset VmHWM to the current RSS and return that RSS: the baseline, what the task found resident. */
function baselineNow(): number {
  let reset = true;
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // the peak then covers the worker's life: an upper bound
    reset = false;
  }
  const base = rssNow();
  return base ? (reset ? base.rss : base.peak) : process.memoryUsage.rss();
}

/** A UsageMeter is rebased once the flow's code is loaded (run-task.ts): the baseline is taken then. */
export function startUsage(): UsageMeter {
  let baseline = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ch0 = childCpu();
  let childrenPeak = 0;
  const cores = coresOverSeconds();
  const sample = (last = false) => {
    const kids = descendants();
    childrenPeak = Math.max(childrenPeak, childrenHwm(kids));
    cores.sample(kids, last);
  };
  const sampler = setInterval(sample, 100);
  sampler.unref();
  return {
    rebase() {
      baseline = baselineNow();
    },
    stop(requested, worker, localSlot) {
      sample(true);
      clearInterval(sampler);
      const cpu = process.cpuUsage(cpu0);
      const ch = childCpu();
      const now = rssNow();
      const processPeak = now ? now.peak : process.resourceUsage().maxRSS * 1024;
      // microseconds are all the clocks give: no 17-digit floats in every task's record
      const us = (s: number) => Math.round(s * 1e6) / 1e6;
      return {
        wallSeconds: us((performance.now() - t0) / 1000),
        cpuUserSeconds: us(cpu.user / 1e6 + (ch.user - ch0.user)),
        cpuSystemSeconds: us(cpu.system / 1e6 + (ch.sys - ch0.sys)),
        peakRssBytes: Math.max(0, processPeak - baseline) + childrenPeak,
        processPeakRssBytes: processPeak,
        baselineRssBytes: baseline,
        ...(childrenPeak ? { childrenPeakRssBytes: childrenPeak } : {}),
        // in a pod: the node it ran on (downward API), as the timeline groups tasks by host
        host: process.env.FLOWBOOK_NODE_NAME || os.hostname(),
        pid: process.pid,
        worker,
        requested,
        ...(cores.peak() !== undefined ? { peakCores: Math.round(cores.peak()! * 100) / 100 } : {}),
        ...(localSlot ? { localSlot } : {}),
      };
    },
  };
}

/** The most cores used over any window of at least a second between two samples (see the top). */
const HAS_PROC_STAT = fs.existsSync('/proc/self/stat');

function coresOverSeconds(): { sample(kids: number[], last: boolean): void; peak(): number | undefined } {
  if (!HAS_PROC_STAT) return { sample() {}, peak: () => undefined };
  const samples: { t: number; ticks: number }[] = [{ t: performance.now(), ticks: treeTicks(descendants()) }];
  let peak: number | undefined;
  return {
    sample(kids, last) {
      // the last sample of a task shorter than a second closes no window: its ticks are not read
      if (last && performance.now() - samples[0].t < 1000) return;
      // never down: a child between its exit and its reaping is in neither sum, and the rise when it
      // reappears in cutime would read as a burst of parallel work
      const now = { t: performance.now(), ticks: Math.max(treeTicks(kids), samples[samples.length - 1].ticks) };
      // the latest sample at least a second back: the shortest window that is a second long
      let i = samples.length - 1;
      while (i >= 0 && now.t - samples[i].t < 1000) i--;
      if (i >= 0) {
        const w = samples[i];
        peak = Math.max(peak ?? 0, (now.ticks - w.ticks) / CLK_TCK / ((now.t - w.t) / 1000));
        samples.splice(0, i); // older ones are never the latest a second back again
      }
      samples.push(now);
    },
    peak: () => peak,
  };
}
