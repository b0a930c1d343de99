// The records the datastore keeps beside the blobs. All are small JSON files.
//
//   <root>/<Flow>/data/<sha[0:2]>/<sha>[.gz]                     content-addressed artifact blobs
//   <root>/<Flow>/runs/<runId>/run.json                          RunMeta
//   <root>/<Flow>/runs/<runId>/<step>/tasks.jsonl                the step's task records: AttemptMeta and
//                                                               TaskDone (the commit point of a task) as
//                                                               journal lines (S3: tasks/<seq>.jsonl batches)
//   <root>/<Flow>/runs/<runId>/<step>/<taskId>/attempt-<n>.stdout|.stderr   (only when it printed)
//   <root>/<Flow>/runs/<runId>/<step>/<taskId>/cards/*.html
//   <root>/<Flow>/index/<tagKey>/{latest,latest_successful,runs} index files (see index-files.ts)
//   <root>/<Flow>/cache/<step>/<key[0:2]>/<key>.json             @cache entries (see cache-index.ts)
import type { SerializerName } from './serializers.js';
import type { ErrorInfo } from '../errors.js';

export interface ArtifactRef {
  sha: string;
  /** serialized size in bytes */
  size: number;
  /** bytes on disk (after compression) */
  stored: number;
  serializer: SerializerName;
  type: string;
  encoding: 'none' | 'gzip';
  /** a small artifact's bytes (base64), kept in the task's record instead of a blob file */
  inline?: string;
}

/** `killed`: its runner died without finishing it (never written by the runner: see liveness.ts); resumable */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'killed';

export interface RunMeta {
  flowName: string;
  runId: string;
  status: RunStatus;
  createdAt: string;
  finishedAt?: string;
  user: string;
  /** user tags (--tag and addTag) */
  tags: string[];
  /** tags the system sets: user:<name>, runtime:node, ... (namespaces are system tags) */
  systemTags: string[];
  params: Record<string, unknown>;
  flowFile: string;
  sourceSha: string;
  host: string;
  pid: number;
  originRunId?: string;
  /** resume: the step it re-ran from (that step and everything after it were not cloned) */
  resumeStep?: string;
  /** a spin run (system tag `spin`): the past task it replayed, `Flow/run/step/task`; never in the run indexes */
  spinOf?: string;
  /** the graph's shape, for the default card's picture (steps in order, their successors) */
  graph?: { order: string[]; nodes: Record<string, { type: string; out: string[]; foreach?: string; condition?: string }> };
  /** the step and error that failed the run */
  failure?: { pathspec: string; message: string };
  /** a run made by Argo Workflows: its workflow (which owns its liveness and writes its end) */
  argo?: { workflow: string; uid: string; template: string };
  /** the run's `--with` decorators as given (`kubernetes:cpu=2`, `retry`): a resume runs with them too */
  with?: string[];
}

export interface ForeachFrame {
  /** the step that did the foreach, and its task in this run (this.input is its field[index]) */
  step: string;
  taskId: string;
  field: string;
  index: number;
  count: number;
  /** a short text of the value iterated over, for display */
  value?: string;
}

export interface ResourceUse {
  wallSeconds: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  /**
   * the task's own peak memory (bytes): the process's peak RSS during the task minus its RSS when
   * the task started (what a warm worker already held), plus its child processes' peak. Records written before
   * `baselineRssBytes` existed hold the process's peak here.
   */
  peakRssBytes: number;
  /** the process's peak RSS during the task (bytes), the worker's baseline included */
  processPeakRssBytes?: number;
  /** the process's RSS when the task started (bytes) */
  baselineRssBytes?: number;
  /** the largest sum of the peak RSS of the task's live child processes (ffmpeg …), sampled; included in peakRssBytes */
  childrenPeakRssBytes?: number;
  host: string;
  pid: number;
  worker: string;
  /** what the task held: a local task its slot, a pod its request */
  requested: { cpu: number; memory: number; gpu?: number };
  /**
   * the most cores the task (its process and child processes) used over any second of it:
   * evidence that it can run in parallel (undefined: under a second, or recorded before issue 19)
   */
  peakCores?: number;
  /** a local task: where its slot came from (advice judges a pod request only where the slot is it) */
  localSlot?: LocalSlot;
}

/**
 * A local task's slot is the smallest of the step's @resources (a pod's request), the flow's
 * `localResources` for the step and this machine: what each said, so that advice knows what it judged.
 */
export interface LocalSlot {
  /** the step's @resources / @kubernetes, as declared (absent: not declared) */
  declared: { cpu?: number; memory?: number };
  /** what the flow's localResources hook returned for the step (absent: no hook, or it said nothing) */
  localResources: { cpu?: number; memory?: number };
}

/** a task's error as it is stored: defined beside the error classes (a TaskFailedError's cause is one) */
export type { ErrorInfo };

export interface AttemptMeta {
  pathspec: string;
  attempt: number;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  resources?: ResourceUse;
  error?: ErrorInfo;
}

export interface TaskDone {
  pathspec: string;
  step: string;
  taskId: string;
  attempt: number;
  artifacts: Record<string, ArtifactRef>;
  foreachStack: ForeachFrame[];
  inputs: string[];
  startedAt: string;
  finishedAt: string;
  resources?: ResourceUse;
  /** key that identifies this task's place in the graph across runs: step + foreach indices + branch */
  key: string;
  /** set when resume cloned this task from another run, or @cache reused it (then the task that ran) */
  origin?: string;
  /** set when @cache reused an earlier task's results instead of running: that task (Flow/run/step/task) */
  cachedFrom?: string;
  /** set when @catchErrors caught a failure */
  caught?: ErrorInfo;
  /** which successor(s) the task chose, recorded for resume and display */
  next?: string[];
  foreachCount?: number;
}
