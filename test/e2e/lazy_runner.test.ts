// The runner loads what a run uses, and nothing else: a run without @kubernetes loads none of the
// Kubernetes code (nor the code packaging pods need), one without @cache none of the cache code,
// and the closing resource notes read no task record (so neither the run-records reader nor the
// card folders load). Seen from outside, through the real CLI: a module hook given with --import
// (NODE_OPTIONS, so the workers get it too) appends every module URL each process loads to a file.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { flowbook, fixture, tempDir, REPO } from './helpers.js';

/** A --import module that registers a `load` hook writing `<runner|worker name> <url>` lines to $LOAD_LOG. */
function loadLogger(dir: string): string {
  const hook = path.join(dir, 'log-loads-hook.mjs');
  fs.writeFileSync(
    hook,
    `import fs from 'node:fs';
export async function load(url, context, next) {
  if (process.env.LOAD_LOG) fs.appendFileSync(process.env.LOAD_LOG, (process.env.FLOWBOOK_WORKER || 'runner') + ' ' + url + '\\n');
  return next(url, context);
}
`,
  );
  const entry = path.join(dir, 'log-loads.mjs');
  fs.writeFileSync(entry, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
  return entry;
}

/** Run the CLI with the logger; the dist/ modules (relative to dist/) each process loaded. */
function runLogged(args: string[]): { code: number | null; stderr: string; runner: string[]; workers: string[] } {
  const dir = tempDir('flowbook-loads-');
  const log = path.join(dir, 'loads.txt');
  const r = flowbook(args, { root: path.join(dir, 'home'), env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(loadLogger(dir)).href}`, LOAD_LOG: log } });
  const dist = pathToFileURL(path.join(REPO, 'dist')).href + '/';
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  const ours = (who: (w: string) => boolean) => [...new Set(lines.map((l) => l.split(' ')).filter(([w, u]) => who(w) && u.startsWith(dist)).map(([, u]) => u.slice(dist.length)))];
  return { code: r.code, stderr: r.stderr, runner: ours((w) => w === 'runner'), workers: ours((w) => w !== 'runner') };
}

/** what a run without @kubernetes or @cache never needs in its runner */
const UNUSED = [/^compute\/kubernetes\//, /^compute\/code-package\.js$/, /^runtime\/cache\//, /^datastore\/cache-index\.js$/, /^cards\/types\/card-folders\.js$/, /^cards\/run-records\.js$/, /^cards\/usage\/run-usage\.js$/];

describe('the runner loads only what the run uses', () => {
  it('a trivial run loads no Kubernetes, @cache or run-records code', () => {
    const r = runLogged(['run', fixture('linear.ts'), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    // the hook saw the runner and its workers (the check itself works)
    expect(r.runner).toContain('runtime/run.js');
    expect(r.runner).toContain('compute/backends.js');
    expect(r.workers.length).toBeGreaterThan(0);
    expect(r.runner.filter((m) => UNUSED.some((re) => re.test(m)))).toEqual([]);
  });

  it('a run with @cache loads the cache code (and still no Kubernetes code)', () => {
    const r = runLogged(['run', fixture('cached.ts'), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.runner).toContain('runtime/cache/run-cache.js');
    expect(r.runner.filter((m) => /^compute\/kubernetes\//.test(m))).toEqual([]);
  });
});
