// What step-code.ts finds a @cache step reaches and reads, from source: helpers and methods it
// calls, module-level values, imports; and "cannot tell" (every artifact read) where `this`
// escapes or is indexed by an expression. Also: the graph parser takes @cache bare and with a key.
import { describe, it, expect } from 'vitest';
import ts from 'typescript';
import { stepCode } from '../../src/runtime/cache/step-code.js';
import { parseFlowSource } from '../../src/flow/graph.js';

function facts(body: string, extra = '') {
  const src = `import { FlowSpec, step, cache } from 'flowbook';\nimport { lib } from './lib.js';\nimport { unused } from './unused.js';\nconst K = 3;\nconst OTHER = 4;\nfunction helper(x: number) { return x * K; }\n${extra}\nexport class F extends FlowSpec {\n  a!: number;\n  b!: number;\n  c = 5;\n  own() { return this.b; }\n  @cache @step async start() { ${body} this.next(this.end); }\n  @step async end() { this.a = OTHER; }\n}\n`;
  const sf = ts.createSourceFile('f.ts', src, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const cls = sf.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s))!;
  return { code: stepCode(ts, sf, cls, 'start', new Set(['start', 'end'])), src };
}

describe('@cache step code', () => {
  it('follows helpers, methods, module values and imports; a next() target is not code', () => {
    const { code } = facts('this.a = helper(this.c) + this.own() + lib();');
    expect([...code.reads!].sort()).toEqual(['b', 'c']);
    expect([...code.assigns]).toEqual(['a']);
    // the decorators are part of the step's code: flowbook (their package) counts, ./unused.js does not
    expect(code.imports).toEqual(new Set(['flowbook', './lib.js']));
    const text = code.texts.join('\n');
    expect(text).toContain('function helper');
    expect(text).toContain('const K = 3');
    expect(text).toContain('own() { return this.b; }');
    // end's code (and what only it names) is not start's
    expect(text).not.toContain('OTHER');
    expect(code.readsInput).toBe(false);
    expect(code.dynamic).toBe(false);
  });

  it('cannot tell, so reads everything: this handed on, this[expr]; dynamic code counts the whole project', () => {
    expect(facts('helper2(this);', 'function helper2(s: any) { return s.x; }').code.reads).toBeUndefined();
    expect(facts('const k = "a"; this.b = (this as any)[k];').code.reads).toBeUndefined();
    expect(facts('const self = this; self.b = 1;').code.reads).toBeUndefined();
    expect(facts('await import(String(this.c));').code.dynamic).toBe(true);
    expect(facts('eval("1");').code.dynamic).toBe(true);
    const ix = facts('this.b = this.input + this.index;').code;
    expect([ix.readsInput, ix.readsIndex]).toEqual([true, true]);
  });

  it('the graph parser takes @cache bare and with a key, and refuses other options at their line', () => {
    const flow = (deco: string) => `import { FlowSpec, step, cache } from 'flowbook';\nexport class F extends FlowSpec {\n  ${deco}\n  @step async start() { this.next(this.end); }\n  @step async end() {}\n}\n`;
    expect(parseFlowSource(flow('@cache'), 'f.ts').nodes.start.decorators.map((d) => d.name)).toEqual(['cache', 'step']);
    expect(parseFlowSource(flow('@cache({ key: (self) => 1 })'), 'f.ts').nodes.start.decorators[0].name).toBe('cache');
    expect(() => parseFlowSource(flow('@cache({ ttl: 5 })'), 'f.ts')).toThrow("f.ts:3: step 'start': @cache has no option 'ttl'; its options: key");
  });
});
