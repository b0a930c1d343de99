// @cache end to end, with the real CLI on copies of a fixture flow (test/fixtures/flows/cached.ts
// and its local module cached_lib.ts) that the tests edit: what invalidates a cached step (its
// helper, a local module it imports, a parameter it reads, its foreach item, its key) and what
// does not (an unrelated step, a parameter it does not read); failed and caught tasks are never
// reused; --no-cache and --recompute; what the client, dump and advise say of a hit.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, errorLine, REPO } from './helpers.js';

/** A project of its own (package.json → the project root) with copies of the fixture files. */
function project(): { dir: string; flow: string; lib: string; root: string; edit: (file: string, from: string | RegExp, to: string) => void } {
  const dir = tempDir('flowbook-cache-');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'cache-project', type: 'module' }));
  // `import 'flowbook'` resolves from the project, as in a user's project
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(REPO, path.join(dir, 'node_modules/flowbook'));
  const flow = path.join(dir, 'cached.ts');
  const lib = path.join(dir, 'cached_lib.ts');
  fs.copyFileSync(fixture('cached.ts'), flow);
  fs.copyFileSync(fixture('cached_lib.ts'), lib);
  const edit = (file: string, from: string | RegExp, to: string) => {
    const before = fs.readFileSync(file, 'utf8');
    const after = before.replace(from, to);
    expect(after, `edit of ${file}`).not.toBe(before);
    fs.writeFileSync(file, after);
  };
  return { dir, flow, lib, root: path.join(dir, '.flowbook'), edit };
}

/** `run` the project's flow; returns how many `work` tasks ran and were cached, and the run's stderr. */
function run(p: ReturnType<typeof project>, args: string[] = [], env: Record<string, string> = {}) {
  const r = flowbook(['run', p.flow, ...args], { root: p.root, env, cwd: p.dir });
  const ran = (r.stdout.match(/work ran on/g) ?? []).length;
  const cached = (r.stderr.match(/\/work\/\d+: cached ← CachedFlow\/\d+\/work\/\d+/g) ?? []).length;
  return { ...r, ran, cached };
}

describe('@cache', () => {
  it('reuses a task whose code and reads are unchanged; a changed helper, local module or read parameter invalidates it; an unrelated step or an unread parameter does not', () => {
    const p = project();
    const first = run(p);
    expect(first.code, first.stderr).toBe(0);
    expect([first.ran, first.cached]).toEqual([3, 0]);

    const again = run(p);
    expect(again.code, again.stderr).toBe(0);
    expect([again.ran, again.cached]).toEqual([0, 3]);
    expect(again.stderr).toMatch(/Done: CachedFlow\/\d+ succeeded in [\d.]+ s \(tasks: 3 ran, 3 cached\)/);
    // the results are those of a run: the join sums the cached outs
    expect(again.stdout).toContain('total 12 (a)');

    // a parameter the step does not read: still cached, and the run's value is the one passed on
    const label = run(p, ['--label', 'b']);
    expect([label.ran, label.cached]).toEqual([0, 3]);
    expect(label.stdout).toContain('total 12 (b)');

    // an unrelated step (join) edited: work is still cached, join runs with its new code
    p.edit(p.flow, 'inputs.reduce((s: number, i: any) => s + i.out, 0)', 'inputs.reduce((s: number, i: any) => s + i.out, 100)');
    const unrelated = run(p);
    expect([unrelated.ran, unrelated.cached]).toEqual([0, 3]);
    expect(unrelated.stdout).toContain('total 112 (a)');

    // a parameter the step reads
    const factor = run(p, ['--factor', '2']);
    expect([factor.ran, factor.cached]).toEqual([3, 0]);
    expect(factor.stdout).toContain('total 124 (a)');
    // …and back: the first run's entries still hold
    expect(run(p).cached).toBe(3);

    // a helper function in the flow file that the step calls
    p.edit(p.flow, 'return x * 2;', 'return x * 3;');
    const helper = run(p);
    expect([helper.ran, helper.cached]).toEqual([3, 0]);
    expect(helper.stdout).toContain('total 118 (a)');

    // a local module the step imports
    p.edit(p.lib, 'return x * by;', 'return x * by + 1;');
    const lib = run(p);
    expect([lib.ran, lib.cached]).toEqual([3, 0]);
    expect(lib.stdout).toContain('total 121 (a)');
    // a comment in an unrelated part of the flow file is not the step's code
    p.edit(p.flow, '@step\n  async end()', '// the end\n  @step\n  async end()');
    expect(run(p).cached).toBe(3);
  });

  it('the foreach item counts: a new item runs, the others are reused', () => {
    const p = project();
    expect(run(p).ran).toBe(3);
    const more = run(p, [], { CACHED_ITEMS: '1,2,3,4' });
    expect(more.code, more.stderr).toBe(0);
    expect([more.ran, more.cached]).toEqual([1, 3]);
    expect(more.stdout).toContain('work ran on 4');
    // a changed order is the same items: all reused (the index is not read)
    const shuffled = run(p, [], { CACHED_ITEMS: '4,3,2,1' });
    expect([shuffled.ran, shuffled.cached]).toEqual([0, 4]);
  });

  it('a failed task is never reused, nor one whose error @catchErrors caught', () => {
    const p = project();
    const failed = run(p, [], { CACHED_FAIL: '2' });
    expect(failed.code).not.toBe(0);
    // the next run: the failed item runs again (the others may or may not have finished before the stop)
    const next = run(p);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain('work ran on 2');

    const q = project();
    q.edit(q.flow, "import { FlowSpec, step, cache, param } from 'flowbook';", "import { FlowSpec, step, cache, param, catchErrors } from 'flowbook';");
    q.edit(q.flow, '@cache\n  @step\n  async work()', '@cache\n  @catchErrors\n  @step\n  async work()');
    q.edit(q.flow, 'this.total = inputs.reduce((s: number, i: any) => s + i.out, 0);', 'this.total = inputs.reduce((s: number, i: any) => s + (i.out ?? 0), 0);');
    const caught = run(q, [], { CACHED_FAIL: '2' });
    expect(caught.code, caught.stderr).toBe(0);
    expect(caught.stderr).toContain('failed but caught by @catchErrors');
    // the caught task ran again (and now succeeds), the two that succeeded are reused
    const after = run(q);
    expect([after.ran, after.cached]).toEqual([1, 2]);
    expect(after.stdout).toContain('work ran on 2');
    // what is under the cache index: one entry per task that succeeded uncaught
    const entries = fs.readdirSync(path.join(q.root, 'CachedFlow/cache/work'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
    expect(entries).toHaveLength(3);
  });

  it('a @cache key counts; a key function that throws fails its task with one clear line', () => {
    const p = project();
    p.edit(p.flow, '@cache\n  @step\n  async work()', '@cache({ key: (self: any) => process.env.CACHED_KEY ?? "k1" })\n  @step\n  async work()');
    expect(run(p).ran).toBe(3);
    expect(run(p).cached).toBe(3);
    const other = run(p, [], { CACHED_KEY: 'k2' });
    expect([other.ran, other.cached]).toEqual([3, 0]);
    expect(run(p, [], { CACHED_KEY: 'k2' }).cached).toBe(3);

    p.edit(p.flow, '(self: any) => process.env.CACHED_KEY ?? "k1"', '(self: any) => { if (self.input === 2) throw new Error("no such file"); return 1; }');
    const bad = run(p);
    expect(bad.code).not.toBe(0);
    expect(errorLine(bad)).toMatch(/^error: run CachedFlow\/\d+ failed at CachedFlow\/\d+\/work\/\d+: the @cache key function of step 'work' threw: no such file$/);
  });

  it('--no-cache runs everything and records nothing; --recompute runs a step again and refreshes its entries; bad names are one line', () => {
    const p = project();
    const off = run(p, ['--no-cache']);
    expect([off.ran, off.cached]).toEqual([3, 0]);
    expect(fs.existsSync(path.join(p.root, 'CachedFlow/cache'))).toBe(false);
    expect(run(p).ran).toBe(3);
    expect(run(p, ['--no-cache']).ran).toBe(3);
    const re = run(p, ['--recompute', 'work']);
    expect([re.ran, re.cached]).toEqual([3, 0]);
    // the recomputed tasks are now the ones reused
    const id = /Running CachedFlow\/(\d+)/.exec(re.stderr)![1];
    const next = run(p);
    expect(next.cached).toBe(3);
    expect(next.stderr).toContain(`cached ← CachedFlow/${id}/work/`);

    for (const [args, line] of [
      [['--recompute', 'nope'], "error: --recompute: CachedFlow has no step 'nope' (steps: start, work, join, end)"],
      [['--recompute', 'join'], "error: --recompute: step 'join' has no @cache, so it runs anyway (cached steps: work)"],
      [['--recompute', 'work,'], 'error: --recompute takes step names separated by commas, got "work,"'],
      [['--recompute', 'work', '--no-cache'], 'error: --recompute and --no-cache: give one (--no-cache already runs every step)'],
      [['--with', 'cache:key=x'], 'error: --with cache: unknown option "key" (known: )'],
    ] as const) {
      const r = run(p, [...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(errorLine(r)).toBe(line);
    }
  });

  it('--with cache caches every step; a hit is a task like a clone: cachedFrom, shared blobs, dump and advise say it', () => {
    const p = project();
    // without @cache in the source: only --with cache caches
    p.edit(p.flow, '@cache\n  @step\n  async work()', '@step\n  async work()');
    expect(run(p).ran).toBe(3);
    expect(run(p).ran).toBe(3);
    expect(run(p, ['--with', 'cache']).ran).toBe(3);
    const all = run(p, ['--with', 'cache']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.ran).toBe(0);
    expect(all.stderr).toMatch(/\(tasks: 0 ran, 6 cached\)/);
    const id = /Running CachedFlow\/(\d+)/.exec(all.stderr)![1];

    const code = `
      import { Flow, namespace } from 'flowbook';
      namespace(null);
      const run = await Flow('CachedFlow').run('${id}');
      const tasks = await (await run.step('work')).tasks();
      const t = tasks[0];
      const from = await import('flowbook').then((m) => m.Task(t.cachedFrom));
      console.log(JSON.stringify({ cachedFrom: tasks.map((x) => x.cachedFrom), origin: t.origin, out: await t.data.out, fromOut: await from.data.out, sameBlob: (await t.artifact('out')).sha === (await from.artifact('out')).sha, resources: t.resources ?? null, successful: run.successful }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: p.dir, env: { ...process.env, FLOWBOOK_HOME: p.root }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.cachedFrom).toHaveLength(3);
    for (const c of got.cachedFrom) expect(c).toMatch(/^CachedFlow\/\d+\/work\/\d+$/);
    expect(got.origin).toBe(got.cachedFrom[0]);
    expect(got.out).toBe(got.fromOut);
    expect(got.sameBlob).toBe(true);
    // it did not run: nothing was measured
    expect(got.resources).toBeNull();
    expect(got.successful).toBe(true);

    const dump = flowbook(['dump', `CachedFlow/${id}/work/2`], { root: p.root });
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.stderr).toMatch(new RegExp(`CachedFlow/${id}/work/2: cached ← CachedFlow/\\d+/work/2 \\(@cache`));
    const advise = flowbook(['advise', `CachedFlow/${id}`], { root: p.root });
    expect(advise.code, advise.stderr).toBe(0);
    expect(advise.stdout).toContain('work: 3 task(s) cached by @cache, not judged (they did not run in this run)');
    expect(advise.stdout).toContain('no finished tasks with resource records in this run');
  });
});
