// The graph as parsed from TypeScript source: shapes, and every validation error with its line.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFlowSource } from '../src/flow/graph-parse.js';
import { loadFlowGraph } from '../src/flow/graph.js';
import { formatGraph } from '../src/flow/graph-format.js';
import { GraphError } from '../src/errors.js';

const HEAD = `import { FlowSpec, step, type Inputs } from 'flowbook';\n`;
/** A flow from step lines; line numbers in messages count from the import line (1). */
const flow = (body: string) => `${HEAD}export class F extends FlowSpec {\n${body}\n}\n`;
const parse = (body: string) => parseFlowSource(flow(body), 'f.ts');
const err = (body: string) => {
  try {
    parse(body);
  } catch (e) {
    expect(e).toBeInstanceOf(GraphError);
    return (e as Error).message;
  }
  throw new Error('expected a GraphError');
};

describe('graph shapes', () => {
  it('linear', () => {
    const g = parse(`  @step async start() { this.next(this.a); }\n  @step async a() { this.next(this.end); }\n  @step async end() {}`);
    expect(g.flowName).toBe('F');
    expect(g.order).toEqual(['start', 'a', 'end']);
    expect(g.nodes.a).toMatchObject({ type: 'linear', in: ['start'], out: ['end'], line: 4, splitParents: [] });
  });

  it('static branch', () => {
    const g = parse(`  @step async start() { this.next(this.a, this.b); }
  @step async a() { this.next(this.j); }
  @step async b() { this.next(this.j); }
  @step async j(inputs: Inputs) { this.next(this.end); }
  @step async end() {}`);
    expect(g.nodes.start).toMatchObject({ type: 'split-static', out: ['a', 'b'], matchingJoin: 'j' });
    expect(g.nodes.j).toMatchObject({ type: 'join', isJoin: true, in: ['a', 'b'], splitParents: ['start'] });
    expect(g.nodes.a.splitParents).toEqual(['start']);
    expect(g.order).toEqual(['start', 'a', 'b', 'j', 'end']);
  });

  it('branches nested three deep', () => {
    const g = parseFlowSource(fs.readFileSync('test/fixtures/flows/nested3.ts', 'utf8'), 'nested3.ts');
    expect(g.nodes.a1x.splitParents).toEqual(['start', 'a', 'a1']);
    expect(g.nodes.a1.matchingJoin).toBe('j3');
    expect(g.nodes.a.matchingJoin).toBe('j2');
    expect(g.nodes.start.matchingJoin).toBe('j1');
    expect(g.order.indexOf('j3')).toBeLessThan(g.order.indexOf('j2'));
  });

  it('foreach, nested three deep', () => {
    const g = parseFlowSource(fs.readFileSync('test/fixtures/flows/foreach3.ts', 'utf8'), 'foreach3.ts');
    expect(g.nodes.start).toMatchObject({ type: 'split-foreach', foreach: 'as_', matchingJoin: 'ja' });
    expect(g.nodes.fc.splitParents).toEqual(['start', 'fa', 'fb']);
    expect(g.nodes.jc).toMatchObject({ isJoin: true, splitParents: ['start', 'fa', 'fb'] });
  });

  it('a branch inside a foreach', () => {
    const g = parseFlowSource(fs.readFileSync('test/fixtures/flows/branch_in_foreach.ts', 'utf8'), 'b.ts');
    expect(g.nodes.p.splitParents).toEqual(['start', 'body']);
    expect(g.nodes.body.matchingJoin).toBe('jpq');
    expect(g.nodes.start.matchingJoin).toBe('jx');
  });

  it('switch: branches converge without a join', () => {
    const g = parseFlowSource(fs.readFileSync('test/fixtures/flows/switch.ts', 'utf8'), 's.ts');
    expect(g.nodes.start).toMatchObject({ type: 'split-switch', condition: 'branch', switchCases: { high: 'hi', low: 'lo' } });
    expect(g.nodes.end.in).toEqual(['hi', 'lo']);
  });

  it('decorators and doc comments are kept for show', () => {
    const g = parse(`  /** Begin here.\n  * more */\n  @step async start() { this.next(this.end); }\n  @step async end() {}`);
    expect(g.nodes.start.doc).toBe('Begin here.');
    expect(formatGraph(g)).toContain('Step start  [start, line 5]\n    Begin here.\n    => end');
  });
});

describe('graph errors, each with file:line', () => {
  const cases: [string, string, string][] = [
    ['no flow class', 'NONE', 'f.ts:1: no class extends FlowSpec in this file'],
    ['no start', `  @step async end() {}`, "f.ts:2: flow F has no 'start' step (a @step method named start)"],
    ['no end', `  @step async start() { this.next(this.start); }`, "f.ts:2: flow F has no 'end' step (a @step method named end)"],
    ['end calls next', `  @step async start() { this.next(this.end); }\n  @step async end() { this.next(this.start); }`, "f.ts:4: step 'end' must not call this.next()"],
    ['a step without next', `  @step async start() { this.next(this.a); }\n  @step async a() { }\n  @step async end() {}`, "f.ts:4: step 'a' has no this.next(...) call"],
    ['next to an unknown step', `  @step async start() { this.next(this.ned); }\n  @step async end() {}`, "f.ts:3: step 'start' calls next() with unknown step 'ned' (did you mean 'end'?)"],
    ['unreachable step', `  @step async start() { this.next(this.end); }\n  @step async lost() { this.next(this.end); }\n  @step async end() {}`, "f.ts:4: step 'lost' cannot be reached from start"],
    ['cycle', `  @step async start() { this.next(this.a); }\n  @step async a() { this.next(this.b); }\n  @step async b() { this.next(this.a); }\n  @step async end() {}`, "f.ts:4: steps form a cycle: a → b → a"],
    ['join without inputs', `  @step async start() { this.next(this.a, this.b); }\n  @step async a() { this.next(this.j); }\n  @step async b() { this.next(this.j); }\n  @step async j() { this.next(this.end); }\n  @step async end() {}`, "f.ts:6: step 'j' joins the branches of 'start' but does not take inputs: declare it as async j(inputs: Inputs)"],
    ['foreach join without inputs', `  xs = [1];\n  @step async start() { this.next(this.a, { foreach: 'xs' }); }\n  @step async a() { this.next(this.end); }\n  @step async end() {}`, "f.ts:6: step 'end' is reached inside split 'start', which is never joined"],
    ['foreach field never assigned', `  @step async start() { this.next(this.a, { foreach: 'items' }); }\n  @step async a() { this.next(this.j); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n  @step async end() {}`, "f.ts:3: step 'start' does a foreach over 'items', which is never assigned (this.items = [...])"],
    ['foreach option not a literal', `  @step async start() { const f = 'xs'; this.next(this.a, { foreach: f }); }\n  @step async a() { this.next(this.end); }\n  @step async end() {}`, "f.ts:3: step 'start': the foreach option of next() must be a string literal naming a field"],
    ['inputs on a step that is not a join', `  @step async start() { this.next(this.a); }\n  @step async a(inputs: Inputs) { this.next(this.end); }\n  @step async end() {}`, "f.ts:4: step 'a' takes inputs but is not a join: nothing before it splits (remove the inputs parameter)"],
    ['different next() targets in different places', `  @step async start() { if (Math.random()) this.next(this.a); else this.next(this.end); }\n  @step async a() { this.next(this.end); }\n  @step async end() {}`, "f.ts:3: step 'start' calls this.next() with different targets in different places; use a switch ({ condition })"],
    ['a switch with one case', `  c = 'x';\n  @step async start() { this.next({ x: this.end }, { condition: 'c' }); }\n  @step async end() {}`, "f.ts:4: step 'start': a switch needs at least 2 cases"],
    ['a branch never joined', `  @step async start() { this.next(this.a, this.b); }\n  @step async a() { this.next(this.j); }\n  @step async b() { this.next(this.end); }\n  @step async j(inputs: Inputs) { this.next(this.end); }\n  @step async end() {}`, "f.ts:6: step 'j' joins only some branches of 'start' (a of a, b)"],
  ];
  for (const [what, body, message] of cases) {
    it(what, () => {
      if (body === 'NONE') {
        expect(() => parseFlowSource(`export const x = 1;\n`, 'f.ts')).toThrow(message);
        return;
      }
      expect(err(body)).toBe(message);
    });
  }
});

describe('the graph cache', () => {
  it('parses once per source, re-parses an edited file, and never caches an invalid graph', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-graph-'));
    const prev = process.env.FLOWBOOK_CACHE_DIR;
    process.env.FLOWBOOK_CACHE_DIR = path.join(dir, 'cache');
    try {
      const file = path.join(dir, 'f.ts');
      fs.writeFileSync(file, flow(`  @step async start() { this.next(this.end); }\n  @step async end() {}`));
      const g1 = await loadFlowGraph(file);
      const cached = fs.readdirSync(path.join(dir, 'cache', 'graph'));
      expect(cached).toHaveLength(1);
      expect(await loadFlowGraph(file)).toEqual(g1);
      fs.writeFileSync(file, flow(`  @step async start() { this.next(this.a); }\n  @step async a() { this.next(this.end); }\n  @step async end() {}`));
      expect((await loadFlowGraph(file)).order).toEqual(['start', 'a', 'end']);
      fs.writeFileSync(file, flow(`  @step async start() { this.next(this.nowhere); }\n  @step async end() {}`));
      await expect(loadFlowGraph(file)).rejects.toThrow(GraphError);
      expect(fs.readdirSync(path.join(dir, 'cache', 'graph'))).toHaveLength(2);
    } finally {
      if (prev === undefined) delete process.env.FLOWBOOK_CACHE_DIR;
      else process.env.FLOWBOOK_CACHE_DIR = prev;
    }
  });
});
