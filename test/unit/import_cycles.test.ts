// The house plan holds: no import cycle in src/, between files or between folders. Every import
// counts — static, type-only, `export … from` and dynamic `import()` — read with the TypeScript
// compiler's own pre-processor (ts.preProcessFile), so what it sees is what tsc resolves.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO } from '../e2e/helpers.js';

const SRC = path.join(REPO, 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** file → the src files it imports (relative specifiers, `.js` written for `.ts` as tsc resolves them) */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const deps = importedFiles
      .map((r) => r.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => {
        const target = path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts');
        if (!fs.existsSync(target)) throw new Error(`${path.relative(REPO, file)} imports ${s}, which is not a file of src/`);
        return target;
      });
    graph.set(file, deps);
  }
  return graph;
}

/** Strongly connected components with more than one member (or a self-import): the cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** the folder of src/ a file belongs to (`compute`, `client`…; a top-level file is its own) */
const folderOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];

describe('import cycles in src/', () => {
  const graph = importGraph();

  it('reads the imports it should (the check itself works)', () => {
    expect(graph.size).toBeGreaterThan(100);
    const runFlow = path.join(SRC, 'runtime/run.ts');
    expect(graph.get(runFlow)).toContain(path.join(SRC, 'compute/executors.ts'));
    // a graph with a cycle is found
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  it('no file imports itself through others', () => {
    const found = cycles(graph).map((c) => c.map((f) => path.relative(SRC, f)).join(' → '));
    expect(found).toEqual([]);
  });

  it('no folder imports itself through others', () => {
    const folders = new Map<string, Set<string>>();
    for (const [file, deps] of graph) {
      const from = folderOf(file);
      if (!folders.has(from)) folders.set(from, new Set());
      for (const d of deps) if (folderOf(d) !== from) folders.get(from)!.add(folderOf(d));
    }
    const found = cycles(new Map([...folders].map(([k, v]) => [k, [...v]])));
    // which files make each folder cycle, so the message says what to move
    const why = found.map((c) => c.join(' ↔ ') + ': ' + [...graph].flatMap(([f, ds]) => ds.filter((d) => c.includes(folderOf(f)) && c.includes(folderOf(d)) && folderOf(d) !== folderOf(f)).map((d) => `${path.relative(SRC, f)} → ${path.relative(SRC, d)}`)).join(', '));
    expect(why).toEqual([]);
  });

  it('the runner names no backend: src/runtime mentions kubernetes or argo only in comments', () => {
    const code = sources(path.join(SRC, 'runtime')).flatMap((f) => {
      const text = fs.readFileSync(f, 'utf8');
      // drop comments with the compiler's scanner, keep everything else (strings included)
      const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
      const kept: string[] = [];
      for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) kept.push(scanner.getTokenText());
      return /kubernetes|argo/.test(kept.join(' ')) ? [path.relative(SRC, f)] : [];
    });
    expect(code).toEqual([]);
  });
});
