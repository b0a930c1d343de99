// The graph as parsed from TypeScript source: shapes, every validation error with its file:line,
// the formatting for `flowbook show`, and the source-hash cache.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadFlowGraph, parseFlowSource, validateGraph, PARSER_VERSION } from '../../src/flow/graph.js';
import { formatGraph } from '../../src/flow/graph-format.js';
import { FlowFileError, GraphError } from '../../src/errors.js';
import type { FlowGraph } from '../../src/flow/graph-types.js';

const HEAD = `import { FlowSpec, step, resources, retry, card, type Inputs } from 'flowbook';\n`;
/** A flow from member lines: the class is on line 2, the first member on line 3. */
const flow = (body: string) => `${HEAD}export class F extends FlowSpec {\n${body}\n}\n`;
const parse = (body: string) => parseFlowSource(flow(body), 'flows/f.ts');
const errorOf = (source: string) => {
  try {
    parseFlowSource(source, 'flows/f.ts');
  } catch (e) {
    expect(e).toBeInstanceOf(GraphError);
    return (e as Error).message;
  }
  throw new Error('expected a GraphError');
};
/** out / in / type / splitParents / matchingJoin of every node, for whole-graph comparisons */
const shape = (g: FlowGraph) =>
  Object.fromEntries(
    Object.values(g.nodes).map((n) => [n.name, [n.type, n.out.join(','), n.in.join(','), n.splitParents.join(','), n.matchingJoin ?? '']]),
  );

describe('graph shapes', () => {
  it('linear', () => {
    const g = parse(`  @step async start() { this.next(this.a); }
  @step async a() { this.next(this.end); }
  @step async end() {}`);
    expect(g.flowName).toBe('F');
    expect(g.file).toBe('flows/f.ts');
    expect(g.sourceSha).toMatch(/^[0-9a-f]{64}$/);
    expect(g.order).toEqual(['start', 'a', 'end']);
    expect(shape(g)).toEqual({
      start: ['start', 'a', '', '', ''],
      a: ['linear', 'end', 'start', '', ''],
      end: ['end', '', 'a', '', ''],
    });
    expect(g.nodes.a).toMatchObject({ line: 4, isJoin: false });
  });

  it('static branch', () => {
    const g = parse(`  @step async start() { this.next(this.a, this.b); }
  @step async b() { this.next(this.j); }
  @step async a() { this.next(this.j); }
  @step async j(inputs: Inputs) { this.next(this.end); }
  @step async end() {}`);
    expect(shape(g)).toEqual({
      start: ['split-static', 'a,b', '', '', 'j'],
      b: ['linear', 'j', 'start', 'start', ''],
      a: ['linear', 'j', 'start', 'start', ''],
      j: ['join', 'end', 'b,a', 'start', ''],
      end: ['end', '', 'j', '', ''],
    });
    expect(g.nodes.j.isJoin).toBe(true);
    expect(g.order).toEqual(['start', 'b', 'a', 'j', 'end']); // ties: source order
  });

  it('branches nested three deep', () => {
    const g = parse(`  @step async start() { this.next(this.a, this.b); }
  @step async a() { this.next(this.a1, this.a2); }
  @step async a1() { this.next(this.a1x, this.a1y); }
  @step async a1x() { this.next(this.j3); }
  @step async a1y() { this.next(this.j3); }
  @step async j3(inputs: Inputs) { this.next(this.j2); }
  @step async a2() { this.next(this.j2); }
  @step async j2(inputs: Inputs) { this.next(this.j1); }
  @step async b() { this.next(this.j1); }
  @step async j1(inputs: Inputs) { this.next(this.end); }
  @step async end() {}`);
    expect(shape(g)).toEqual({
      start: ['split-static', 'a,b', '', '', 'j1'],
      a: ['split-static', 'a1,a2', 'start', 'start', 'j2'],
      a1: ['split-static', 'a1x,a1y', 'a', 'start,a', 'j3'],
      a1x: ['linear', 'j3', 'a1', 'start,a,a1', ''],
      a1y: ['linear', 'j3', 'a1', 'start,a,a1', ''],
      j3: ['join', 'j2', 'a1x,a1y', 'start,a,a1', ''],
      a2: ['linear', 'j2', 'a', 'start,a', ''],
      j2: ['join', 'j1', 'j3,a2', 'start,a', ''],
      b: ['linear', 'j1', 'start', 'start', ''],
      j1: ['join', 'end', 'j2,b', 'start', ''],
      end: ['end', '', 'j1', '', ''],
    });
    expect(g.order).toEqual(['start', 'a', 'a1', 'a1x', 'a1y', 'j3', 'a2', 'j2', 'b', 'j1', 'end']);
  });

  it('foreach', () => {
    const g = parse(`  xs!: number[];
  @step async start() { this.xs = [1, 2, 3]; this.next(this.square, { foreach: 'xs' }); }
  @step async square() { this.next(this.join); }
  @step async join(inputs: Inputs) { this.next(this.end); }
  @step async end() {}`);
    expect(g.nodes.start).toMatchObject({ type: 'split-foreach', foreach: 'xs', out: ['square'], matchingJoin: 'join', line: 4 });
    expect(shape(g)).toEqual({
      start: ['split-foreach', 'square', '', '', 'join'],
      square: ['linear', 'join', 'start', 'start', ''],
      join: ['join', 'end', 'square', 'start', ''],
      end: ['end', '', 'join', '', ''],
    });
    expect(g.order).toEqual(['start', 'square', 'join', 'end']);
  });

  it('foreach nested three deep', () => {
    const g = parse(`  as_ = [1, 2];
  @step async start() { this.next(this.fa, { foreach: 'as_' }); }
  @step async fa() { this.bs = [10, 20, 30]; this.next(this.fb, { foreach: 'bs' }); }
  @step async fb() { [this.cs] = [[100, 200]]; this.next(this.fc, { foreach: "cs" }); }
  @step async fc() { this.next(this.jc); }
  @step async jc(inputs: Inputs) { this.next(this.jb); }
  @step async jb(inputs: Inputs) { this.next(this.ja); }
  @step async ja(inputs: Inputs) { this.next(this.end); }
  @step async end() {}`);
    expect(shape(g)).toEqual({
      start: ['split-foreach', 'fa', '', '', 'ja'],
      fa: ['split-foreach', 'fb', 'start', 'start', 'jb'],
      fb: ['split-foreach', 'fc', 'fa', 'start,fa', 'jc'],
      fc: ['linear', 'jc', 'fb', 'start,fa,fb', ''],
      jc: ['join', 'jb', 'fc', 'start,fa,fb', ''],
      jb: ['join', 'ja', 'jc', 'start,fa', ''],
      ja: ['join', 'end', 'jb', 'start', ''],
      end: ['end', '', 'ja', '', ''],
    });
    expect([g.nodes.start.foreach, g.nodes.fa.foreach, g.nodes.fb.foreach]).toEqual(['as_', 'bs', 'cs']);
    expect(g.order).toEqual(['start', 'fa', 'fb', 'fc', 'jc', 'jb', 'ja', 'end']);
  });

  it('a branch inside a foreach', () => {
    const g = parse(`  xs!: number[];
  @step async start() { this.xs = [1, 2]; this.next(this.body, { foreach: 'xs' }); }
  @step async body() { this.next(this.p, this.q); }
  @step async p() { this.next(this.jpq); }
  @step async q() { this.next(this.jpq); }
  @step async jpq(inputs: Inputs) { this.next(this.jx); }
  @step async jx(inputs: Inputs) { this.next(this.end); }
  @step async end() {}`);
    expect(shape(g)).toEqual({
      start: ['split-foreach', 'body', '', '', 'jx'],
      body: ['split-static', 'p,q', 'start', 'start', 'jpq'],
      p: ['linear', 'jpq', 'body', 'start,body', ''],
      q: ['linear', 'jpq', 'body', 'start,body', ''],
      jpq: ['join', 'jx', 'p,q', 'start,body', ''],
      jx: ['join', 'end', 'jpq', 'start', ''],
      end: ['end', '', 'jx', '', ''],
    });
    expect(g.order).toEqual(['start', 'body', 'p', 'q', 'jpq', 'jx', 'end']);
  });

  it('switch: no split opens, the branches converge at a normal step', () => {
    const g = parse(`  branch!: string;
  @step async start() { this.branch = 'high'; this.next({ high: this.hi, 'low-ish': this.lo, 3: this.lo }, { condition: 'branch' }); }
  @step async hi() { this.next(this.end); }
  @step async lo() { this.next(this.end); }
  @step async end() {}`);
    expect(g.nodes.start).toMatchObject({ condition: 'branch', switchCases: { high: 'hi', 'low-ish': 'lo', 3: 'lo' } });
    expect(shape(g)).toEqual({
      start: ['split-switch', 'hi,lo', '', '', ''],
      hi: ['linear', 'end', 'start', '', ''],
      lo: ['linear', 'end', 'start', '', ''],
      end: ['end', '', 'hi,lo', '', ''],
    });
    expect(g.order).toEqual(['start', 'hi', 'lo', 'end']);
  });

  it('a switch inside a foreach converges inside it, then the foreach is joined', () => {
    const g = parse(`  xs = [1, 2];
  mode!: string;
  @step async start() { this.next(this.s, { foreach: 'xs' }); }
  @step async s() { this.mode = 'x'; this.next({ x: this.x, y: this.y }, { condition: 'mode' }); }
  @step async x() { this.next(this.m); }
  @step async y() { this.next(this.m); }
  @step async m() { this.next(this.j); }
  @step async j(inputs: Inputs) { this.next(this.end); }
  @step async end() {}`);
    expect(g.nodes.m).toMatchObject({ type: 'linear', in: ['x', 'y'], splitParents: ['start'] });
    expect(g.nodes.s.matchingJoin).toBeUndefined();
    expect(g.nodes.start.matchingJoin).toBe('j');
  });

  it('next() in several places with the same targets, decorators, doc comments, lines', () => {
    const g = parse(`  /**
   * Begin here.
   * More text.
   */
  @step async start() { if (Math.random() > 0.5) { this.next(this.a); } else { this.next(this.a); } }
  @resources({ cpu: 2,
    memory: 1024 })
  /** Work. */
  @retry({ times: 3 }) @step @card()
  async a() { this.next(this.end); }
  @step async end() {}`);
    expect(g.nodes.start).toMatchObject({ line: 7, doc: 'Begin here.', decorators: [{ name: 'step', line: 7 }] });
    expect(g.nodes.a).toMatchObject({
      line: 12,
      doc: 'Work.',
      decorators: [
        { name: 'resources', line: 8, args: '{ cpu: 2,\n    memory: 1024 }' },
        { name: 'retry', line: 11, args: '{ times: 3 }' },
        { name: 'step', line: 11 },
        { name: 'card', line: 11, args: '' },
      ],
    });
    expect(g.nodes.a.decorators[2].args).toBeUndefined();
    expect(g.nodes.end.doc).toBeUndefined();
  });

  it('doc: the first line, or the sentence it starts when it runs on', () => {
    const doc = (d: string) => parse(`  ${d}\n  @step async start() { this.next(this.end); }\n  @step async end() {}`).nodes.start.doc;
    expect(doc('/** Make the list */')).toBe('Make the list');
    expect(doc('/**\n   * Make the list.\n   * Then more\n   */')).toBe('Make the list.');
    expect(doc('/** Split the work. One task\n   * per item. */')).toBe('Split the work.');
    expect(doc('/** A long first\n   * sentence here. More. */')).toBe('A long first sentence here.');
    expect(doc('/**\n   * @deprecated\n   */')).toBeUndefined();
    expect(doc('// not a doc comment')).toBeUndefined();
  });

  it('finds the flow class: the first exported one, also as flowbook.FlowSpec or export { }', () => {
    const src = `import * as flowbook from 'flowbook';
class Helper extends flowbook.FlowSpec { @flowbook.step async start() {} }
class Real extends flowbook.FlowSpec {
  @flowbook.step async start() { this.next(this.end); }
  @flowbook.step async end() {}
}
export { Real };
`;
    const g = parseFlowSource(src, 'x.ts');
    expect(g.flowName).toBe('Real');
    expect(g.nodes.start.line).toBe(4);
    const first = src.replace('export { Real };', '').replace('class Real', 'export default class Real');
    expect(parseFlowSource(first, 'x.ts').flowName).toBe('Real');
    expect(() => parseFlowSource(src.replace('export { Real };', 'export { Helper };'), 'x.ts')).toThrow("x.ts:2: flow Helper has no 'end' step");
  });

  it('an unexported flow class is used when it is the only one', () => {
    const g = parseFlowSource(`import { FlowSpec, step } from 'flowbook';\nclass Solo extends FlowSpec {\n  @step async start(this: Solo) { this.next(this.end); }\n  @step async end() {}\n}\n`, 'x.ts');
    expect(g.flowName).toBe('Solo');
    expect(g.nodes.start.isJoin).toBe(false); // a `this` parameter is not inputs
  });

  it('validateGraph recomputes a graph it is given', () => {
    const g = parse(`  @step async start() { this.next(this.a, this.b); }
  @step async a() { this.next(this.j); }
  @step async b() { this.next(this.j); }
  @step async j(inputs: Inputs) { this.next(this.end); }
  @step async end() {}`);
    const copy = structuredClone(g);
    copy.order = [];
    for (const n of Object.values(copy.nodes)) [n.in, n.splitParents] = [[], []];
    validateGraph(copy);
    expect(copy).toEqual(g);
    delete (copy.nodes as Record<string, unknown>).end;
    expect(() => validateGraph(copy)).toThrow("flows/f.ts:1: flow F has no 'end' step (a @step method named end)");
  });
});

describe('formatGraph (flowbook show)', () => {
  it('prints each step in order with its doc, decorators, joins and next', () => {
    const g = parse(`  xs = [1];
  /** Make the list. */
  @step async start() { this.next(this.square, { foreach: 'xs' }); }
  @resources({ cpu: 2 }) @step async square() { this.next(this.join); }
  @step async join(inputs: Inputs) { this.next(this.b1, this.b2); }
  @step async b1() { this.next(this.j2); }
  @step async b2() { this.next(this.j2); }
  @step async j2(inputs: Inputs) { this.next(this.end); }
  @step async end() {}`);
    expect(formatGraph(g, [{ name: 'items', type: 'json', default: [1, 2], help: 'the items' }])).toBe(
      [
        'Flow F  (flows/f.ts)',
        '',
        'Parameters:',
        '    --items <json> (default [1,2])  the items',
        '',
        'Step start  (line 5)',
        '    Make the list.',
        '    => square (foreach over xs)',
        '',
        'Step square  (line 6)',
        '    @resources({ cpu: 2 })',
        '    => join',
        '',
        'Step join  (line 7)',
        '    joins the foreach of start (over xs)',
        '    => b1, b2 (branches, joined at j2)',
        '',
        'Step b1  (line 8)',
        '    => j2',
        '',
        'Step b2  (line 9)',
        '    => j2',
        '',
        'Step j2  (line 10)',
        '    joins the branches of join: b1, b2',
        '    => end',
        '',
        'Step end  (line 11)',
        '',
      ].join('\n'),
    );
  });

  it('prints a switch with its cases', () => {
    const g = parse(`  c = 'x';
  @step async start() { this.next({ x: this.a, 'y z': this.end }, { condition: 'c' }); }
  @step async a() { this.next(this.end); }
  @step async end() {}`);
    expect(formatGraph(g)).toContain('Step start  (line 4)\n    => a, end (switch on c: "x": a, "y z": end)\n');
  });
});

describe('graph errors, each with file:line', () => {
  const S = `  @step async start() { this.next(this.end); }`;
  const E = `  @step async end() {}`;
  const cases: [string, string, string][] = [
    ['no flow class', `export class X extends Other {}\n`, 'flows/f.ts:1: no class extends FlowSpec in this file'],
    ['no start step', flow(E), "flows/f.ts:2: flow F has no 'start' step (a @step method named start)"],
    ['no end step', flow(`  @step async start() { this.next(this.start); }`), "flows/f.ts:2: flow F has no 'end' step (a @step method named end)"],
    ['end calls next', flow(`${S}\n  @step async end() {\n    this.next(this.start);\n  }`), "flows/f.ts:5: step 'end' must not call this.next()"],
    ['a step without next', flow(`  @step async start() { this.next(this.a); }\n  @step async a() { }\n${E}`), "flows/f.ts:4: step 'a' has no this.next(...) call"],
    ['next to an unknown step, with a suggestion', flow(`  @step async start() {\n    this.next(this.ned);\n  }\n${E}`), "flows/f.ts:4: step 'start' calls next() with unknown step 'ned' (did you mean 'end'?)"],
    ['next to an unknown step, nothing close', flow(`  @step async start() { this.next(this.somewhere); }\n${E}`), "flows/f.ts:3: step 'start' calls next() with unknown step 'somewhere'"],
    ['next to a method without @step', flow(`  @step async start() { this.next(this.work); }\n  async work() { this.next(this.end); }\n${E}`), "flows/f.ts:3: step 'start' calls next() with 'work', which is a method without @step (line 4)"],
    ['unreachable step', flow(`${S}\n  @step async lost() { this.next(this.end); }\n${E}`), "flows/f.ts:4: step 'lost' cannot be reached from start"],
    ['cycle', flow(`  @step async start() { this.next(this.a); }\n  @step async a() { this.next(this.b); }\n  @step async b() { this.next(this.a); }\n${E}`), 'flows/f.ts:4: steps form a cycle: a -> b -> a'],
    ['join without inputs', flow(`  @step async start() { this.next(this.a, this.b); }\n  @step async a() { this.next(this.j); }\n  @step async b() { this.next(this.j); }\n  @step async j() { this.next(this.end); }\n${E}`), "flows/f.ts:6: step 'j' joins the branches of 'start' but does not take inputs: declare it as async j(inputs: Inputs)"],
    ['inner join without inputs', flow(`  @step async start() { this.next(this.a, this.b); }\n  @step async a() { this.next(this.a1, this.a2); }\n  @step async a1() { this.next(this.ja); }\n  @step async a2() { this.next(this.ja); }\n  @step async ja() { this.next(this.j); }\n  @step async b() { this.next(this.j); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:7: step 'ja' joins the branches of 'a' but does not take inputs: declare it as async ja(inputs: Inputs)"],
    ['foreach never joined', flow(`  xs = [1];\n  @step async start() { this.next(this.a, { foreach: 'xs' }); }\n  @step async a() { this.next(this.b); }\n  @step async b() { this.next(this.end); }\n${E}`), "flows/f.ts:6: step 'b' does not take inputs, so the foreach of 'start' (line 4) is still open at 'end': if 'b' is its join, declare it as async b(inputs: Inputs); else add a join step before 'end'"],
    ['a foreach join that forgot its inputs is reported at the join', flow(`  xs = [1];\n  @step async start() { this.next(this.a, { foreach: 'xs' }); }\n  @step async a() { this.next(this.join); }\n  @step async join() { this.next(this.end); }\n${E}`), "flows/f.ts:6: step 'join' does not take inputs, so the foreach of 'start' (line 4) is still open at 'end': if 'join' is its join, declare it as async join(inputs: Inputs); else add a join step before 'end'"],
    ['an inner foreach join that forgot its inputs is reported at it', flow(`  xs = [1];\n  @step async start() { this.next(this.a, { foreach: 'xs' }); }\n  @step async a() { this.next(this.b, { foreach: 'xs' }); }\n  @step async b() { this.next(this.ja); }\n  @step async ja() { this.next(this.j); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:7: step 'ja' does not take inputs, so the foreach of 'start' (line 4) is still open at 'end': if 'ja' is its join, declare it as async ja(inputs: Inputs); else add a join step before 'end'"],
    ['a foreach body that goes straight to end', flow(`  xs = [1];\n  @step async start() { this.next(this.a, { foreach: 'xs' }); }\n  @step async a() { this.next(this.end); }\n${E}`), "flows/f.ts:6: step 'end' is reached before the split at 'start' is joined: add a join step (one taking inputs) before 'end'"],
    ['nested foreach, inner never joined', flow(`  xs = [1];\n  @step async start() { this.next(this.a, { foreach: 'xs' }); }\n  @step async a() { this.next(this.b, { foreach: 'xs' }); }\n  @step async b() { this.next(this.j); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:8: step 'end' is reached before the split at 'start' is joined: add a join step (one taking inputs) before 'end'"],
    ['two foreaches, neither joined', flow(`  xs = [1];\n  @step async start() { this.next(this.a, { foreach: 'xs' }); }\n  @step async a() { this.next(this.b, { foreach: 'xs' }); }\n  @step async b() { this.next(this.end); }\n${E}`), "flows/f.ts:7: step 'end' is reached before the splits at 'a', 'start' are joined: add a join step (one taking inputs) before 'end'"],
    ['inputs on a step that is not a join', flow(`  @step async start() { this.next(this.a); }\n  @step async a(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:4: step 'a' takes inputs but is not a join: no split is open before it (remove the parameter)"],
    ['start takes inputs', flow(`  @step async start(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:3: step 'start' takes inputs, but nothing comes before it (remove the parameter)"],
    ['a step with two parameters', flow(`  @step async start() { this.next(this.a, this.b); }\n  @step async a() { this.next(this.j); }\n  @step async b() { this.next(this.j); }\n  @step async j(inputs: Inputs, more: number) { this.next(this.end); }\n${E}`), "flows/f.ts:6: step 'j' declares 2 parameters; a step takes none, or one (inputs) if it is a join"],
    ['foreach field never assigned', flow(`  @step async start() { this.next(this.a, { foreach: 'items' }); }\n  @step async a() { this.next(this.j); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:3: step 'start' does a foreach over 'items', which is never assigned (this.items = [...])"],
    ['switch condition never assigned', flow(`  @step async start() { this.next({ a: this.a, b: this.end }, { condition: 'mode' }); }\n  @step async a() { this.next(this.end); }\n${E}`), "flows/f.ts:3: step 'start' switches on 'mode', which is never assigned (this.mode = ...)"],
    ['foreach option not a string literal', flow(`  @step async start() {\n    const f = 'xs';\n    this.next(this.a, { foreach: f });\n  }\n  @step async a() { this.next(this.end); }\n${E}`), "flows/f.ts:5: step 'start': the foreach option of next() must be a string literal naming a field"],
    ['condition option not a string literal', flow(`  @step async start() { this.next({ a: this.a, b: this.end }, { condition }); }\n  @step async a() { this.next(this.end); }\n${E}`), "flows/f.ts:3: step 'start': the condition option of next() must be a string literal naming a field"],
    ['unknown next() option', flow(`  @step async start() { this.next(this.end, { forEach: 'xs' }); }\n${E}`), "flows/f.ts:3: step 'start': unknown next() option 'forEach' (the options are foreach and condition)"],
    ['foreach and condition together', flow(`  @step async start() { this.next(this.end, { foreach: 'xs', condition: 'c' }); }\n${E}`), "flows/f.ts:3: step 'start': next() takes either a foreach or a condition option, not both"],
    ['switch with one case', flow(`  c = 'x';\n  @step async start() { this.next({ x: this.end }, { condition: 'c' }); }\n${E}`), "flows/f.ts:4: step 'start': a switch needs at least 2 cases"],
    ['switch without a condition', flow(`  @step async start() { this.next({ x: this.a, y: this.end }); }\n  @step async a() { this.next(this.end); }\n${E}`), "flows/f.ts:3: step 'start': a switch needs a condition: this.next({ a: this.x, b: this.y }, { condition: 'field' })"],
    ['switch case that is not a step', flow(`  c = 'x';\n  @step async start() { this.next({ x: this.end, y: 'a' }, { condition: 'c' }); }\n${E}`), "flows/f.ts:4: step 'start': each switch case must be `name: this.step`, got `y: 'a'`"],
    ['switch with several steps', flow(`  c = 'x';\n  @step async start() { this.next({ x: this.end }, { y: this.end }, { condition: 'c' }); }\n${E}`), "flows/f.ts:4: step 'start': a switch is this.next({ a: this.x, b: this.y }, { condition: 'field' })"],
    ['next() argument that is not a step', flow(`  @step async start() { this.next(end); }\n${E}`), "flows/f.ts:3: step 'start': next() arguments must be steps like this.end, got `end`"],
    ['next() with no step', flow(`  @step async start() { this.next(); }\n${E}`), "flows/f.ts:3: step 'start': this.next() needs at least one step"],
    ['next() naming a step twice', flow(`  @step async start() { this.next(this.a, this.a); }\n  @step async a() { this.next(this.end); }\n${E}`), "flows/f.ts:3: step 'start': next() names step 'a' twice"],
    ['foreach to two steps', flow(`  xs = [1];\n  @step async start() { this.next(this.a, this.b, { foreach: 'xs' }); }\n${E}`), "flows/f.ts:4: step 'start': a foreach goes to exactly one step"],
    ['different next() targets in different places', flow(`  @step async start() {\n    if (Math.random()) this.next(this.a);\n    else this.next(this.end);\n  }\n  @step async a() { this.next(this.end); }\n${E}`), "flows/f.ts:5: step 'start' calls next() with different targets in different places; use a switch"],
    ['a branch that skips the join', flow(`  @step async start() { this.next(this.a, this.b); }\n  @step async a() { this.next(this.j); }\n  @step async b() { this.next(this.end); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:6: step 'j' joins only some branches of 'start' (a; not b): every branch must reach the join"],
    ['a join across nested splits', flow(`  @step async start() { this.next(this.a, this.b); }\n  @step async a() { this.next(this.a1, this.a2); }\n  @step async a1() { this.next(this.j); }\n  @step async a2() { this.next(this.j); }\n  @step async b() { this.next(this.j); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:8: step 'j' joins steps of different splits (a1, a2 inside 'a'; b inside 'start'); join the innermost split 'a' first"],
    ['a join of a split and of steps outside it', flow(`  c = 'x';\n  @step async start() { this.next({ x: this.s, y: this.j }, { condition: 'c' }); }\n  @step async s() { this.next(this.p, this.q); }\n  @step async p() { this.next(this.j); }\n  @step async q() { this.next(this.j); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:8: step 'j' joins steps of different splits (start outside any split; p, q inside 's'); join the innermost split 's' first"],
    ['a split that goes straight to its join', flow(`  @step async start() { this.next(this.a, this.j); }\n  @step async a() { this.next(this.j); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:5: step 'start' goes straight to its join 'j': each branch needs a step before the join"],
    ['an empty foreach', flow(`  xs = [1];\n  @step async start() { this.next(this.j, { foreach: 'xs' }); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:5: step 'start' goes straight to its join 'j': each foreach needs a step before the join"],
    ['a foreach joined twice', flow(`  xs = [1];\n  c = 'x';\n  @step async start() { this.next(this.a, { foreach: 'xs' }); }\n  @step async a() { this.next({ x: this.j1, y: this.j2 }, { condition: 'c' }); }\n  @step async j1(inputs: Inputs) { this.next(this.end); }\n  @step async j2(inputs: Inputs) { this.next(this.end); }\n${E}`), "flows/f.ts:8: split 'start' is joined twice: by 'j1' and by 'j2'"],
    ['a switch case given twice', flow(`  c = 'x';\n  @step async start() { this.next({ x: this.a, x: this.end }, { condition: 'c' }); }\n  @step async a() { this.next(this.end); }\n${E}`), "flows/f.ts:4: step 'start': switch case 'x' appears twice"],
    ['a step defined twice', flow(`${S}\n  @step async start() { this.next(this.end); }\n${E}`), "flows/f.ts:4: step 'start' is defined twice (first at line 3)"],
    ['a step named like an Object.prototype member', flow(`  @step async start() { this.next(this.toString); }\n  @step async toString() { this.next(this.end); }\n${E}`), "flows/f.ts:4: step name 'toString' is not allowed: every JavaScript object has a member of that name (Object.prototype); rename the step"],
    ['hasOwnProperty as a step', flow(`  @step async start() { this.next(this.hasOwnProperty); }\n  @step async hasOwnProperty() { this.next(this.end); }\n${E}`), "flows/f.ts:4: step name 'hasOwnProperty' is not allowed: every JavaScript object has a member of that name (Object.prototype); rename the step"],
    ['a reserved step name', flow(`  @step async start() { this.next(this.input); }\n  @step async input() { this.next(this.end); }\n${E}`), "flows/f.ts:4: step 'input' has a reserved name (a FlowSpec member); rename it"],
    ['a computed step name', flow(`${S}\n  @step async [Symbol.iterator]() { this.next(this.end); }\n${E}`), 'flows/f.ts:4: a step needs a plain method name, not `[Symbol.iterator]`'],
  ];
  for (const [what, source, message] of cases) {
    it(what, () => expect(errorOf(source)).toBe(message));
  }

  it('a foreach field set by a class field, a destructuring or this[...] assignment is assigned', () => {
    for (const set of [`  xs = param.json('xs', { default: [1] });`, `  setup() { ({ a: this.xs } = { a: [1] }); }`, `  setup() { this['xs'] = [1]; }`]) {
      const g = parse(`${set}\n  @step async start() { this.next(this.a, { foreach: 'xs' }); }\n  @step async a() { this.next(this.j); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n${E}`);
      expect(g.nodes.start.matchingJoin).toBe('j');
    }
  });
});

describe('loadFlowGraph and its cache', () => {
  const withCache = async (fn: (dir: string) => Promise<void>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-graph-'));
    const prev = process.env.FLOWBOOK_CACHE_DIR;
    process.env.FLOWBOOK_CACHE_DIR = path.join(dir, 'cache');
    try {
      await fn(dir);
    } finally {
      if (prev === undefined) delete process.env.FLOWBOOK_CACHE_DIR;
      else process.env.FLOWBOOK_CACHE_DIR = prev;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it('parses once per source, re-parses an edited file, and never caches an invalid graph', () =>
    withCache(async (dir) => {
      const file = path.join(dir, 'f.ts');
      fs.writeFileSync(file, flow(`  @step async start() { this.next(this.end); }\n  @step async end() {}`));
      const g1 = await loadFlowGraph(file);
      const cacheFiles = () => fs.readdirSync(path.join(dir, 'cache', 'graph')).sort();
      expect(cacheFiles()).toEqual([`${g1.sourceSha}-v${PARSER_VERSION}.json`]);
      // a hit: same graph; prove it comes from the cache by planting a marker in the entry
      const entry = path.join(dir, 'cache', 'graph', cacheFiles()[0]);
      fs.writeFileSync(entry, JSON.stringify({ ...g1, flowName: 'FromCache', file: 'elsewhere.ts' }));
      expect(await loadFlowGraph(file)).toEqual({ ...g1, flowName: 'FromCache' }); // file: the path asked for
      fs.writeFileSync(entry, JSON.stringify(g1));
      expect(await loadFlowGraph(file)).toEqual(g1);

      fs.writeFileSync(file, flow(`  @step async start() { this.next(this.a); }\n  @step async a() { this.next(this.end); }\n  @step async end() {}`));
      const g2 = await loadFlowGraph(file);
      expect(g2.order).toEqual(['start', 'a', 'end']);
      expect(g2.sourceSha).not.toBe(g1.sourceSha);
      expect(cacheFiles()).toHaveLength(2);

      fs.writeFileSync(file, flow(`  @step async start() { this.next(this.nowhere); }\n  @step async end() {}`));
      await expect(loadFlowGraph(file)).rejects.toThrow(`${file}:3: step 'start' calls next() with unknown step 'nowhere'`);
      expect(cacheFiles()).toHaveLength(2);
      expect(cacheFiles().some((f) => f.endsWith('.tmp'))).toBe(false);
    }));

  it('a missing file is a FlowFileError', async () => {
    await expect(loadFlowGraph('no/such/flow.ts')).rejects.toThrow(new FlowFileError('flow file not found: no/such/flow.ts'));
  });

  it('a cache hit does not load the TypeScript compiler', () =>
    withCache(async (dir) => {
      // bundle graph.ts (node_modules external) and run it in fresh processes
      const esbuild = await import('esbuild');
      fs.symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir');
      await esbuild.build({
        entryPoints: [path.resolve('src/flow/graph.ts')],
        bundle: true,
        platform: 'node',
        format: 'esm',
        packages: 'external',
        outfile: path.join(dir, 'graph.mjs'),
        logLevel: 'silent',
      });
      fs.writeFileSync(
        path.join(dir, 'probe.mjs'),
        `import { createRequire } from 'node:module';
import { loadFlowGraph } from './graph.mjs';
const g = await loadFlowGraph(process.argv[2]);
const ts = Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\\\/]node_modules[\\\\/]typescript[\\\\/]/.test(k));
console.log(JSON.stringify({ order: g.order, ts }));
`,
      );
      const file = path.join(dir, 'f.ts');
      fs.writeFileSync(file, flow(`  @step async start() { this.next(this.end); }\n  @step async end() {}`));
      const probe = () => JSON.parse(execFileSync(process.execPath, [path.join(dir, 'probe.mjs'), file], { env: process.env, encoding: 'utf8' }));
      expect(probe()).toEqual({ order: ['start', 'end'], ts: true }); // miss: parsed with the compiler
      expect(probe()).toEqual({ order: ['start', 'end'], ts: false }); // hit: compiler never loaded
    }));
});
