// What a task really used: wall time, CPU (this process and the children it waited for), and
// peak RSS. A warm worker runs many tasks, so the kernel's peak-RSS mark (VmHWM) is reset at the
// start of each task by writing 5 to /proc/self/clear_refs (Linux ≥ 4.0).
import fs from 'node:fs';
import os from 'node:os';
import type { ResourceUse } from '../datastore/metadata.js';

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

function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS * 1024;
}

export interface UsageMeter {
  stop(requested: ResourceUse['requested'], worker: string): ResourceUse;
}

export function startUsage(): UsageMeter {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* peak then covers the worker's life, an upper bound */
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ch0 = childCpu();
  return {
    stop(requested, worker) {
      const cpu = process.cpuUsage(cpu0);
      const ch = childCpu();
      // microseconds are all the clocks give: no 17-digit floats in every task's record
      const us = (s: number) => Math.round(s * 1e6) / 1e6;
      return {
        wallSeconds: us((performance.now() - t0) / 1000),
        cpuUserSeconds: us(cpu.user / 1e6 + (ch.user - ch0.user)),
        cpuSystemSeconds: us(cpu.system / 1e6 + (ch.sys - ch0.sys)),
        peakRssBytes: peakRss(),
        // in a pod: the node it ran on (downward API), as the timeline groups tasks by host
        host: process.env.FLOWBOOK_NODE_NAME || os.hostname(),
        pid: process.pid,
        worker,
        requested,
      };
    },
  };
}
