// Validate a parsed graph and fill in what follows from its edges: node types, predecessors,
// split parents and matching joins (Metaflow's split-join balance), and a topological order.
// Every error is one line: `file:line: what is wrong`.
import { GraphError } from '../errors.js';
import type { FlowGraph, GraphNode } from './graph-types.js';
import type { ParseFacts } from './graph-parse.js';

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** A branch path element: `split>target` for a static branch, `split>*` for a foreach. */
type Path = string[];
const splitOf = (el: string) => el.slice(0, el.indexOf('>'));
const samePath = (a: Path, b: Path) => a.length === b.length && a.every((x, i) => x === b[i]);

export function validateGraph(graph: FlowGraph, facts?: ParseFacts): void {
  const { file, nodes } = graph;
  const at = (n: GraphNode | number, what: string) => new GraphError(`${file}:${typeof n === 'number' ? n : n.line}: ${what}`);
  const classLine = facts?.classLine ?? 1;
  if (!nodes.start) throw at(classLine, `flow ${graph.flowName} has no 'start' step (a @step method named start)`);
  if (!nodes.end) throw at(classLine, `flow ${graph.flowName} has no 'end' step (a @step method named end)`);

  for (const node of Object.values(nodes)) {
    const calls = facts?.nextCalls.get(node.name) ?? [];
    if (node.name === 'end') {
      if (node.out.length) throw at(calls[0]?.line ?? node.line, "step 'end' must not call this.next()");
      continue;
    }
    if (!node.out.length) throw at(node, `step '${node.name}' has no this.next(...) call`);
    const key = (c: { targets: string[]; foreach?: string; condition?: string }) => JSON.stringify([c.targets, c.foreach, c.condition]);
    const other = calls.find((c) => key(c) !== key(calls[0]));
    if (other) throw at(other.line, `step '${node.name}' calls this.next() with different targets in different places; use a switch ({ condition })`);
    for (const t of node.out) {
      if (nodes[t]) continue;
      const near = Object.keys(nodes).filter((n) => distance(n, t) <= 2).sort((a, b) => distance(a, t) - distance(b, t))[0];
      throw at(calls[0]?.line ?? node.line, `step '${node.name}' calls next() with unknown step '${t}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    if (node.foreach !== undefined && facts && !facts.assigned.has(node.foreach)) {
      throw at(calls[0]?.line ?? node.line, `step '${node.name}' does a foreach over '${node.foreach}', which is never assigned (this.${node.foreach} = [...])`);
    }
    if (node.condition !== undefined && facts && !facts.assigned.has(node.condition)) {
      throw at(calls[0]?.line ?? node.line, `step '${node.name}' switches on '${node.condition}', which is never assigned (this.${node.condition} = ...)`);
    }
  }

  // predecessors, in source order
  for (const n of Object.values(nodes)) n.in = [];
  for (const n of Object.values(nodes)) for (const t of n.out) if (!nodes[t].in.includes(n.name)) nodes[t].in.push(n.name);

  // cycles (depth-first, with the path for the message)
  const state = new Map<string, 1 | 2>();
  const dfs = (s: string, stack: string[]) => {
    state.set(s, 1);
    for (const t of nodes[s].out) {
      if (state.get(t) === 1) {
        const cycle = [...stack.slice(stack.indexOf(t)), t];
        throw at(nodes[t], `steps form a cycle: ${cycle.join(' → ')}`);
      }
      if (!state.has(t)) dfs(t, [...stack, t]);
    }
    state.set(s, 2);
  };
  dfs('start', ['start']);

  // reachability
  const reached = new Set<string>();
  const todo = ['start'];
  while (todo.length) {
    const s = todo.pop()!;
    if (reached.has(s)) continue;
    reached.add(s);
    todo.push(...nodes[s].out);
  }
  for (const n of Object.values(nodes)) if (!reached.has(n.name)) throw at(n, `step '${n.name}' cannot be reached from start`);

  // node types
  for (const n of Object.values(nodes)) {
    if (n.name === 'end') n.type = 'end';
    else if (n.isJoin) n.type = 'join';
    else if (n.foreach !== undefined) n.type = 'split-foreach';
    else if (n.condition !== undefined) n.type = 'split-switch';
    else if (n.out.length > 1) n.type = 'split-static';
    else n.type = n.name === 'start' ? 'start' : 'linear';
  }

  // topological order, ties by source order
  const srcOrder = Object.keys(nodes);
  const indeg = new Map(srcOrder.map((s) => [s, nodes[s].in.length]));
  const order: string[] = [];
  const ready = ['start'];
  while (ready.length) {
    ready.sort((a, b) => srcOrder.indexOf(a) - srcOrder.indexOf(b));
    const s = ready.shift()!;
    order.push(s);
    for (const t of nodes[s].out) {
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) ready.push(t);
    }
  }
  graph.order = order;

  // split/join balance: walk in topological order carrying each step's branch path
  const paths = new Map<string, Path>([['start', []]]);
  for (const s of order) {
    const n = nodes[s];
    const preds = n.in.map((p) => ({ p, path: outPath(nodes[p], paths.get(p)!, s) }));
    let path: Path;
    if (s === 'start') path = [];
    else if (n.isJoin) {
      const tops = new Set(preds.map((x) => x.path.at(-1)));
      if (preds.some((x) => x.path.length === 0)) throw at(n, `step '${s}' takes inputs but is not a join: nothing before it splits (remove the inputs parameter)`);
      const splits = new Set(preds.map((x) => splitOf(x.path.at(-1)!)));
      if (splits.size > 1) throw at(n, `step '${s}' joins steps from different splits (${[...splits].join(', ')}); join the inner split first`);
      const split = [...splits][0];
      const outer = preds[0].path.slice(0, -1);
      if (preds.some((x) => !samePath(x.path.slice(0, -1), outer))) throw at(n, `step '${s}' joins steps from different splits; join the inner split first`);
      const splitNode = nodes[split];
      if (splitNode.foreach === undefined && tops.size < splitNode.out.length) {
        throw at(n, `step '${s}' joins only some branches of '${split}' (${[...tops].map((t) => t!.split('>')[1]).join(', ')} of ${splitNode.out.join(', ')})`);
      }
      if (splitNode.matchingJoin && splitNode.matchingJoin !== s) throw at(n, `split '${split}' is joined twice: by '${splitNode.matchingJoin}' and '${s}'`);
      splitNode.matchingJoin = s;
      n.splitParents = [...outer.map(splitOf), split];
      path = outer;
    } else {
      const distinct = preds.filter((x, i) => preds.findIndex((y) => samePath(y.path, x.path)) === i);
      if (distinct.length > 1) {
        const split = splitOf(distinct[0].path.at(-1) ?? distinct[1].path.at(-1)!);
        throw at(n, `step '${s}' joins the branches of '${split}' but does not take inputs: declare it as async ${s}(inputs: Inputs)`);
      }
      path = preds[0].path;
      n.splitParents = path.map(splitOf);
    }
    if (s === 'end' && path.length) throw at(n, `step 'end' is reached inside split '${splitOf(path.at(-1)!)}', which is never joined`);
    paths.set(s, path);
  }
}

/** The branch path a step hands to its successor `to`. */
function outPath(n: GraphNode, path: Path, to: string): Path {
  if (n.foreach !== undefined) return [...path, `${n.name}>*`];
  if (n.condition === undefined && n.out.length > 1) return [...path, `${n.name}>${to}`];
  return path;
}
