// A new run's record (run.json), built in one place for whatever starts a run: the local runner
// (runtime/run.ts), a spin (runtime/spin.ts) and an Argo workflow's start task (compute/argo/pod.ts).
import type { RunMeta } from './metadata.js';

/** The tags every run gets: its user (its namespace), the runtime, the version. */
export const SYSTEM_TAGS = (user: string) => [`user:${user}`, 'runtime:node', `flowbook_version:0.1.0`];

export interface RunRecordParts extends Pick<RunMeta, 'user' | 'tags' | 'params' | 'flowFile' | 'sourceSha' | 'host' | 'pid'> {
  /** default: now */
  createdAt?: string;
  /** system tags beyond SYSTEM_TAGS (an Argo run's `argo-workflow:NAME`) */
  moreSystemTags?: string[];
  graph?: RunMeta['graph'];
  originRunId?: string;
  resumeStep?: string;
  /** a spin run: the task it replays (runtime/spin.ts) */
  spinOf?: string;
  with?: string[];
  argo?: RunMeta['argo'];
}

/** The record of a run that has just started (status `running`); the store gives it its id. */
export function newRunRecord(p: RunRecordParts): Omit<RunMeta, 'runId' | 'flowName'> {
  return {
    status: 'running',
    createdAt: p.createdAt ?? new Date().toISOString(),
    user: p.user,
    tags: p.tags,
    systemTags: [...SYSTEM_TAGS(p.user), ...(p.moreSystemTags ?? [])],
    params: p.params,
    flowFile: p.flowFile,
    sourceSha: p.sourceSha,
    host: p.host,
    pid: p.pid,
    ...(p.originRunId ? { originRunId: p.originRunId } : {}),
    ...(p.resumeStep ? { resumeStep: p.resumeStep } : {}),
    ...(p.spinOf ? { spinOf: p.spinOf } : {}),
    ...(p.with?.length ? { with: p.with } : {}),
    ...(p.argo ? { argo: p.argo } : {}),
    ...(p.graph ? { graph: p.graph } : {}),
  };
}
