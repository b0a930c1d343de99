// Is a run's runner still alive? A runner killed with -9 cannot write "failed", so a run record
// that says "running" is checked against its runner: on this host its pid must exist; elsewhere
// (another machine, a pod) its heartbeat must be recent. A run whose runner is gone reads as
// `killed` everywhere (client, dump, resume) without anyone having to write it.
import os from 'node:os';
import type { RunMeta, RunStatus } from './metadata.js';

export interface Heartbeat {
  host: string;
  pid: number;
  /** ISO time of the last beat */
  at: string;
}

/** How often a runner beats (FLOWBOOK_HEARTBEAT_SECONDS, default 15 s); stale after 4 missed beats. */
export const heartbeatMs = () => 1000 * (Number(process.env.FLOWBOOK_HEARTBEAT_SECONDS) || 15);

export function processAlive(host: string, pid: number, at?: string): boolean {
  if (host === os.hostname() && pid > 0) {
    try {
      process.kill(pid, 0);
    } catch (err: any) {
      if (err?.code === 'ESRCH') return false;
    }
    // alive — unless that pid was reused long after the runner died: then its beats stopped
    return !at || Date.now() - Date.parse(at) < 4 * heartbeatMs() + 60_000;
  }
  return !!at && Date.now() - Date.parse(at) < 4 * heartbeatMs();
}

/** The status to show: `killed` for a "running" run whose runner is gone. */
export function effectiveStatus(meta: RunMeta, beat?: Heartbeat): RunStatus {
  if (meta.status !== 'running') return meta.status;
  // Argo runs the workflow and its exit handler always writes the end: there is no runner to watch
  if (meta.argo) return 'running';
  const alive = processAlive(beat?.host ?? meta.host, beat?.pid ?? meta.pid, beat?.at);
  return alive ? 'running' : 'killed';
}

export const heartbeatKey = (runKey: string) => `${runKey}/heartbeat.json`;

/** A run's last heartbeat, if it has one (sync: the client's status is a plain property). */
export function readHeartbeatSync(backend: { getSync(key: string): Buffer }, runKey: string): Heartbeat | undefined {
  try {
    return JSON.parse(backend.getSync(heartbeatKey(runKey)).toString('utf8'));
  } catch {
    return undefined;
  }
}
