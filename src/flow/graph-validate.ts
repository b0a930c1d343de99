// Validate a parsed graph and fill in what follows from its edges: node types, predecessors,
// split parents and matching joins (Metaflow's split/join balance), and a topological order.
// Every error is one line: `file:line: what is wrong`.
// This module does not load the TypeScript compiler.
import { GraphError } from '../errors.js';
import type { FlowGraph, GraphNode } from './graph-types.js';
import type { NextCall, ParseFacts } from './parse-facts.js';

/** Names a step cannot have: they are FlowSpec members the runtime relies on. */
const RESERVED = new Set(['next', 'input', 'index', 'foreachStack', 'mergeArtifacts', 'constructor']);

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The closest name within edit distance 2 (ties: source order). */
function closest(name: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const n of names) {
    const d = distance(n, name);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

/**
 * A branch path: the splits a step is inside, outermost first. An element is `split>target`
 * for a static branch (which branch we are on) and `split>*` for a foreach.
 */
type Path = string[];
const splitOf = (el: string) => el.slice(0, el.indexOf('>'));
const samePath = (a: Path, b: Path) => a.length === b.length && a.every((x, i) => x === b[i]);
const list = (xs: string[]) => xs.join(', ');

/** The branch path a step hands to its successor `to` (a switch opens no split). */
function outPath(n: GraphNode, path: Path, to: string): Path {
  if (n.foreach !== undefined) return [...path, `${n.name}>*`];
  if (n.condition === undefined && n.out.length > 1) return [...path, `${n.name}>${to}`];
  return path;
}

const callKey = (c: NextCall) => JSON.stringify([c.targets, c.foreach ?? null, c.condition ?? null, c.cases ?? null]);

/**
 * Check the graph and complete it in place: `type`, `in`, `splitParents`, `matchingJoin`, `order`.
 * `facts` (from the parser) adds the checks that need more than the graph: where each next() call
 * is, whether they agree, and which fields the class assigns.
 */
export function validateGraph(graph: FlowGraph, facts?: ParseFacts): void {
  const { file, nodes } = graph;
  const names = Object.keys(nodes);
  const at = (where: GraphNode | number, what: string) => new GraphError(`${file}:${typeof where === 'number' ? where : where.line}: ${what}`);
  const nextLine = (n: GraphNode) => facts?.nextCalls.get(n.name)?.[0]?.line ?? n.line;
  const classLine = facts?.classLine ?? 1;
  if (!nodes.start) throw at(classLine, `flow ${graph.flowName} has no 'start' step (a @step method named start)`);
  if (!nodes.end) throw at(classLine, `flow ${graph.flowName} has no 'end' step (a @step method named end)`);

  for (const node of Object.values(nodes)) {
    node.in = [];
    node.splitParents = [];
    delete node.matchingJoin;
    if (RESERVED.has(node.name)) throw at(node, `step '${node.name}' has a reserved name (a FlowSpec member); rename it`);
    const calls = facts?.nextCalls.get(node.name) ?? [];
    if (node.name === 'end') {
      if (node.out.length) throw at(nextLine(node), "step 'end' must not call this.next()");
      continue;
    }
    if (!node.out.length) throw at(node, `step '${node.name}' has no this.next(...) call`);
    const other = calls.find((c) => callKey(c) !== callKey(calls[0]));
    if (other) throw at(other.line, `step '${node.name}' calls next() with different targets in different places; use a switch`);
    for (const t of node.out) {
      if (nodes[t]) continue;
      const plain = facts?.plainMethods.get(t);
      if (plain !== undefined) throw at(nextLine(node), `step '${node.name}' calls next() with '${t}', which is a method without @step (line ${plain})`);
      const near = closest(t, names);
      throw at(nextLine(node), `step '${node.name}' calls next() with unknown step '${t}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    if (node.foreach !== undefined && facts && !facts.assigned.has(node.foreach)) {
      throw at(nextLine(node), `step '${node.name}' does a foreach over '${node.foreach}', which is never assigned (this.${node.foreach} = [...])`);
    }
    if (node.condition !== undefined && facts && !facts.assigned.has(node.condition)) {
      throw at(nextLine(node), `step '${node.name}' switches on '${node.condition}', which is never assigned (this.${node.condition} = ...)`);
    }
  }

  // predecessors, in source order
  for (const n of Object.values(nodes)) for (const t of n.out) if (!nodes[t].in.includes(n.name)) nodes[t].in.push(n.name);

  // cycles (depth-first from start, with the path for the message)
  const state = new Map<string, 'open' | 'done'>();
  const dfs = (s: string, stack: string[]) => {
    state.set(s, 'open');
    for (const t of nodes[s].out) {
      if (state.get(t) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(t)), t];
        throw at(nodes[t], `steps form a cycle: ${cycle.join(' -> ')}`);
      }
      if (!state.has(t)) dfs(t, [...stack, t]);
    }
    state.set(s, 'done');
  };
  dfs('start', ['start']);

  // reachability: after the cycle check, everything dfs did not visit is unreachable
  for (const n of Object.values(nodes)) if (!state.has(n.name)) throw at(n, `step '${n.name}' cannot be reached from start`);

  // node types
  for (const n of Object.values(nodes)) {
    if (n.name === 'end') n.type = 'end';
    else if (n.isJoin) n.type = 'join';
    else if (n.foreach !== undefined) n.type = 'split-foreach';
    else if (n.condition !== undefined) n.type = 'split-switch';
    else if (n.out.length > 1) n.type = 'split-static';
    else n.type = n.name === 'start' ? 'start' : 'linear';
  }

  // topological order from start, ties by source order
  const indeg = new Map(names.map((s) => [s, nodes[s].in.length]));
  const order: string[] = [];
  const ready = ['start'];
  while (ready.length) {
    ready.sort((a, b) => names.indexOf(a) - names.indexOf(b));
    const s = ready.shift()!;
    order.push(s);
    for (const t of nodes[s].out) {
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) ready.push(t);
    }
  }
  graph.order = order;

  if (nodes.start.isJoin) throw at(nodes.start, "step 'start' takes inputs, but nothing comes before it (remove the parameter)");
  checkSplitsAndJoins(graph, at);
}

/** Metaflow's split/join balance: walk in topological order carrying each step's branch path. */
function checkSplitsAndJoins(graph: FlowGraph, at: (where: GraphNode, what: string) => GraphError): void {
  const { nodes } = graph;
  const paths = new Map<string, Path>([['start', []]]);
  for (const s of graph.order) {
    if (s === 'start') continue;
    const n = nodes[s];
    const preds = n.in.map((p) => ({ p, path: outPath(nodes[p], paths.get(p)!, s) }));
    let path: Path;
    if (n.isJoin) {
      if (preds.every((x) => x.path.length === 0)) {
        throw at(n, `step '${s}' takes inputs but is not a join: no split is open before it (remove the parameter)`);
      }
      const splits = new Set(preds.map((x) => (x.path.length ? splitOf(x.path.at(-1)!) : '')));
      const deepest = preds.reduce((a, b) => (b.path.length > a.path.length ? b : a));
      const split = splitOf(deepest.path.at(-1)!);
      const outer = deepest.path.slice(0, -1);
      if (splits.size > 1 || preds.some((x) => !samePath(x.path.slice(0, -1), outer))) {
        const groups = [...splits].map((sp) => {
          const ps = preds.filter((x) => (x.path.length ? splitOf(x.path.at(-1)!) : '') === sp).map((x) => x.p);
          return `${list(ps)} ${sp ? `inside '${sp}'` : 'outside any split'}`;
        });
        throw at(n, `step '${s}' joins steps of different splits (${groups.join('; ')}); join the innermost split '${split}' first`);
      }
      const splitNode = nodes[split];
      if (preds.some((x) => x.p === split)) {
        throw at(n, `step '${split}' goes straight to its join '${s}': each ${splitNode.foreach !== undefined ? 'foreach' : 'branch'} needs a step before the join`);
      }
      if (splitNode.foreach === undefined) {
        const joined = [...new Set(preds.map((x) => x.path.at(-1)!.slice(split.length + 1)))];
        const missing = splitNode.out.filter((t) => !joined.includes(t));
        if (missing.length) {
          throw at(n, `step '${s}' joins only some branches of '${split}' (${list(joined)}; not ${list(missing)}): every branch must reach the join`);
        }
      }
      if (splitNode.matchingJoin && splitNode.matchingJoin !== s) {
        throw at(n, `split '${split}' is joined twice: by '${splitNode.matchingJoin}' and by '${s}'`);
      }
      splitNode.matchingJoin = s;
      n.splitParents = [...outer.map(splitOf), split];
      path = outer;
    } else {
      const distinct = preds.filter((x, i) => preds.findIndex((y) => samePath(y.path, x.path)) === i);
      if (distinct.length > 1) {
        const deepest = distinct.reduce((a, b) => (b.path.length > a.path.length ? b : a));
        const split = splitOf(deepest.path.at(-1)!);
        throw at(n, `step '${s}' joins the branches of '${split}' but does not take inputs: declare it as async ${s}(inputs: Inputs)`);
      }
      path = preds[0].path;
      n.splitParents = path.map(splitOf);
    }
    if (s === 'end' && path.length) {
      forgottenJoin(graph, paths, path, at);
      const open = path.map(splitOf).reverse();
      throw at(n, `step 'end' is reached before the split${open.length > 1 ? 's' : ''} at ${open.map((o) => `'${o}'`).join(', ')} ${open.length > 1 ? 'are' : 'is'} joined: add a join step (one taking inputs) before 'end'`);
    }
    paths.set(s, path);
  }
}

/**
 * `end` is reached with a split still open: most often a join step that forgot its `inputs`.
 * Walking back from `end` past joins and splits, the first plain step inside a split that follows
 * another step of it (not the split itself) is where a join was most likely meant, so the error is
 * reported at its line, not at `end`.
 */
function forgottenJoin(graph: FlowGraph, paths: Map<string, Path>, open: Path, at: (where: GraphNode, what: string) => GraphError): void {
  const { nodes } = graph;
  const split = splitOf(open.at(-1)!);
  const kind = nodes[split].foreach !== undefined ? 'foreach' : 'branches';
  const seen = new Set<string>();
  for (let cur = nodes.end.in[0]; cur !== undefined && !seen.has(cur); cur = nodes[cur].in[0]) {
    seen.add(cur);
    const n = nodes[cur];
    const path = paths.get(cur) ?? [];
    if (n.isJoin || n.out.length !== 1 || n.foreach !== undefined || n.condition !== undefined || !path.length) continue;
    if (n.in.length !== 1 || n.in[0] === splitOf(path.at(-1)!)) continue;
    throw at(n, `step '${cur}' does not take inputs, so the ${kind} of '${split}' (line ${nodes[split].line}) is still open at 'end': if '${cur}' is its join, declare it as async ${cur}(inputs: Inputs); else add a join step before 'end'`);
  }
}
