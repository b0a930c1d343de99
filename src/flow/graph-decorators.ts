// Parse-time checks of what decorates a flow: its steps' decorators, its class decorators and its
// `param.<kind>(…)` fields. Metaflow users write `@card` and `@retry` bare and `@catch`; a name
// flowbook does not have, or a known one used wrongly, would otherwise surface at run time far
// from its line (`param.boolean is not a function`, a step that is not a step). Every error is
// `file:line: what is wrong`, before anything runs.
//
// A decorator on a @step method must be one of flowbook's step decorators: a decorator of the
// user's own could wrap the method and hide it from the runtime, so it is refused with the list of
// the known ones. Methods without @step may carry any decorator but flowbook's step decorators.
import type TS from 'typescript';
import { GraphError } from '../errors.js';
import { FLOW_DECORATORS, STEP_DECORATORS, type StepDecoratorName } from './decorators.js';
import { PARAM_KINDS } from './params.js';

/** Metaflow's names for what flowbook spells otherwise */
const METAFLOW_NAMES: Record<string, string> = { catch: 'catchErrors' };

/** A decorator as the parser sees it: the flowbook name it resolves to through the file's imports. */
export interface SeenDecorator {
  /** the imported name (`card` for `@c` after `import { card as c }`, `@fb.card`) */
  name: string;
  /** as written, for messages */
  written: string;
  line: number;
  /** the arguments when called (`@card()` has []); undefined when bare */
  args?: readonly TS.Expression[];
}

/** local name → the name it was imported as, and the names bound to whole modules (`import * as fb`) */
export interface Imports {
  names: Map<string, string>;
  namespaces: Set<string>;
}

export function importsOf(ts: typeof TS, sf: TS.SourceFile): Imports {
  const out: Imports = { names: new Map(), namespaces: new Set() };
  for (const s of sf.statements) {
    if (!ts.isImportDeclaration(s) || !s.importClause) continue;
    const b = s.importClause.namedBindings;
    if (b && ts.isNamespaceImport(b)) out.namespaces.add(b.name.text);
    if (b && ts.isNamedImports(b)) for (const e of b.elements) out.names.set(e.name.text, (e.propertyName ?? e.name).text);
  }
  return out;
}

export function seeDecorator(ts: typeof TS, sf: TS.SourceFile, imports: Imports, d: TS.Decorator): SeenDecorator {
  let e = d.expression;
  let args: readonly TS.Expression[] | undefined;
  if (ts.isCallExpression(e)) {
    args = e.arguments;
    e = e.expression;
  }
  let name = e.getText(sf);
  if (ts.isIdentifier(e)) name = imports.names.get(e.text) ?? e.text;
  else if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression) && imports.namespaces.has(e.expression.text)) name = e.name.text;
  const line = sf.getLineAndCharacterOfPosition(d.getStart(sf)).line + 1;
  return { name, written: `@${e.getText(sf)}`, line, ...(args ? { args } : {}) };
}

const isStepDecorator = (name: string): name is StepDecoratorName => Object.prototype.hasOwnProperty.call(STEP_DECORATORS, name);
const knownSteps = () => Object.keys(STEP_DECORATORS).map((n) => `@${n}`).join(', ');
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The option keys of an object literal that `known` does not have, each with its camelCase twin when that is known. */
function checkKeys(ts: typeof TS, sf: TS.SourceFile, obj: TS.ObjectLiteralExpression, known: readonly string[], fail: (what: string) => never, what: string): void {
  for (const p of obj.properties) {
    if (ts.isSpreadAssignment(p)) continue; // { ...defaults }: checked when the class is defined
    const key = p.name && (ts.isIdentifier(p.name) || ts.isStringLiteralLike(p.name)) ? p.name.text : undefined;
    if (key === undefined || known.includes(key)) continue;
    const hint = known.includes(camel(key)) ? ` (did you mean '${camel(key)}'?)` : '';
    fail(`${what} has no option '${key}'${hint}; its options: ${known.join(', ') || 'none'}`);
  }
}

/** The decorators of one @step method. */
export function checkStepDecorators(ts: typeof TS, sf: TS.SourceFile, file: string, step: string, decos: SeenDecorator[]): void {
  const seen = new Map<string, number>();
  for (const d of decos) {
    const fail = (what: string): never => {
      throw new GraphError(`${file}:${d.line}: step '${step}': ${what}`);
    };
    if (d.name in FLOW_DECORATORS) fail(`${d.written} goes on the flow class, not on a step`);
    if (!isStepDecorator(d.name)) {
      const mf = METAFLOW_NAMES[d.name];
      fail(`${d.written} is not a flowbook step decorator${mf ? ` (flowbook's is @${mf})` : ''}; step decorators: ${knownSteps()}`);
    }
    const name = d.name as StepDecoratorName;
    // several cards are fine (each its own id); twice the same setting is a mistake
    if (name !== 'card' && seen.has(name)) fail(`${d.written} is given twice (also at line ${seen.get(name)})`);
    seen.set(name, d.line);
    const args = d.args ?? [];
    if (args.length > 1) fail(`${d.written} takes one options object, got ${args.length} arguments`);
    const opts = args[0];
    if (name === 'step' && opts) fail(`@step takes no options: write @step`);
    if (opts && (ts.isLiteralExpression(opts) || ts.isArrayLiteralExpression(opts) || opts.kind === ts.SyntaxKind.TrueKeyword || opts.kind === ts.SyntaxKind.FalseKeyword || ts.isPrefixUnaryExpression(opts))) {
      fail(`${d.written} takes an options object, like ${d.written}({ ${STEP_DECORATORS[name][0] ?? ''}: … }), not \`${opts.getText(sf)}\``);
    }
    if (opts && ts.isObjectLiteralExpression(opts)) checkKeys(ts, sf, opts, STEP_DECORATORS[name], fail, d.written);
    // as in Metaflow, a timeout needs a duration
    if (name === 'timeout' && (!opts || (ts.isObjectLiteralExpression(opts) && opts.properties.length === 0))) {
      fail(`${d.written} needs a duration: ${d.written}({ seconds }), ({ minutes }) or ({ hours })`);
    }
  }
}

/** A method without @step may have any decorator of its own, but not flowbook's step decorators. */
export function checkPlainMethod(file: string, method: string, decos: SeenDecorator[]): void {
  const d = decos.find((x) => isStepDecorator(x.name));
  if (d) throw new GraphError(`${file}:${d.line}: ${d.written} is on '${method}', which is not a step: add @step, or remove ${d.written}`);
}

/** The flow class's decorators: flowbook has @schedule; step decorators go on steps. */
export function checkClassDecorators(ts: typeof TS, sf: TS.SourceFile, file: string, flow: string, decos: SeenDecorator[]): void {
  for (const d of decos) {
    const fail = (what: string): never => {
      throw new GraphError(`${file}:${d.line}: flow ${flow}: ${what}`);
    };
    if (isStepDecorator(d.name)) fail(`${d.written} goes on a step method, not on the class`);
    if (!(d.name in FLOW_DECORATORS)) fail(`${d.written} is not a flowbook flow decorator; flow decorators: ${Object.keys(FLOW_DECORATORS).map((n) => `@${n}`).join(', ')}`);
    const opts = d.args?.[0];
    if ((d.args?.length ?? 0) > 1) fail(`${d.written} takes one options object`);
    if (opts && ts.isObjectLiteralExpression(opts)) checkKeys(ts, sf, opts, FLOW_DECORATORS.schedule, fail, d.written);
  }
}

/** `x = param.boolean('x')`: a kind flowbook does not have is refused at its line, with the kinds. */
export function checkParamField(ts: typeof TS, sf: TS.SourceFile, file: string, imports: Imports, init: TS.Expression): void {
  if (!ts.isCallExpression(init) || !ts.isPropertyAccessExpression(init.expression)) return;
  const target = init.expression.expression;
  // `param.x(…)`, as imported from flowbook (also `import { param as p }`, `fb.param.x(…)`)
  const isParam =
    (ts.isIdentifier(target) && (imports.names.get(target.text) ?? target.text) === 'param') ||
    (ts.isPropertyAccessExpression(target) && target.name.text === 'param' && ts.isIdentifier(target.expression) && imports.namespaces.has(target.expression.text));
  if (!isParam) return;
  const kind = init.expression.name.text;
  if (PARAM_KINDS.includes(kind)) return;
  const line = sf.getLineAndCharacterOfPosition(init.getStart(sf)).line + 1;
  throw new GraphError(`${file}:${line}: param.${kind} is not a parameter kind; the kinds: ${PARAM_KINDS.map((k) => `param.${k}`).join(', ')}`);
}
