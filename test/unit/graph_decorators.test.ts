// What decorates a flow, checked when its source is parsed (before anything runs): step decorators
// bare and with (), anything else refused with file:line; param kinds; a file with several flow
// classes. And the decorators themselves when TC39 calls them bare.
import { describe, it, expect } from 'vitest';
import { parseFlowSource } from '../../src/flow/graph.js';
import { formatGraph } from '../../src/flow/graph-format.js';
import { GraphError } from '../../src/errors.js';
import { card, catchErrors, kubernetes, resources, retry, schedule, step, stepMeta, timeout, FLOW_META } from '../../src/flow/decorators.js';
import { param, resolveParams } from '../../src/flow/params.js';
import { parseWith } from '../../src/flow/with.js';
import type { ParamSpec } from '../../src/flow/params.js';

const HEAD = `import { FlowSpec, step, param, resources, kubernetes, retry, timeout, catchErrors, card, schedule, type Inputs } from 'flowbook';\n`;
/** A flow from member lines: the class is on line 2, the first member on line 3. */
const flow = (body: string, head = HEAD) => `${head}export class F extends FlowSpec {\n${body}\n}\n`;
const END = `  @step async end() {}`;
const errorOf = (source: string, flowName?: string) => {
  try {
    parseFlowSource(source, 'flows/f.ts', flowName);
  } catch (e) {
    expect(e).toBeInstanceOf(GraphError);
    return (e as Error).message;
  }
  throw new Error('expected a GraphError');
};
const KNOWN = 'step decorators: @step, @resources, @kubernetes, @retry, @timeout, @catchErrors, @card, @cache';

describe('step decorators as Metaflow users write them', () => {
  it('bare and with () parse, and show lists them as written', () => {
    const g = parseFlowSource(
      flow(`  @card @retry @catchErrors @resources @kubernetes @step async start() { this.next(this.a); }
  @card() @retry() @catchErrors() @resources() @timeout({ minutes: 2 }) @step() async a() { this.next(this.end); }
${END}`),
      'flows/f.ts',
    );
    expect(g.nodes.start.decorators.map((d) => d.name)).toEqual(['card', 'retry', 'catchErrors', 'resources', 'kubernetes', 'step']);
    expect(formatGraph(g)).toContain('Step start  (line 3)\n    @card @retry @catchErrors @resources @kubernetes\n');
    expect(formatGraph(g)).toContain('    @card() @retry() @catchErrors() @resources() @timeout({ minutes: 2 })\n');
  });

  it('imported under another name, or through a namespace, they are still flowbook\'s', () => {
    const head = `import { FlowSpec, step as s, card as c } from 'flowbook';\nimport * as fb from 'flowbook';\n`;
    const g = parseFlowSource(`${head}export class F extends FlowSpec {\n  @c @fb.retry({ times: 1 }) @s async start() { this.next(this.end); }\n  @fb.step async end() {}\n}\n`, 'flows/f.ts');
    expect(g.nodes.start.decorators.map((d) => d.name)).toEqual(['card', 'retry', 'step']);
    expect(g.order).toEqual(['start', 'end']);
  });

  const cases: [string, string, string][] = [
    ['a decorator flowbook does not have', flow(`  @environment({ vars: {} })\n  @step async start() { this.next(this.end); }\n${END}`), `flows/f.ts:3: step 'start': @environment is not a flowbook step decorator; ${KNOWN}`],
    ["Metaflow's @catch", flow(`  @catch @step async start() { this.next(this.end); }\n${END}`), "flows/f.ts:3: @catch is Metaflow's name (catch is a reserved word here): flowbook's is @catchErrors"],
    ['a decorator of your own on a step', flow(`  @logged @step async start() { this.next(this.end); }\n${END}`, `${HEAD}import { logged } from '../mine';\n`), `flows/f.ts:4: step 'start': @logged is not a flowbook step decorator; ${KNOWN}`],
    ["Metaflow's snake_case option", flow(`  @retry({ times: 1, minutes_between_retries: 0 }) @step async start() { this.next(this.end); }\n${END}`), "flows/f.ts:3: step 'start': @retry has no option 'minutes_between_retries' (did you mean 'minutesBetweenRetries'?); its options: times, minutesBetweenRetries"],
    ['an unknown option', flow(`  @resources({ cpus: 2 }) @step async start() { this.next(this.end); }\n${END}`), "flows/f.ts:3: step 'start': @resources has no option 'cpus'; its options: cpu, memory, gpu"],
    ['options that are not an object', flow(`  @retry(3) @step async start() { this.next(this.end); }\n${END}`), "flows/f.ts:3: step 'start': @retry takes an options object, like @retry({ times: … }), not `3`"],
    ['two arguments', flow(`  @card({ type: 'blank' }, 'x') @step async start() { this.next(this.end); }\n${END}`), "flows/f.ts:3: step 'start': @card takes one options object, got 2 arguments"],
    ['a bare @timeout (as in Metaflow, it needs a duration)', flow(`  @timeout @step async start() { this.next(this.end); }\n${END}`), "flows/f.ts:3: step 'start': @timeout needs a duration: @timeout({ seconds }), ({ minutes }) or ({ hours })"],
    ['@timeout({})', flow(`  @timeout({}) @step async start() { this.next(this.end); }\n${END}`), "flows/f.ts:3: step 'start': @timeout needs a duration: @timeout({ seconds }), ({ minutes }) or ({ hours })"],
    ['the same decorator twice', flow(`  @retry\n  @retry({ times: 1 })\n  @step async start() { this.next(this.end); }\n${END}`), "flows/f.ts:4: step 'start': @retry is given twice (also at line 3)"],
    ['@step with options', flow(`  @step({ name: 'x' }) async start() { this.next(this.end); }\n${END}`), "flows/f.ts:3: step 'start': @step takes no options: write @step"],
    ['a step decorator on a method without @step', flow(`  @step async start() { this.next(this.end); }\n  @card helper() {}\n${END}`), "flows/f.ts:4: @card is on 'helper', which is not a step: add @step, or remove @card"],
    ['@schedule on a step', flow(`  @schedule @step async start() { this.next(this.end); }\n${END}`), "flows/f.ts:3: step 'start': @schedule goes on the flow class, not on a step"],
    ['a step decorator on the class', `${HEAD}@card\nexport class F extends FlowSpec {\n  @step async start() { this.next(this.end); }\n${END}\n}\n`, 'flows/f.ts:2: flow F: @card goes on a step method, not on the class'],
    ['an unknown class decorator', `${HEAD}@project({ name: 'x' })\nexport class F extends FlowSpec {\n  @step async start() { this.next(this.end); }\n${END}\n}\n`, 'flows/f.ts:2: flow F: @project is not a flowbook flow decorator; flow decorators: @schedule'],
    ['an unknown @schedule option', `${HEAD}@schedule({ dayly: true })\nexport class F extends FlowSpec {\n  @step async start() { this.next(this.end); }\n${END}\n}\n`, "flows/f.ts:2: flow F: @schedule has no option 'dayly'; its options: cron, hourly, daily, weekly, timezone"],
  ];
  for (const [what, source, message] of cases) it(`refused at parse time: ${what}`, () => expect(errorOf(source)).toBe(message));

  it('methods without @step keep decorators of their own', () => {
    const g = parseFlowSource(flow(`  @step async start() { this.next(this.end); }\n  @memoize helper() {}\n${END}`), 'flows/f.ts');
    expect(g.order).toEqual(['start', 'end']);
  });

  it('a bare @schedule on the class parses', () => {
    expect(parseFlowSource(`${HEAD}@schedule\nexport class F extends FlowSpec {\n  @step async start() { this.next(this.end); }\n${END}\n}\n`, 'flows/f.ts').order).toEqual(['start', 'end']);
  });
});

describe('parameter kinds', () => {
  it('param.boolean is a kind (Metaflow: Parameter(type=bool))', () => {
    const g = parseFlowSource(flow(`  dry = param.boolean('dry-run', { default: false });\n  @step async start() { this.next(this.end); }\n${END}`), 'flows/f.ts');
    expect(g.order).toEqual(['start', 'end']);
    expect((param.boolean('dry-run') as unknown as ParamSpec).type).toBe('bool');
  });

  it('an unknown kind is refused at its line, with the kinds', () => {
    expect(errorOf(flow(`  n = param.int('n');\n  dry = param.bolean('dry-run');\n  @step async start() { this.next(this.end); }\n${END}`))).toBe(
      'flows/f.ts:4: param.bolean is not a parameter kind; the kinds: param.string, param.int, param.float, param.bool, param.boolean, param.json, param.secret',
    );
  });

  it('a boolean is --name, --name false, or --no-name', () => {
    const specs = [Object.assign(param.boolean('dry-run', { default: true }) as unknown as ParamSpec, { field: 'dry' })];
    expect(resolveParams(specs, {})).toEqual({ 'dry-run': true });
    expect(resolveParams(specs, { 'dry-run': 'true' })).toEqual({ 'dry-run': true });
    expect(resolveParams(specs, { 'dry-run': 'false' })).toEqual({ 'dry-run': false });
    expect(resolveParams(specs, { 'no-dry-run': 'true' })).toEqual({ 'dry-run': false });
    expect(() => resolveParams(specs, { 'no-dry-run': 'x' })).toThrow('--no-dry-run takes no value (it is --dry-run false), got "x"');
    expect(() => resolveParams(specs, { 'no-dry-run': 'true', 'dry-run': 'true' })).toThrow('--dry-run and --no-dry-run are both given');
  });
});

describe('a file with several flow classes', () => {
  const two = `${HEAD}export class A extends FlowSpec {\n  @step async start() { this.next(this.end); }\n${END}\n}\nexport class B extends FlowSpec {\n  @step async start() { this.next(this.end); }\n${END}\n}\n`;
  it('is refused without --flow, naming them', () => {
    expect(errorOf(two)).toBe('flows/f.ts:6: this file has 2 flow classes (A, B): pick one with --flow NAME');
  });
  it('--flow NAME picks one; an unknown name lists them', () => {
    expect(parseFlowSource(two, 'flows/f.ts', 'B').flowName).toBe('B');
    expect(errorOf(two, 'C')).toBe('flows/f.ts:1: no flow class C in this file (its flow classes: A, B)');
  });
});

describe('the decorators when TC39 calls them bare', () => {
  const method = (name: string) => {
    const fn = async function () {};
    Object.defineProperty(fn, 'name', { value: name });
    return fn;
  };
  const ctx = (name: string) => ({ kind: 'method', name }) as unknown as ClassMethodDecoratorContext;
  const decorate = (d: (fn: any, c: ClassMethodDecoratorContext) => any, name = 'start') => {
    const fn = method(name);
    d(fn, ctx(name));
    return stepMeta(fn);
  };

  it('bare is the same as ()', () => {
    for (const d of [step, card, retry, catchErrors, resources, kubernetes] as const) {
      const bare = decorate(d as any);
      const called = decorate((d as any)());
      expect(bare).toEqual(called);
    }
    expect(decorate(step).isStep).toBe(true);
    expect(decorate(card).cards).toEqual([{ type: 'default' }]);
    expect(decorate(retry).retry).toEqual({ times: 3, minutesBetweenRetries: 2 });
    expect(decorate(catchErrors).catch).toEqual({ printException: true });
    expect(decorate(resources).resources).toEqual({});
    expect(decorate(kubernetes).kubernetes).toEqual({});
  });

  it('a bare @timeout is an error, as in Metaflow', () => {
    expect(() => decorate(timeout as any)).toThrow('@timeout needs a duration: seconds, minutes or hours > 0, e.g. @timeout({ minutes: 5 })');
    expect(decorate(timeout({ minutes: 1 })).timeout).toEqual({ seconds: 60 });
  });

  it('an unknown option is an error when the class is defined', () => {
    expect(() => retry({ tims: 1 } as any)).toThrow("@retry: unknown option 'tims' (known: times, minutesBetweenRetries)");
  });

  it('a bare @schedule is daily', () => {
    class A {}
    (schedule as any)(A, { kind: 'class', name: 'A' });
    expect((A as any)[FLOW_META]).toEqual({ schedule: { daily: true } });
  });
});

describe('--with takes every step decorator', () => {
  it('card, catch (or catchErrors), timeout, resources, retry, kubernetes with their options', () => {
    expect(parseWith(['card', 'catch', 'timeout:minutes=2', 'resources:cpu=2,memory=512', 'retry:times=1,minutes_between_retries=0', 'kubernetes:cpu=4'])).toEqual({
      cards: [{ type: 'default' }],
      catch: { printException: true },
      timeout: { seconds: 120 },
      resources: { cpu: 2, memory: 512 },
      retry: { times: 1, minutesBetweenRetries: 0 },
      kubernetes: { cpu: 4 },
    });
    expect(parseWith(['catchErrors:var=failure,print_exception=false', 'card:type=blank,id=notes'])).toEqual({
      catch: { printException: false, var: 'failure' },
      cards: [{ type: 'blank', id: 'notes' }],
    });
    expect(parseWith(['retry'])).toEqual({ retry: { times: 3, minutesBetweenRetries: 2 } });
  });

  it('an unknown name, key or value is an error naming what is known', () => {
    expect(() => parseWith(['batch'])).toThrow('unknown decorator in --with: "batch" (known: card, catch (or catchErrors), timeout, resources, retry, kubernetes, cache)');
    expect(() => parseWith(['retry:tims=1'])).toThrow('--with retry: unknown option "tims" (known: times, minutesBetweenRetries)');
    expect(() => parseWith(['resources:cpu=two'])).toThrow('--with resources: cpu must be a non-negative number, got "two"');
    expect(() => parseWith(['timeout'])).toThrow('--with timeout needs a duration: --with timeout:minutes=5 (seconds, minutes, hours)');
    expect(() => parseWith(['card:type=Bad Type'])).toThrow("@card: type 'Bad Type' is not a card type name");
    expect(() => parseWith(['retry', 'retry:times=1'])).toThrow('--with retry is given twice');
  });
});
