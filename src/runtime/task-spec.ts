// The task protocol: everything a process needs to run one task. The local warm worker, a fresh
// process (`--isolation process`) and a Kubernetes pod (`flowbook step --task-spec …`) all run a
// TaskSpec through the same runTask().
import type { ErrorInfo, ForeachFrame, LocalSlot, ResourceUse } from '../datastore/metadata.js';
import type { GraphNode, NodeType } from '../flow/graph-types.js';
import type { CodePackageRef } from './code-package.js';
import type { CardSpec } from '../flow/decorators.js';
import type { JournalEntry } from '../datastore/task-records.js';

export interface TaskSpec {
  root: string;
  flowFile: string;
  flowName: string;
  runId: string;
  step: string;
  taskId: string;
  /** 0-based attempt number (current.retryCount) */
  attempt: number;
  /** whether a failure of this attempt is final (no retry left) */
  lastAttempt: boolean;
  /** pathspecs of the parent tasks; a join has one per branch/foreach task, in order */
  inputs: string[];
  /** a join of a foreach over zero items: the foreach task's pathspec (mergeArtifacts merges its artifacts) */
  emptyForeach?: string;
  isJoin: boolean;
  /** the foreach frames this task is in (outermost first); the last one gives this.input */
  foreachStack: ForeachFrame[];
  /** where the task sits in the graph: the same in every run (used by resume to match tasks) */
  key: string;
  nodeType: NodeType;
  /** what the step's next() does, from the graph */
  transition: 'linear' | 'branch' | 'foreach' | 'switch' | 'end';
  /** successors according to the source (a switch: all cases) */
  graphOut: string[];
  maxNumSplits: number;
  resources: { cpu: number; memory: number; gpu: number };
  /** a local task: what its slot was made from, recorded with its resource use (advise reads it) */
  localSlot?: LocalSlot;
  tags: string[];
  user: string;
  /** run parameters by parameter name (start stores them as artifacts; later steps inherit them) */
  params: Record<string, unknown>;
  /** @catchErrors var: on a final failure the task still completes with the error in this artifact */
  catchVar?: string;
  /** the step's cards as the runner has them (with `--with card`); else the flow module's @card */
  cards?: CardSpec[];
  catchPrint?: boolean;
  worker: string;
  /** echo the task's output with a [run/step/task] prefix to the process's stdout/stderr */
  echo: boolean;
  /** set for a task that runs elsewhere (a pod): the flow's code, fetched from the datastore */
  codePackage?: CodePackageRef;
}

/** `Flow/run/step/task` of a task */
export const pathspecOf = (s: Pick<TaskSpec, 'flowName' | 'runId' | 'step' | 'taskId'>): string => `${s.flowName}/${s.runId}/${s.step}/${s.taskId}`;

/** What a step's next() does, from its node in the graph. */
export function transitionOf(node: GraphNode): TaskSpec['transition'] {
  return node.foreach ? 'foreach' : node.condition ? 'switch' : node.out.length > 1 ? 'branch' : node.out.length ? 'linear' : 'end';
}

export interface TaskResult {
  ok: boolean;
  pathspec: string;
  next?: string[];
  foreachCount?: number;
  error?: ErrorInfo;
  /** the process running the task died or was killed (timeout): it could not record the failure itself */
  lost?: boolean;
  /** @catchErrors turned a failure into a DONE task */
  caught?: boolean;
  resources?: ResourceUse;
  /** what to append to the step's journal (the attempt, the DONE record): the runner commits them */
  records?: JournalEntry[];
}
