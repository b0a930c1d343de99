// The code identity of a @cache step: a sha256 over what step-code.ts found the step reaches in
// the flow file, the content of every local module that code imports (transitively, as esbuild's
// bundler follows them: code-package.ts's import graph, the one a pod's code package is made
// from), and, for packages, their name and version. A package that resolves inside the project
// and outside node_modules (the project importing itself, a workspace) is the project's own code:
// its files count by content. A package whose version cannot be read counts by the lockfile.
//
// Computed once per run for the steps that have @cache, in the runner; the TypeScript compiler is
// loaded only then.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { importGraph, projectRoot, type ImportGraph } from '../../compute/code-package.js';
import { FlowFileError } from '../../errors.js';
import { stepCode, type StepCode } from './step-code.js';
import { cacheDir } from '../../flow/graph.js';

/** bump when what counts changes: every earlier cache entry is then a miss */
export const CODE_IDENTITY_VERSION = 1;

export interface StepIdentity {
  /** sha256 of the step's code and everything of the project's code it reaches */
  sha: string;
  reads?: Set<string>;
  assigns: Set<string>;
  readsInput: boolean;
  readsIndex: boolean;
}

const sha256 = (b: string | Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const fileSha = new Map<string, string>();
/** every file an identity was computed from, with its sha (the on-disk memo is checked against it) */
let consulted: Map<string, string> | undefined;
function shaOfFile(f: string): string {
  let s = fileSha.get(f);
  if (!s) fileSha.set(f, (s = sha256(fs.readFileSync(f))));
  consulted?.set(f, s);
  return s;
}

const isBuiltin = (spec: string) => spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]);
const packageName = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Resolves import specifiers of the project to what identifies them. */
class Dependencies {
  private own = new Map<string, Promise<string[]>>();
  constructor(
    private flowFile: string,
    private root: string,
    private graph: ImportGraph,
  ) {}

  /** the local files reachable from `file` (itself included) */
  closure(file: string, into = new Set<string>()): Set<string> {
    if (into.has(file)) return into;
    into.add(file);
    for (const f of this.graph.local.get(file) ?? []) this.closure(f, into);
    return into;
  }

  /** `name@version` of a package, from its package.json found up from the flow's folder; else the lockfile's sha */
  version(name: string): string {
    const v = this.findVersion(name);
    this.versions.set(name, v);
    return v;
  }
  readonly versions = new Map<string, string>();

  private findVersion(name: string): string {
    for (let dir = path.dirname(this.flowFile); ; dir = path.dirname(dir)) {
      const pj = path.join(dir, 'node_modules', name, 'package.json');
      if (fs.existsSync(pj)) {
        const v = JSON.parse(fs.readFileSync(pj, 'utf8')).version;
        if (typeof v === 'string') return `${name}@${v}`;
      }
      if (path.dirname(dir) === dir) break;
    }
    const lock = path.join(this.root, 'package-lock.json');
    return `${name}@lock:${fs.existsSync(lock) ? shaOfFile(lock) : 'none'}`;
  }

  /** the project's own files a package import resolves to, or undefined for a package of node_modules */
  async ownFiles(spec: string): Promise<string[] | undefined> {
    let resolved: string;
    try {
      resolved = createRequire(this.flowFile).resolve(spec);
    } catch {
      return undefined;
    }
    if (path.relative(this.root, resolved).startsWith('..') || resolved.split(path.sep).includes('node_modules')) return undefined;
    let p = this.own.get(resolved);
    if (!p) this.own.set(resolved, (p = importGraph([resolved], this.root, `read the code of ${spec}`).then((g) => [...g.local.keys()])));
    return p;
  }

  /** what identifies the code an import of `spec` from `file` brings in */
  async identify(spec: string, from: string, into: Set<string>): Promise<void> {
    if (isBuiltin(spec)) return void into.add(`builtin:${spec}`);
    if (spec.startsWith('.') || spec.startsWith('/')) {
      const target = (this.graph.local.get(from) ?? []).find((f) => sameModule(f, path.resolve(path.dirname(from), spec)));
      // not in esbuild's graph (a computed path it could not follow): every local file counts
      const files = target ? this.closure(target) : new Set(this.graph.local.keys());
      for (const f of files) await this.fileAndPackages(f, into);
      return;
    }
    const own = await this.ownFiles(spec);
    if (own) {
      for (const f of own) into.add(`file:${path.relative(this.root, f)}:${shaOfFile(f)}`);
      return;
    }
    into.add(`package:${this.version(packageName(spec))}`);
  }

  /** a local file by content, and the packages it imports */
  async fileAndPackages(f: string, into: Set<string>): Promise<void> {
    const key = `file:${path.relative(this.root, f)}:${shaOfFile(f)}`;
    if (into.has(key)) return;
    into.add(key);
    for (const spec of this.graph.packages.get(f) ?? []) await this.identify(spec, f, into);
  }
}

/** `./lib.js` names `./lib.ts` (TypeScript's import convention), `./lib` names `./lib.ts` or `./lib/index.ts` */
function sameModule(actual: string, written: string): boolean {
  const strip = (p: string) => p.replace(/\.(m|c)?[jt]sx?$/, '');
  return actual === written || strip(actual) === strip(written) || strip(actual) === path.join(written, 'index');
}

interface Memo {
  v: number;
  files: Record<string, string>;
  versions: Record<string, string>;
  identities: Record<string, { sha: string; reads?: string[]; assigns: string[]; readsInput: boolean; readsIndex: boolean }>;
}

/**
 * The identity of each step in `steps` of the flow class `flowName` in `flowFile`, memoized on
 * disk (beside the parsed graphs): the memo holds the sha of every file it was computed from and
 * the version of every package it named, and is used only when all of them are still the same —
 * re-hashing a few hundred files costs milliseconds, the compiler and esbuild a few hundred.
 */
export async function codeIdentities(flowFile: string, flowName: string, allSteps: string[], steps: string[]): Promise<Map<string, StepIdentity>> {
  const abs = path.resolve(flowFile);
  const memoFile = path.join(cacheDir(), 'code-identity', `${sha256(JSON.stringify([CODE_IDENTITY_VERSION, abs, flowName, allSteps, steps]))}.json`);
  const root = projectRoot(path.dirname(abs));
  try {
    const m = JSON.parse(fs.readFileSync(memoFile, 'utf8')) as Memo;
    const deps = new Dependencies(abs, root, { root, local: new Map(), packages: new Map() });
    const same = m.v === CODE_IDENTITY_VERSION && Object.entries(m.files).every(([f, sha]) => fs.existsSync(f) && sha256(fs.readFileSync(f)) === sha) && Object.entries(m.versions).every(([n, v]) => deps.version(n) === v);
    if (same) return new Map(Object.entries(m.identities).map(([step, i]) => [step, { ...i, reads: i.reads && new Set(i.reads), assigns: new Set(i.assigns) }]));
  } catch {
    // no memo, or an unreadable one: computed below
  }
  consulted = new Map();
  try {
    const out = await computeIdentities(abs, root, flowFile, flowName, allSteps, steps);
    consulted.set(abs, sha256(fs.readFileSync(abs)));
    const memo: Memo = { v: CODE_IDENTITY_VERSION, files: Object.fromEntries(consulted), versions: Object.fromEntries(lastVersions), identities: Object.fromEntries([...out].map(([s, i]) => [s, { ...i, reads: i.reads && [...i.reads], assigns: [...i.assigns] }])) };
    try {
      fs.mkdirSync(path.dirname(memoFile), { recursive: true });
      const tmp = `${memoFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(memo));
      fs.renameSync(tmp, memoFile);
    } catch {
      // a read-only cache folder only costs time
    }
    return out;
  } finally {
    consulted = undefined;
  }
}

let lastVersions = new Map<string, string>();

async function computeIdentities(abs: string, root: string, flowFile: string, flowName: string, allSteps: string[], steps: string[]): Promise<Map<string, StepIdentity>> {
  const { default: ts } = await import('typescript');
  let source: string;
  try {
    source = fs.readFileSync(abs, 'utf8');
  } catch (err: any) {
    throw new FlowFileError(`cannot read flow file ${flowFile}: ${err?.message ?? err}`, { cause: err });
  }
  const sf = ts.createSourceFile(abs, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const cls = sf.statements.find((s): s is import('typescript').ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === flowName);
  if (!cls) throw new FlowFileError(`${flowFile}: no class ${flowName} (the file changed while the run started?)`);
  const graph = await importGraph([abs], root, `read the code of ${flowFile}`);
  const deps = new Dependencies(abs, root, graph);
  lastVersions = deps.versions;
  // every file of the import graph: a memo is stale when any of them changes
  for (const f of graph.local.keys()) shaOfFile(f);
  const out = new Map<string, StepIdentity>();
  for (const step of steps) {
    const code: StepCode = stepCode(ts, sf, cls, step, new Set(allSteps));
    const parts = new Set<string>();
    for (const spec of [...code.imports].sort()) await deps.identify(spec, abs, parts);
    // code that cannot be followed: every file of the flow's import graph, and the lockfile
    if (code.dynamic) for (const f of graph.local.keys()) await deps.fileAndPackages(f, parts);
    if (code.dynamic) parts.add(`package:${deps.version('(lockfile)')}`);
    const h = crypto.createHash('sha256').update(`flowbook-code-identity-v${CODE_IDENTITY_VERSION}\0${flowName}\0${step}\0`);
    for (const t of code.texts) h.update(`text\0${t.length}\0${t}\0`);
    for (const p of [...parts].sort()) h.update(`${p}\0`);
    out.set(step, { sha: h.digest('hex'), reads: code.reads, assigns: code.assigns, readsInput: code.readsInput, readsIndex: code.readsIndex });
  }
  return out;
}
