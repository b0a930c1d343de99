// What a @cache step's code is made of, read from the flow's source with the TypeScript compiler
// API: the step method and every piece of the flow file it can reach — other methods of the flow
// class it calls, fields whose initializers it reads, module-level functions, classes and values
// it names (and what those name, transitively) — the imports it uses, and the `this.<field>` it
// reads (which artifacts and parameters its result can depend on).
//
// When the code does something this cannot follow, it takes more, never less: `this[expr]` or
// `this` handed on (`helper(this)`, `const self = this`, `{ ...this }`) means every input
// artifact is read and every method of the class is part of the code; `eval`, `new Function`,
// `require(x)` or `import(x)` of a computed name mean the whole project's code counts.
import type TS from 'typescript';

/** what FlowSpec gives a step: not artifacts, not the user's code */
const FRAMEWORK = new Set(['next', 'mergeArtifacts', 'input', 'index', 'foreachStack']);

export interface StepCode {
  /** the source texts of the flow file's pieces the step reaches (the step itself first) */
  texts: string[];
  /** import specifiers the reached code uses (side-effect imports always) */
  imports: Set<string>;
  /** `this.<name>` read by the reached code; undefined: cannot tell (every input artifact counts) */
  reads?: Set<string>;
  /** `this.<name> = …` somewhere in the reached code (a hit takes these from the task that ran) */
  assigns: Set<string>;
  /** this.input is read (always true of a foreach task: the item matters anyway) */
  readsInput: boolean;
  /** this.index or this.foreachStack() is read: the task's place in its foreach counts */
  readsIndex: boolean;
  /** code this cannot follow: the project's every file counts */
  dynamic: boolean;
}

interface TopLevel {
  /** name → the statements declaring it */
  decls: Map<string, TS.Node[]>;
  /** local name → the import specifier it comes from (value imports only) */
  imports: Map<string, string>;
  /** `import './x.js'`: run for their effects */
  sideEffects: string[];
}

function topLevel(ts: typeof TS, sf: TS.SourceFile): TopLevel {
  const out: TopLevel = { decls: new Map(), imports: new Map(), sideEffects: [] };
  const add = (name: string, node: TS.Node) => out.decls.set(name, [...(out.decls.get(name) ?? []), node]);
  const bindingNames = (b: TS.BindingName, node: TS.Node): void => {
    if (ts.isIdentifier(b)) add(b.text, node);
    else for (const e of b.elements) if (!ts.isOmittedExpression(e)) bindingNames(e.name, node);
  };
  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier)) {
      const spec = s.moduleSpecifier.text;
      const c = s.importClause;
      if (!c) out.sideEffects.push(spec);
      else if (!c.isTypeOnly) {
        if (c.name) out.imports.set(c.name.text, spec);
        const b = c.namedBindings;
        if (b && ts.isNamespaceImport(b)) out.imports.set(b.name.text, spec);
        if (b && ts.isNamedImports(b)) for (const e of b.elements) if (!e.isTypeOnly) out.imports.set(e.name.text, spec);
      }
    } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isEnumDeclaration(s)) && s.name) add(s.name.text, s);
    else if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bindingNames(d.name, s);
  }
  return out;
}

const memberName = (ts: typeof TS, m: TS.ClassElement): string | undefined =>
  m.name && (ts.isIdentifier(m.name) || ts.isStringLiteralLike(m.name) || ts.isPrivateIdentifier(m.name)) ? m.name.text : undefined;

/**
 * The code facts of `step` in the flow class `cls` of `sf`. `steps`: the flow's step names (a
 * `this.other` naming a step is a next() target, not code the step runs, unless it is called).
 */
export function stepCode(ts: typeof TS, sf: TS.SourceFile, cls: TS.ClassDeclaration, step: string, steps: Set<string>): StepCode {
  const top = topLevel(ts, sf);
  const members = new Map<string, TS.ClassElement[]>();
  for (const m of cls.members) {
    const n = memberName(ts, m);
    if (n !== undefined) members.set(n, [...(members.get(n) ?? []), m]);
    // a constructor and static blocks run for every instance: they are part of every step's code
  }
  const always = cls.members.filter((m) => ts.isConstructorDeclaration(m) || ts.isClassStaticBlockDeclaration(m));
  const out: StepCode = { texts: [], imports: new Set(top.sideEffects), reads: new Set(), assigns: new Set(), readsInput: false, readsIndex: false, dynamic: false };
  const seen = new Set<TS.Node>();
  const queue: TS.Node[] = [...(members.get(step) ?? []), ...always];
  const enqueue = (n: TS.Node) => {
    if (!seen.has(n)) queue.push(n);
  };
  const allMembers = () => {
    for (const [name, ms] of members) if (!steps.has(name) || name === step) ms.forEach(enqueue);
  };
  const readsAll = () => {
    out.reads = undefined;
    allMembers();
  };

  const visitThis = (node: TS.Node): void => {
    const parent = node.parent;
    if (ts.isPropertyAccessExpression(parent) && parent.expression === node) {
      const name = parent.name.text;
      if (FRAMEWORK.has(name)) {
        if (name === 'input') out.readsInput = true;
        if (name === 'index' || name === 'foreachStack') out.readsIndex = true;
        return;
      }
      const called = ts.isCallExpression(parent.parent) && parent.parent.expression === parent;
      const ms = members.get(name);
      if (ms && (!steps.has(name) || called)) ms.forEach(enqueue);
      const isMethod = ms?.some((m) => ts.isMethodDeclaration(m)) ?? false;
      // a plain `this.x = …` sets, every other use (`+=`, `this.x.y = …`, a read) reads
      const assigned = ts.isBinaryExpression(parent.parent) && parent.parent.left === parent && parent.parent.operatorToken.kind === ts.SyntaxKind.EqualsToken;
      if (assigned) out.assigns.add(name);
      else if (!isMethod && !(steps.has(name) && !called)) out.reads?.add(name);
      return;
    }
    if (ts.isElementAccessExpression(parent) && parent.expression === node) {
      const arg = parent.argumentExpression;
      if (ts.isStringLiteralLike(arg)) {
        const ms = members.get(arg.text);
        if (ms) ms.forEach(enqueue);
        out.reads?.add(arg.text);
      } else readsAll();
      return;
    }
    // `this` handed on: whatever receives it may read anything and call any method
    readsAll();
  };

  const visitIdentifier = (id: TS.Identifier): void => {
    const p = id.parent;
    // a name after a dot, a property key, a declaration's own name: not a reference
    if (ts.isPropertyAccessExpression(p) && p.name === id) return;
    if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) && p.name === id) return;
    const name = id.text;
    if (name === 'eval' || name === 'Function') out.dynamic = true;
    if (name === 'require' && ts.isCallExpression(p) && p.expression === id) {
      const a = p.arguments[0];
      if (a && ts.isStringLiteralLike(a)) out.imports.add(a.text);
      else out.dynamic = true;
    }
    // (a local variable that shadows a module-level name adds that declaration too: more, never less)
    for (const d of top.decls.get(name) ?? []) enqueue(d);
    const spec = top.imports.get(name);
    if (spec !== undefined) out.imports.add(spec);
  };

  const walk = (n: TS.Node): void => {
    if (n.kind === ts.SyntaxKind.ThisKeyword) visitThis(n);
    else if (ts.isIdentifier(n)) visitIdentifier(n);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = n.arguments[0];
      if (a && ts.isStringLiteralLike(a)) out.imports.add(a.text);
      else out.dynamic = true;
    }
    // types are erased: what they name runs no code
    if (ts.isTypeNode(n) || ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) return;
    ts.forEachChild(n, walk);
  };

  while (queue.length) {
    const n = queue.shift()!;
    if (seen.has(n)) continue;
    seen.add(n);
    out.texts.push(n.getText(sf));
    walk(n);
  }
  // `reads` of methods and of steps named as next() targets are not artifacts
  if (out.reads) for (const name of [...out.reads]) if (members.get(name)?.some((m) => ts.isMethodDeclaration(m) || ts.isGetAccessor(m))) out.reads.delete(name);
  return out;
}
