// Process-tree helpers for the kubelet emulator. A container is a process group (spawned detached),
// but children may leave the group (setsid) or be reparented to init once their parent dies, so we
// also remember every descendant seen via /proc/<pid>/stat's ppid while the container runs: that is
// what a cgroup would contain, and what memory accounting and the final kill must cover.
import fs from 'node:fs';

export interface ProcInfo {
  ppid: number;
  /** start time in clock ticks since boot: tells a remembered pid from a later reuse of the same number */
  start: string;
}

/** pid → ppid and start time for every process on the host (one pass over /proc). */
export function procTable(): Map<number, ProcInfo> {
  const out = new Map<number, ProcInfo>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const info = readStat(Number(e));
      if (info) out.set(Number(e), info);
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

function readStat(pid: number): ProcInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // the command name (field 2) may contain spaces and parentheses: fields resume after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return undefined;
  }
}

/** root and all its descendants, given a ppid map. */
export function processTree(root: number, procs: Map<number, ProcInfo>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of procs) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(pid);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    if (!procs.has(p)) continue;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status); 0 if gone or a zombie. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signal the container's process group and any remembered stragglers (pid → start time); ignore the already-dead. */
export function signalContainer(pgid: number, extra: Map<number, string>, sig: NodeJS.Signals) {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* group gone */
  }
  for (const [pid, start] of extra) {
    // only a process that is still the one we saw: never signal a stranger that reused the pid
    if (readStat(pid)?.start !== start) continue;
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}
