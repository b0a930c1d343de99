// Parse a flow's graph from its TypeScript source with the TypeScript compiler API, as Metaflow
// parses Python: the flow class, its @step methods, and the `this.next(...)` calls in each.
// This module imports `typescript` (≈150 ms); graph.ts loads it only when its cache misses.
import crypto from 'node:crypto';
import ts from 'typescript';
import { GraphError } from '../errors.js';
import type { FlowGraph, GraphDecorator, GraphNode } from './graph-types.js';
import { validateGraph } from './graph-validate.js';

interface NextCall {
  line: number;
  targets: string[];
  foreach?: string;
  condition?: string;
  cases?: Record<string, string>;
}

/** What the parser saw beyond the graph, for validation. */
export interface ParseFacts {
  classLine: number;
  /** fields assigned anywhere in the class (this.x = …) or declared with an initializer */
  assigned: Set<string>;
  /** the next() calls of each step */
  nextCalls: Map<string, NextCall[]>;
}

function lineOf(sf: ts.SourceFile, node: ts.Node): number {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
}

function decoratorName(d: ts.Decorator): string {
  let e = d.expression;
  if (ts.isCallExpression(e)) e = e.expression;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return ts.isIdentifier(e) ? e.text : e.getText();
}

function extendsFlowSpec(c: ts.ClassDeclaration): boolean {
  return !!c.heritageClauses?.some(
    (h) =>
      h.token === ts.SyntaxKind.ExtendsKeyword &&
      h.types.some((t) => {
        const e = t.expression;
        return (ts.isIdentifier(e) && e.text === 'FlowSpec') || (ts.isPropertyAccessExpression(e) && e.name.text === 'FlowSpec');
      }),
  );
}

const isExported = (c: ts.ClassDeclaration) => !!c.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** `this.name` → name */
function thisMember(e: ts.Expression): string | undefined {
  if (ts.isPropertyAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword) return e.name.text;
  return undefined;
}

function propName(n: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(n) || ts.isStringLiteral(n) || ts.isNumericLiteral(n)) return n.text;
  return undefined;
}

function parseNext(sf: ts.SourceFile, file: string, step: string, call: ts.CallExpression): NextCall {
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
      if (!ts.isPropertyAssignment(p)) fail('next() options must be { foreach: "field" } or { condition: "field" }');
      const key = propName((p as ts.PropertyAssignment).name);
      const init = (p as ts.PropertyAssignment).initializer;
      if (key !== 'foreach' && key !== 'condition') fail(`unknown next() option '${key}' (use foreach or condition)`);
      if (!ts.isStringLiteralLike(init)) fail(`the ${key} option of next() must be a string literal naming a field`);
      out[key as 'foreach' | 'condition'] = (init as ts.StringLiteral).text;
    }
  }
  if (out.condition !== undefined) {
    const cases = args[0];
    if (args.length !== 1 || !ts.isObjectLiteralExpression(cases)) fail('a switch is this.next({ a: this.x, b: this.y }, { condition: "field" })');
    out.cases = {};
    for (const p of (cases as ts.ObjectLiteralExpression).properties) {
      const key = ts.isPropertyAssignment(p) ? propName(p.name) : undefined;
      const target = ts.isPropertyAssignment(p) ? thisMember(p.initializer) : undefined;
      if (key === undefined || !target) fail('each switch case must be `name: this.step`');
      out.cases![key!] = target!;
    }
    out.targets = [...new Set(Object.values(out.cases))];
    if (Object.keys(out.cases).length < 2) fail('a switch needs at least 2 cases');
    return out;
  }
  if (args.length === 0) fail('this.next() needs at least one step');
  for (const a of args) {
    const t = thisMember(a);
    if (!t) fail(`next() arguments must be steps like this.end, got \`${a.getText(sf)}\``);
    out.targets.push(t!);
  }
  if (out.foreach !== undefined && out.targets.length !== 1) fail('a foreach goes to exactly one step');
  return out;
}

function docLine(member: ts.Node): string | undefined {
  const docs = (member as any).jsDoc as ts.JSDoc[] | undefined;
  const c = docs?.[0]?.comment;
  const text = typeof c === 'string' ? c : c?.map((x) => x.text).join('');
  return text?.split('\n')[0].trim() || undefined;
}

export function parseFlowSource(source: string, file: string): FlowGraph {
  const { graph } = parseFlowSourceWithFacts(source, file);
  return graph;
}

export function parseFlowSourceWithFacts(source: string, file: string): { graph: FlowGraph; facts: ParseFacts } {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const classes: ts.ClassDeclaration[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isClassDeclaration(n) && extendsFlowSpec(n)) classes.push(n);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  const cls = classes.find(isExported) ?? classes[0];
  if (!cls || !cls.name) throw new GraphError(`${file}:1: no class extends FlowSpec in this file`);

  const nodes: Record<string, GraphNode> = {};
  const facts: ParseFacts = { classLine: lineOf(sf, cls.name), assigned: new Set(), nextCalls: new Map() };
  const walkAssignments = (n: ts.Node) => {
    if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment) {
      const f = thisMember(n.left as ts.Expression);
      if (f) facts.assigned.add(f);
    }
    ts.forEachChild(n, walkAssignments);
  };

  for (const member of cls.members) {
    walkAssignments(member);
    if (ts.isPropertyDeclaration(member) && member.initializer && member.name) {
      const n = propName(member.name);
      if (n) facts.assigned.add(n);
    }
    if (!ts.isMethodDeclaration(member) || !member.name) continue;
    const decorators = (ts.canHaveDecorators(member) ? ts.getDecorators(member) : undefined) ?? [];
    if (!decorators.some((d) => decoratorName(d) === 'step')) continue;
    const name = propName(member.name as ts.PropertyName) ?? member.name.getText(sf);
    const calls: NextCall[] = [];
    const findNext = (n: ts.Node) => {
      if (ts.isCallExpression(n) && thisMember(n.expression) === 'next') calls.push(parseNext(sf, file, name, n));
      ts.forEachChild(n, findNext);
    };
    if (member.body) findNext(member.body);
    facts.nextCalls.set(name, calls);
    const first = calls[0];
    const decos: GraphDecorator[] = decorators.map((d) => {
      const args = ts.isCallExpression(d.expression) ? d.expression.arguments.map((a) => a.getText(sf)).join(', ') : undefined;
      return { name: decoratorName(d), line: lineOf(sf, d), ...(args ? { args } : {}) };
    });
    nodes[name] = {
      name,
      type: 'linear',
      out: first ? [...first.targets] : [],
      in: [],
      isJoin: member.parameters.length > 0,
      ...(first?.foreach !== undefined ? { foreach: first.foreach } : {}),
      ...(first?.condition !== undefined ? { condition: first.condition, switchCases: first.cases } : {}),
      line: lineOf(sf, member.name),
      decorators: decos,
      splitParents: [],
      ...(docLine(member) ? { doc: docLine(member) } : {}),
    };
  }

  const graph: FlowGraph = {
    flowName: cls.name.text,
    file,
    sourceSha: crypto.createHash('sha256').update(source).digest('hex'),
    nodes,
    order: [],
  };
  validateGraph(graph, facts);
  return { graph, facts };
}
