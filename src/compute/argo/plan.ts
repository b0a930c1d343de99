// Under Argo nobody plans tasks: each pod works out its own task from the graph and the foreach
// indices Argo hands it, and must arrive at what the local scheduler would have planned — the
// same key, frames, inputs and a task id that every pod derives alike — so the client, cards and
// resume see an ordinary run.
import type { FlowGraph, GraphNode } from '../../flow/graph-types.js';
import { taskKey, type Frame, type TaskPlace } from '../task/placement.js';
import { FlowUsageError } from '../../errors.js';

/** A split a step is nested in: for a static split, the branch (index into the split's `out`). */
export interface Enclosing {
  split: string;
  kind: 'static' | 'foreach';
  index?: number;
}

/** The split that `from` opens on the way to `to`, if any (a switch opens none, as in the scheduler). */
function opened(node: GraphNode, to: string): Enclosing | undefined {
  if (node.foreach) return { split: node.name, kind: 'foreach' };
  if (!node.condition && node.out.length > 1) return { split: node.name, kind: 'static', index: node.out.indexOf(to) };
  return undefined;
}

/** Every step's enclosing splits, outermost first (the graph validator has already checked balance). */
export function enclosingSplits(graph: FlowGraph): Record<string, Enclosing[]> {
  const paths: Record<string, Enclosing[]> = { start: [] };
  for (const s of graph.order) {
    if (s === 'start') continue;
    const node = graph.nodes[s];
    const via = node.in.map((p) => {
      const o = opened(graph.nodes[p], s);
      return o ? [...paths[p], o] : paths[p];
    });
    const deepest = via.reduce((a, b) => (b.length > a.length ? b : a));
    paths[s] = node.isJoin ? deepest.slice(0, -1) : via[0];
  }
  return paths;
}

/** The split step a join closes. */
export function splitJoinedBy(graph: FlowGraph, join: string): string {
  return graph.order.find((s) => graph.nodes[s].matchingJoin === join)!;
}

/** Only foreach frames take an index from Argo: a static branch's index is fixed by the graph. */
export function foreachDepth(path: Enclosing[]): number {
  return path.filter((e) => e.kind === 'foreach').length;
}

/** `",2,0"` (what the DAG templates concatenate) → [2, 0] */
export function parseIndices(text: string): number[] {
  const parts = text.split(',').filter((p) => p.trim() !== '');
  const out = parts.map(Number);
  if (out.some((n) => !Number.isInteger(n) || n < 0)) throw new FlowUsageError(`--indices must be comma-separated foreach indices, got ${JSON.stringify(text)}`);
  return out;
}

/**
 * A task id every pod computes alike: 1 + the task's frame indices folded by Cantor pairing. Within
 * a step the enclosing splits are fixed, so the indices alone tell its tasks apart — no hash, no
 * collisions, and a single foreach numbers its tasks 1..n in order.
 */
export function argoTaskId(frames: { index: number }[]): string {
  let n = frames[0]?.index ?? 0;
  for (const f of frames.slice(1)) n = ((n + f.index) * (n + f.index + 1)) / 2 + f.index;
  const id = String(n + 1);
  if (!Number.isSafeInteger(n + 1) || id.length > 12) throw new FlowUsageError(`task id for foreach indices ${frames.map((f) => f.index).join(',')} exceeds 12 digits: the nested foreach is too large for Argo task ids`);
  return id;
}

/** What a pod needs to know about the tasks of other steps (read from the run's journals). */
export interface RecordLookup {
  /** the done record of a task, or undefined when it did not run (a switch case not taken) */
  done(step: string, taskId: string): Promise<{ foreachCount?: number } | undefined>;
}

/** The frames of `step` given its foreach indices: each split's task id and count as the scheduler has them. */
async function framesOf(graph: FlowGraph, path: Enclosing[], indices: number[], records: RecordLookup): Promise<Frame[]> {
  const frames: Frame[] = [];
  const depth = foreachDepth(path);
  if (indices.length !== depth) throw new FlowUsageError(`got ${indices.length} foreach indices, expected ${depth} (one per enclosing foreach)`);
  let next = 0;
  for (const e of path) {
    const taskId = argoTaskId(frames);
    const node = graph.nodes[e.split];
    if (e.kind === 'static') {
      frames.push({ kind: 'static', step: e.split, taskId, index: e.index!, count: node.out.length });
      continue;
    }
    const done = await records.done(e.split, taskId);
    if (!done) throw new FlowUsageError(`foreach step '${e.split}' task ${taskId} has no completed record: it must finish before its body runs`);
    const index = indices[next++];
    if (index >= (done.foreachCount ?? 0)) throw new FlowUsageError(`foreach index ${index} is out of range for '${e.split}' (${done.foreachCount ?? 0} items)`);
    frames.push({ kind: 'foreach', step: e.split, taskId, index, count: done.foreachCount ?? 0, field: node.foreach });
  }
  return frames;
}

/** Plan one task of `step` as the scheduler would have: its frames, key, id and input tasks. */
export async function planArgoTask(graph: FlowGraph, runId: string, step: string, indices: number[], records: RecordLookup): Promise<TaskPlace> {
  const node = graph.nodes[step];
  if (!node) throw new FlowUsageError(`${graph.flowName} has no step '${step}'`);
  const paths = enclosingSplits(graph);
  const frames = await framesOf(graph, paths[step], indices, records);
  const pathspec = (s: string, fr: Frame[]) => `${graph.flowName}/${runId}/${s}/${argoTaskId(fr)}`;
  let inputs: string[] = [];
  if (step !== 'start' && node.isJoin) {
    // a join: one input per branch / foreach item, in index order; each came from whichever
    // predecessor ran on that branch (a switch inside a branch may end in different steps)
    const split = graph.nodes[splitJoinedBy(graph, step)];
    const splitId = argoTaskId(frames); // the split sits in the join's own frames
    const count = split.foreach ? ((await records.done(split.name, splitId))?.foreachCount ?? 0) : split.out.length;
    for (let i = 0; i < count; i++) {
      const inner: Frame[] = [...frames, { kind: split.foreach ? 'foreach' : 'static', step: split.name, taskId: splitId, index: i, count, ...(split.foreach ? { field: split.foreach } : {}) }];
      const candidates = node.in.filter((p) => split.foreach || paths[p].some((e) => e.split === split.name && e.index === i));
      inputs.push(await whichRan(candidates, inner, records, pathspec, `${step}'s input ${i}`));
    }
  } else if (step !== 'start') {
    // the split that opened this branch is one frame out; otherwise the predecessor shares the frames
    const preds = node.in.map((p) => ({ p, fr: opened(graph.nodes[p], step) ? frames.slice(0, -1) : frames }));
    if (preds.length === 1) inputs = [pathspec(preds[0].p, preds[0].fr)];
    else {
      // after a switch: the case that ran
      const found: string[] = [];
      for (const c of preds) if (await records.done(c.p, argoTaskId(c.fr))) found.push(pathspec(c.p, c.fr));
      if (found.length !== 1) throw new FlowUsageError(`step '${step}': expected exactly one of ${node.in.join(', ')} to have run, found ${found.length}`);
      inputs = found;
    }
  }
  const emptyForeach = node.isJoin && step !== 'start' && !inputs.length && graph.nodes[splitJoinedBy(graph, step)].foreach ? pathspec(splitJoinedBy(graph, step), frames) : undefined;
  return { step, taskId: argoTaskId(frames), key: taskKey(step, frames), frames, inputs, ...(emptyForeach ? { emptyForeach } : {}) };
}

async function whichRan(steps: string[], frames: Frame[], records: RecordLookup, pathspec: (s: string, f: Frame[]) => string, what: string): Promise<string> {
  const id = argoTaskId(frames);
  if (steps.length === 1) return pathspec(steps[0], frames);
  for (const s of steps) if (await records.done(s, id)) return pathspec(s, frames);
  throw new FlowUsageError(`${what}: none of ${steps.join(', ')} has a completed task ${id}`);
}
