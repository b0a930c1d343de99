// Workers without the compiler (issue 23): the runner bundles the flow once (flow/prepare.ts) and
// the workers import that bundle. What a user must not notice: each file keeps its own
// import.meta, a package resolves from the flow's own project, an error points at its .ts line, an
// edit to any imported file is in the next run. What they should notice: the workers load no
// TypeScript hooks, no compiler and only the flowbook modules the flow uses (no cards here); an unchanged flow's
// runner never loads esbuild. Module loads are recorded by a real module hook given to every
// process through NODE_OPTIONS (the worker's name tells its processes apart).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { flowbook, tempDir, errorLine } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';

let home: string;
let project: string;
let root: string;
let cache: string;
let hooks: string;

const FLOW = `import { FlowSpec, step } from 'flowbook';
import { readNote, here, boom } from '../lib/notes.js';
import { shout } from 'tinypkg';

export class MetaFlow extends FlowSpec {
  note!: string;
  dir!: string;
  loud!: string;
  flowUrl!: string;
  @step async start() {
    this.note = readNote();
    this.dir = here();
    this.loud = shout('hi');
    this.flowUrl = import.meta.url;
    if (process.env.META_BOOM) boom();
    this.next(this.end);
  }
  @step async end() {}
}
`;
const NOTES = (note: string) => `import fs from 'node:fs';
export const readNote = () => fs.readFileSync(new URL('./note.txt', import.meta.url), 'utf8').trim() + ' ${note}';
export const here = () => import.meta.dirname;
export function boom(): never {
  throw new Error('boom in lib');
}
`;

/** every module URL each process loaded: 'runner', or the worker's name */
function loads(log: string): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const line of fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) {
    const [who, url] = line.split(' ');
    by.set(who, [...(by.get(who) ?? []), url]);
  }
  return by;
}

function run(args: string[], env: Record<string, string> = {}) {
  const log = path.join(home, `loads-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const r = flowbook(['run', path.join(project, 'flows/meta.ts'), ...args], {
    root,
    cwd: project,
    env: { FLOWBOOK_CACHE_DIR: cache, NODE_OPTIONS: `--import ${pathToFileURL(hooks).href}`, LOAD_LOG: log, ...env },
  });
  return { ...r, loads: loads(log) };
}

beforeAll(() => {
  home = tempDir('flowbook-prepared-');
  project = path.join(home, 'proj');
  root = path.join(home, 'store');
  cache = path.join(home, 'cache');
  fs.mkdirSync(path.join(project, 'flows'), { recursive: true });
  fs.mkdirSync(path.join(project, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(project, 'flows/meta.ts'), FLOW);
  fs.writeFileSync(path.join(project, 'lib/notes.ts'), NOTES('v1'));
  fs.writeFileSync(path.join(project, 'lib/note.txt'), 'read beside notes.ts');
  // a package of the project's own, found from the flow's directory
  const pkg = path.join(project, 'node_modules/tinypkg');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'tinypkg', type: 'module', exports: { '.': { import: './esm.js', require: './cjs.cjs' } } }));
  fs.writeFileSync(path.join(pkg, 'esm.js'), `export const shout = (s) => s.toUpperCase() + '!';\n`);
  fs.writeFileSync(path.join(pkg, 'cjs.cjs'), `exports.shout = () => 'the require condition: wrong';\n`);
  // the module hook that records loads, and its registration (given to every process)
  const hookFile = path.join(home, 'log-loads.mjs');
  fs.writeFileSync(hookFile, `import fs from 'node:fs';\nexport async function load(url, context, next) {\n  fs.appendFileSync(process.env.LOAD_LOG, \`\${process.env.FLOWBOOK_WORKER ?? 'runner'} \${url}\\n\`);\n  return next(url, context);\n}\n`);
  hooks = path.join(home, 'register.mjs');
  fs.writeFileSync(hooks, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hookFile).href)});\n`);
  setDatastoreRoot(root);
  namespace(null);
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('a prepared flow', () => {
  it('keeps each file its own import.meta, resolves packages from the flow, and its workers load no compiler', async () => {
    const first = run([]);
    expect(first.code, first.stderr).toBe(0);
    const data = (await Flow('MetaFlow').latestSuccessfulRun)!.data as any;
    expect(await data.note).toBe('read beside notes.ts v1');
    expect(await data.dir).toBe(path.join(project, 'lib'));
    expect(await data.loud).toBe('HI!');
    expect(await data.flowUrl).toBe(pathToFileURL(path.join(project, 'flows/meta.ts')).href);
    // the first run bundled it
    expect(first.loads.get('runner')!.some((u) => u.includes('/esbuild/'))).toBe(true);

    const workers = [...first.loads].filter(([who]) => who.startsWith('local-'));
    expect(workers.length).toBeGreaterThan(0);
    for (const [who, urls] of workers) {
      const bad = urls.filter((u) => /loader-hooks|\/typescript\/|\/esbuild\/|graph-parse|\.ts$/.test(u));
      expect(bad, who).toEqual([]);
      // the flow draws no card and reads no other run: neither the card code nor the client loads
      expect(urls.filter((u) => /\/dist\/(cards|client)\//.test(u)), who).toEqual([]);
      expect(urls.some((u) => /\/flows\/[0-9a-f]{32}\.mjs$/.test(u)), who).toBe(true);
    }
  });

  it('an unchanged flow is not bundled again; an edit to an imported file is in the next run', async () => {
    const again = run([]);
    expect(again.code, again.stderr).toBe(0);
    const runner = again.loads.get('runner')!;
    expect(runner.filter((u) => /\/esbuild\/|\/typescript\/|loader-hooks/.test(u))).toEqual([]);

    fs.writeFileSync(path.join(project, 'lib/notes.ts'), NOTES('v2'));
    const edited = run([]);
    expect(edited.code, edited.stderr).toBe(0);
    expect(await ((await Flow('MetaFlow').latestSuccessfulRun)!.data as any).note).toBe('read beside notes.ts v2');
  });

  it('an error thrown in an imported file names that .ts file and line', () => {
    const r = run([], { META_BOOM: '1' });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/MetaFlow\/\d+\/start\/1 failed: Error: boom in lib \(at \S*lib\/notes\.ts:5\)/);
  });

  it('code a bundle could change is loaded from its source, with a note saying why', async () => {
    fs.writeFileSync(path.join(project, 'lib/notes.ts'), `${NOTES('v3')}export const later = (name: string) => import(name);\n`);
    const r = run([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: not bundled: \S*notes\.ts imports a module whose name is computed \(import\(x\)\); its tasks load the flow's source with the TypeScript hooks/);
    expect(await ((await Flow('MetaFlow').latestSuccessfulRun)!.data as any).note).toBe('read beside notes.ts v3');
    expect(errorLine(r)).toBeUndefined();
  });
});

describe('a cache that cannot be written', () => {
  it('costs speed, never the run: the note says why, the tasks load the source', async () => {
    const blocked = path.join(home, 'a-file');
    fs.writeFileSync(blocked, ''); // a directory under a file cannot be made, not even by root
    fs.writeFileSync(path.join(project, 'lib/notes.ts'), NOTES('v4'));
    const r = run([], { FLOWBOOK_CACHE_DIR: path.join(blocked, 'cache') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: not bundled: the bundle cannot be written to \S+a-file\/cache\/flows \(ENOTDIR\); its tasks load the flow's source with the TypeScript hooks/);
    expect(await ((await Flow('MetaFlow').latestSuccessfulRun)!.data as any).note).toBe('read beside notes.ts v4');
  });
});

describe("a warm worker's foreach list", () => {
  it('is parsed once, yet a task that changes its this.input changes no other attempt\'s', async () => {
    const file = path.join(project, 'flows/items.ts');
    fs.writeFileSync(
      file,
      `import { FlowSpec, step, retry, current, type Inputs } from 'flowbook';
export class ItemsFlow extends FlowSpec {
  items!: { v: number; tags: string[] }[];
  seen!: string;
  all!: string[];
  @step async start() { this.items = Array.from({ length: 6 }, (_, i) => ({ v: i, tags: ['t' + i] })); this.next(this.touch, { foreach: 'items' }); }
  // the first attempt changes its item and fails; the retry, in the same worker, must see it as it was
  @retry({ times: 1, minutesBetweenRetries: 0 }) @step async touch() {
    if (current.retryCount === 0) { this.input.v = -1; this.input.tags.push('changed'); throw new Error('first attempt'); }
    this.seen = this.input.v + ':' + this.input.tags.join(','); this.next(this.join);
  }
  @step async join(inputs: Inputs) { this.all = inputs.map((i) => i.seen); this.next(this.end); }
  @step async end() {}
}
`,
    );
    // one worker runs all six tasks in turn
    const r = flowbook(['run', file, '--max-workers', '1'], { root, cwd: project, env: { FLOWBOOK_CACHE_DIR: cache } });
    expect(r.code, r.stderr).toBe(0);
    const data = (await Flow('ItemsFlow').latestSuccessfulRun)!.data as any;
    expect(await data.all).toEqual(['0:t0', '1:t1', '2:t2', '3:t3', '4:t4', '5:t5']);
  });
});

describe("a warm worker's young generation", () => {
  it("stays small over 2,000 tasks of flowbook's own work, and grows as V8 grows it for a step's code", async () => {
    const file = path.join(project, 'flows/heavy.ts');
    fs.writeFileSync(
      file,
      `import v8 from 'node:v8';
import { FlowSpec, step, type Inputs } from 'flowbook';
const newSpace = () => Math.round(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size / 2 ** 20);
export class HeavyFlow extends FlowSpec {
  xs!: number[];
  y!: number;
  before!: number;
  during!: number;
  @step async start() { this.xs = Array.from({ length: 2000 }, (_, i) => i); this.next(this.tick, { foreach: 'xs' }); }
  @step async tick() { this.y = this.input; this.next(this.join); }
  @step async join(inputs: Inputs) { this.next(this.heavy); }
  @step async heavy() {
    this.before = newSpace();
    const rows: { i: number; s: string }[] = [];
    for (let i = 0; i < 1_000_000; i++) rows.push({ i, s: 'r' + i });
    this.during = newSpace();
    this.next(this.end);
  }
  @step async end() {}
}
`,
    );
    // one worker runs every task
    const r = flowbook(['run', file, '--max-workers', '1', '--max-num-splits', '2000'], { root, cwd: project, env: { FLOWBOOK_CACHE_DIR: cache } });
    expect(r.code, r.stderr).toBe(0);
    const data = (await Flow('HeavyFlow').latestSuccessfulRun)!.data as any;
    // V8's first size (2 MiB semi-spaces at most) after 2,002 tasks; V8's growth (16–32 MiB) for the step
    expect(await data.before).toBeLessThanOrEqual(4);
    expect(await data.during).toBeGreaterThanOrEqual(16);
  });
});
