// A task's place in the graph: the splits it is nested in, its key (the same in every run, so
// resume can match tasks), its foreach stack, and what its step does next. The runner's scheduler
// and an Argo pod planning its own task (compute/argo/plan.ts) both derive it here, so a task
// sits in the same place whoever plans it.
import type { GraphNode } from '../../flow/graph-types.js';
import type { ForeachFrame } from '../../datastore/metadata.js';

/** A split this task is nested in. Static branches and foreach both push one; a join pops it. */
export interface Frame {
  kind: 'static' | 'foreach';
  step: string;
  taskId: string;
  index: number;
  count: number;
  field?: string;
}

/** Where one task sits: its step and id, its parents, the splits around it. */
export interface TaskPlace {
  step: string;
  taskId: string;
  /** pathspecs of the parent tasks; a join has one per branch/foreach task, in order */
  inputs: string[];
  frames: Frame[];
  key: string;
  /** a join of a foreach over zero items: the foreach task, whose artifacts mergeArtifacts passes on */
  emptyForeach?: string;
}

export function taskKey(step: string, frames: Frame[]): string {
  return step + frames.map((f) => `/${f.step}:${f.index}`).join('');
}

export function foreachStack(frames: Frame[]): ForeachFrame[] {
  return frames
    .filter((f) => f.kind === 'foreach')
    .map((f) => ({ step: f.step, taskId: f.taskId, field: f.field!, index: f.index, count: f.count }));
}

/** What a step's next() does. */
export type TransitionKind = 'linear' | 'branch' | 'foreach' | 'switch' | 'end';

/** What a step's next() does, from its node in the graph. */
export function transitionOf(node: GraphNode): TransitionKind {
  return node.foreach ? 'foreach' : node.condition ? 'switch' : node.out.length > 1 ? 'branch' : node.out.length ? 'linear' : 'end';
}

/** The part of a TaskSpec (spec.ts) the graph gives: where the task sits and what its step does next. */
export function graphPlace(task: TaskPlace, node: GraphNode) {
  return {
    step: task.step,
    taskId: task.taskId,
    inputs: task.inputs,
    ...(task.emptyForeach ? { emptyForeach: task.emptyForeach } : {}),
    isJoin: node.isJoin,
    foreachStack: foreachStack(task.frames),
    key: task.key,
    nodeType: node.type,
    transition: transitionOf(node),
    graphOut: node.out,
  };
}
