// The runner's liveness record: <run>/heartbeat.json ({host, pid, at}) written when the run starts
// and every FLOWBOOK_HEARTBEAT_SECONDS while it runs, so readers on any machine can tell a live
// run from one whose runner was killed (see datastore/liveness.ts).
import os from 'node:os';
import type { FlowDatastore } from '../datastore/store.js';
import { heartbeatKey, heartbeatMs, type Heartbeat } from '../datastore/liveness.js';

export async function startHeartbeat(store: FlowDatastore, runId: string): Promise<() => void> {
  const key = heartbeatKey(store.runKey(runId));
  const beat = () => store.backend.put(key, JSON.stringify({ host: os.hostname(), pid: process.pid, at: new Date().toISOString() } satisfies Heartbeat));
  await beat();
  const timer = setInterval(() => void beat().catch(() => {}), heartbeatMs());
  timer.unref();
  return () => clearInterval(timer);
}
