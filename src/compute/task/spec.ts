// The task protocol: everything a process needs to run one task, and what it answers. The local
// warm worker, a fresh process (`--isolation process`), a Kubernetes pod (`flowbook step
// --task-spec …`) and an Argo pod all run a TaskSpec through the same runTask(); buildTaskSpec()
// is the one place a TaskSpec is made (the runner, an Argo pod, `flowbook kubernetes job`).
import type { ErrorInfo, ForeachFrame, LocalSlot, ResourceUse } from '../../datastore/metadata.js';
import type { GraphNode, NodeType } from '../../flow/graph-types.js';
import type { CardSpec, StepMeta } from '../../flow/decorators.js';
import type { JournalEntry } from '../../datastore/task-records.js';
import type { CodePackageRef } from '../code-package.js';
import { graphPlace, type TaskPlace, type TransitionKind } from './placement.js';

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
  transition: TransitionKind;
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
  /** a local task: the bundle the runner prepared of the flow (flow/prepare.ts), loaded without the TypeScript hooks */
  flowModule?: string;
}

/** `Flow/run/step/task` of a task */
export const pathspecOf = (s: Pick<TaskSpec, 'flowName' | 'runId' | 'step' | 'taskId'>): string => `${s.flowName}/${s.runId}/${s.step}/${s.taskId}`;

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
  /** @cache: the task did not run, it reuses this earlier task's results */
  cachedFrom?: string;
  resources?: ResourceUse;
  /** what to append to the step's journal (the attempt, the DONE record): the runner commits them */
  records?: JournalEntry[];
}

/** What a TaskSpec is made of besides its place in the graph. */
export interface TaskSpecParts {
  /** the datastore root the task reads and writes */
  root: string;
  flowFile: string;
  flowName: string;
  runId: string;
  place: TaskPlace;
  node: GraphNode;
  attempt: number;
  /** the step's @retry times: an attempt at or past it is the last */
  retries: number;
  /** --max-num-splits (default 100) */
  maxNumSplits?: number;
  /** the step's decorators (its @catchErrors) */
  meta?: StepMeta;
  /** what the task is told it has (current.resources): its slot here, its requests in a pod */
  resources: TaskSpec['resources'];
  localSlot?: LocalSlot;
  tags: string[];
  user: string;
  params: Record<string, unknown>;
  /** cards the runner adds (`--with card`); else the worker reads the step's own @card */
  cards?: CardSpec[];
  /** echo the task's output (default true) */
  echo?: boolean;
  codePackage?: CodePackageRef;
}

/** The TaskSpec of one attempt; `worker` is set by whatever runs it. */
export function buildTaskSpec(p: TaskSpecParts): Omit<TaskSpec, 'worker'> {
  const m = p.meta;
  return {
    root: p.root,
    flowFile: p.flowFile,
    flowName: p.flowName,
    runId: p.runId,
    ...graphPlace(p.place, p.node),
    attempt: p.attempt,
    lastAttempt: p.attempt >= p.retries,
    maxNumSplits: p.maxNumSplits ?? 100,
    resources: p.resources,
    ...(p.localSlot ? { localSlot: p.localSlot } : {}),
    tags: p.tags,
    user: p.user,
    params: p.params,
    ...(p.cards ? { cards: p.cards } : {}),
    catchVar: m?.catch?.var ?? (m?.catch ? 'caughtError' : undefined),
    catchPrint: m?.catch?.printException,
    echo: p.echo ?? true,
    ...(p.codePackage ? { codePackage: p.codePackage } : {}),
  };
}
