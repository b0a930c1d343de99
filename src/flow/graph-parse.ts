// Parse a flow's graph from its TypeScript source with the TypeScript compiler API, as Metaflow
// parses Python: the flow class, its @step methods, and the `this.next(...)` calls in each.
//
// Importing this module is cheap: the compiler (≈150 ms to load) is only loaded when a parse
// happens. graph.ts hands it over with `await import('typescript')` on a cache miss; a direct
// synchronous `parseFlowSource` call loads it with require().
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type TS from 'typescript';
import { GraphError } from '../errors.js';
import type { FlowGraph, GraphDecorator, GraphNode } from './graph-types.js';
import type { NextCall, ParseFacts } from './parse-facts.js';
import { validateGraph } from './graph-validate.js';
import { checkClassDecorators, checkParamField, checkPlainMethod, checkStepDecorators, importsOf, seeDecorator } from './graph-decorators.js';

export type { NextCall, ParseFacts } from './parse-facts.js';

let ts: typeof TS;

/** Give the parser the TypeScript compiler (graph.ts loads it with a dynamic import). */
export function useTypeScript(lib: typeof TS): void {
  ts = lib;
}

function loadTypeScript(): void {
  ts ??= createRequire(import.meta.url)('typescript') as typeof TS;
}

const lineOf = (sf: TS.SourceFile, node: TS.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;

function extendsFlowSpec(c: TS.ClassDeclaration): boolean {
  return !!c.heritageClauses?.some(
    (h) =>
      h.token === ts.SyntaxKind.ExtendsKeyword &&
      h.types.some((t) => {
        const e = t.expression;
        return (ts.isIdentifier(e) && e.text === 'FlowSpec') || (ts.isPropertyAccessExpression(e) && e.name.text === 'FlowSpec');
      }),
  );
}

/** Names exported by `export { A, B as C }` and `export default A`. */
function exportedNames(sf: TS.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const s of sf.statements) {
    if (ts.isExportDeclaration(s) && !s.moduleSpecifier && s.exportClause && ts.isNamedExports(s.exportClause)) {
      for (const e of s.exportClause.elements) names.add((e.propertyName ?? e.name).text);
    }
    if (ts.isExportAssignment(s) && ts.isIdentifier(s.expression)) names.add(s.expression.text);
  }
  return names;
}

/** `this.name` or `this['name']` → name */
function thisMember(e: TS.Node): string | undefined {
  if (ts.isPropertyAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword) return e.name.text;
  if (ts.isElementAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword && ts.isStringLiteralLike(e.argumentExpression)) {
    return e.argumentExpression.text;
  }
  return undefined;
}

function propName(n: TS.PropertyName): string | undefined {
  if (ts.isIdentifier(n) || ts.isStringLiteralLike(n) || ts.isNumericLiteral(n) || ts.isPrivateIdentifier(n)) return n.text;
  if (ts.isComputedPropertyName(n) && ts.isStringLiteralLike(n.expression)) return n.expression.text;
  return undefined;
}

function parseNext(sf: TS.SourceFile, file: string, step: string, call: TS.CallExpression): NextCall {
  const line = lineOf(sf, call);
  const fail = (what: string): never => {
    throw new GraphError(`${file}:${line}: step '${step}': ${what}`);
  };
  const args = [...call.arguments];
  const out: NextCall = { line, targets: [] };
  const last = args[args.length - 1];
  if (last && ts.isObjectLiteralExpression(last) && args.length > 1) {
    args.pop();
    for (const p of last.properties) {
      const key = p.name ? propName(p.name) : undefined;
      if (key !== 'foreach' && key !== 'condition') {
        fail(`unknown next() option ${key ? `'${key}'` : `\`${p.getText(sf)}\``} (the options are foreach and condition)`);
      }
      const init = ts.isPropertyAssignment(p) ? p.initializer : undefined;
      if (!init || !ts.isStringLiteralLike(init)) fail(`the ${key} option of next() must be a string literal naming a field`);
      out[key as 'foreach' | 'condition'] = (init as TS.StringLiteral).text;
    }
    if (out.foreach !== undefined && out.condition !== undefined) fail('next() takes either a foreach or a condition option, not both');
  }
  if (out.condition !== undefined) {
    const cases = args[0];
    if (args.length !== 1 || !ts.isObjectLiteralExpression(cases)) fail("a switch is this.next({ a: this.x, b: this.y }, { condition: 'field' })");
    out.cases = {};
    for (const p of (cases as TS.ObjectLiteralExpression).properties) {
      const key = ts.isPropertyAssignment(p) ? propName(p.name) : undefined;
      const target = ts.isPropertyAssignment(p) ? thisMember(p.initializer) : undefined;
      if (key === undefined || !target) fail(`each switch case must be \`name: this.step\`, got \`${p.getText(sf)}\``);
      if (key! in out.cases) fail(`switch case '${key}' appears twice`);
      out.cases[key!] = target!;
      if (!out.targets.includes(target!)) out.targets.push(target!); // source order (integer-like keys would reorder cases)
    }
    if (Object.keys(out.cases).length < 2) fail('a switch needs at least 2 cases');
    return out;
  }
  if (args.length === 0) fail('this.next() needs at least one step');
  if (ts.isObjectLiteralExpression(args[0])) fail("a switch needs a condition: this.next({ a: this.x, b: this.y }, { condition: 'field' })");
  for (const a of args) {
    const t = thisMember(a);
    if (!t) fail(`next() arguments must be steps like this.end, got \`${a.getText(sf)}\``);
    if (out.targets.includes(t!)) fail(`next() names step '${t}' twice`);
    out.targets.push(t!);
  }
  if (out.foreach !== undefined && out.targets.length !== 1) fail('a foreach goes to exactly one step');
  return out;
}

/** First line of the doc comment before a member (also when it sits between its decorators). */
function docLine(sf: TS.SourceFile, member: TS.MethodDeclaration): string | undefined {
  const text = sf.text;
  const positions = [member.getFullStart(), ...(member.modifiers ?? []).map((m) => m.getEnd())];
  let doc: string | undefined;
  for (const pos of positions) {
    for (const r of ts.getLeadingCommentRanges(text, pos) ?? []) {
      const c = text.slice(r.pos, r.end);
      if (c.startsWith('/**') && !c.startsWith('/**/')) doc = c;
    }
  }
  if (!doc) return undefined;
  const lines = doc
    .slice(3, -2)
    .split('\n')
    .map((l) => l.replace(/^\s*\*?\s?/, '').trim());
  return summary(lines);
}

/**
 * The doc's first line; when that line runs on into the next one, its last full sentence (or,
 * with no sentence end in it, the paragraph up to the first sentence end).
 */
function summary(lines: string[]): string | undefined {
  const start = lines.findIndex((l) => l && !l.startsWith('@'));
  if (start < 0) return undefined;
  const first = lines[start];
  const next = lines[start + 1];
  if (!next || next.startsWith('@') || /[.!?:]$/.test(first)) return first;
  const ends = [...first.matchAll(/[.!?](?=\s)/g)];
  if (ends.length) return first.slice(0, ends.at(-1)!.index! + 1);
  let text = first;
  for (const l of lines.slice(start + 1)) {
    if (!l || l.startsWith('@')) break;
    text += ` ${l}`;
    const end = /[.!?](\s|$)/.exec(text);
    if (end) return text.slice(0, end.index + 1);
  }
  return text;
}

/** Fields assigned in `node`: this.x = …, this.x += …, [this.x, this.y] = …, ({ a: this.x } = …), this.x++ */
function collectAssignments(node: TS.Node, into: Set<string>): void {
  const targets = (e: TS.Node): void => {
    const f = thisMember(e);
    if (f) into.add(f);
    else if (ts.isArrayLiteralExpression(e)) e.elements.forEach(targets);
    else if (ts.isObjectLiteralExpression(e)) {
      for (const p of e.properties) {
        if (ts.isPropertyAssignment(p)) targets(p.initializer);
        else if (ts.isSpreadAssignment(p)) targets(p.expression);
      }
    } else if (ts.isSpreadElement(e)) targets(e.expression);
    else if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken) targets(e.left); // a default
    else if (ts.isParenthesizedExpression(e)) targets(e.expression);
  };
  const walk = (n: TS.Node): void => {
    if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment) {
      targets(n.left);
    } else if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && thisMember(n.operand)) {
      into.add(thisMember(n.operand)!);
    }
    ts.forEachChild(n, walk);
  };
  walk(node);
}

const isThisParam = (p: TS.ParameterDeclaration) => ts.isIdentifier(p.name) && p.name.text === 'this';

/** `flowName`: which flow class, when the file has several (`--flow NAME`). */
export function parseFlowSource(source: string, file: string, flowName?: string): FlowGraph {
  return parseFlowSourceWithFacts(source, file, flowName).graph;
}

/** Parse with a given TypeScript module (graph.ts passes the one it imported). */
export function parseFlowSourceWith(lib: typeof TS, source: string, file: string, flowName?: string): FlowGraph {
  useTypeScript(lib);
  return parseFlowSourceWithFacts(source, file, flowName).graph;
}

/**
 * The flow class of a file: the one named by `flowName`, else the only exported one. Two flow
 * classes and no name is an error, never the first one silently.
 */
function pickFlowClass(sf: TS.SourceFile, file: string, flowName: string | undefined): TS.ClassDeclaration {
  const exported = exportedNames(sf);
  const classes = sf.statements.filter((s): s is TS.ClassDeclaration => ts.isClassDeclaration(s) && !!s.name && extendsFlowSpec(s));
  const isExported = (c: TS.ClassDeclaration) =>
    !!c.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) || exported.has(c.name!.text);
  const names = (cs: TS.ClassDeclaration[]) => cs.map((c) => c.name!.text).join(', ');
  if (flowName !== undefined) {
    const named = classes.find((c) => c.name!.text === flowName);
    if (!named) throw new GraphError(`${file}:1: no flow class ${flowName} in this file (its flow classes: ${names(classes) || 'none'})`);
    if (!isExported(named)) throw new GraphError(`${file}:${lineOf(sf, named.name!)}: flow class ${flowName} is not exported (export class ${flowName} extends FlowSpec)`);
    return named;
  }
  const candidates = classes.filter(isExported);
  if (candidates.length > 1) {
    throw new GraphError(`${file}:${lineOf(sf, candidates[1].name!)}: this file has ${candidates.length} flow classes (${names(candidates)}): pick one with --flow NAME`);
  }
  const cls = candidates[0] ?? classes[0];
  if (!cls) throw new GraphError(`${file}:1: no class extends FlowSpec in this file`);
  return cls;
}

export function parseFlowSourceWithFacts(source: string, file: string, flowName?: string): { graph: FlowGraph; facts: ParseFacts } {
  loadTypeScript();
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  // a syntax error (a missing '}') would otherwise surface as a confusing graph error
  const syntax: readonly TS.DiagnosticWithLocation[] = (sf as any).parseDiagnostics ?? [];
  if (syntax.length) {
    const d = syntax[0];
    const line = sf.getLineAndCharacterOfPosition(d.start).line + 1;
    // Metaflow's @catch: `catch` is a reserved word in TypeScript, so it reads as a syntax error
    if (/@\s*catch\b/.test(source.split('\n')[line - 1] ?? '')) {
      throw new GraphError(`${file}:${line}: @catch is Metaflow's name (catch is a reserved word here): flowbook's is @catchErrors`);
    }
    throw new GraphError(`${file}:${line}: syntax error: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  const cls = pickFlowClass(sf, file, flowName);
  const imports = importsOf(ts, sf);
  const see = (d: TS.Decorator) => seeDecorator(ts, sf, imports, d);
  checkClassDecorators(ts, sf, file, cls.name!.text, (ts.getDecorators(cls) ?? []).map(see));

  const nodes: Record<string, GraphNode> = {};
  const facts: ParseFacts = { classLine: lineOf(sf, cls.name!), assigned: new Set(), nextCalls: new Map(), plainMethods: new Map() };

  for (const member of cls.members) {
    collectAssignments(member, facts.assigned);
    if (ts.isPropertyDeclaration(member) && member.initializer) {
      const n = propName(member.name);
      if (n) facts.assigned.add(n);
      checkParamField(ts, sf, file, imports, member.initializer);
    }
    if (!ts.isMethodDeclaration(member)) continue;
    const seen = (ts.getDecorators(member) ?? []).map(see);
    const name = propName(member.name);
    const line = lineOf(sf, member.name);
    if (!seen.some((d) => d.name === 'step')) {
      checkPlainMethod(file, name ?? member.name.getText(sf), seen);
      if (name) facts.plainMethods.set(name, line);
      continue;
    }
    if (name === undefined) throw new GraphError(`${file}:${line}: a step needs a plain method name, not \`${member.name.getText(sf)}\``);
    // step names become datastore path segments: refuse what the datastore would refuse, now
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) {
      throw new GraphError(`${file}:${line}: step name '${name}' is not allowed: use ASCII letters, digits and '_', starting with a letter or '_'`);
    }
    // toString, hasOwnProperty …: every object has them, so the class, the graph and the datastore's maps would all mistake them
    if (name in Object.prototype) throw new GraphError(`${file}:${line}: step name '${name}' is not allowed: every JavaScript object has a member of that name (Object.prototype); rename the step`);
    if (Object.hasOwn(nodes, name)) throw new GraphError(`${file}:${line}: step '${name}' is defined twice (first at line ${nodes[name].line})`);
    checkStepDecorators(ts, sf, file, name, seen);
    const calls: NextCall[] = [];
    const findNext = (n: TS.Node) => {
      if (ts.isCallExpression(n) && thisMember(n.expression) === 'next') calls.push(parseNext(sf, file, name, n));
      ts.forEachChild(n, findNext);
    };
    if (member.body) findNext(member.body);
    facts.nextCalls.set(name, calls);
    const first = calls[0];
    const decos: GraphDecorator[] = seen.map((d) => ({ name: d.name, line: d.line, ...(d.args ? { args: d.args.map((a) => a.getText(sf)).join(', ') } : {}) }));
    const params = member.parameters.filter((p) => !isThisParam(p));
    if (params.length > 1) {
      throw new GraphError(`${file}:${line}: step '${name}' declares ${params.length} parameters; a step takes none, or one (inputs) if it is a join`);
    }
    const doc = docLine(sf, member);
    nodes[name] = {
      name,
      type: 'linear',
      out: first ? [...first.targets] : [],
      in: [],
      isJoin: params.length === 1,
      ...(first?.foreach !== undefined ? { foreach: first.foreach } : {}),
      ...(first?.condition !== undefined ? { condition: first.condition, switchCases: first.cases } : {}),
      line,
      decorators: decos,
      splitParents: [],
      ...(doc ? { doc } : {}),
    };
  }

  const graph: FlowGraph = {
    flowName: cls.name!.text,
    file,
    sourceSha: crypto.createHash('sha256').update(source).digest('hex'),
    nodes,
    order: [],
  };
  validateGraph(graph, facts);
  return { graph, facts };
}
