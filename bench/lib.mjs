// Shared helpers for the benchmarks: run commands, take medians, print tables; build another git
// revision to compare with, and measure a process tree's peak memory (bench/scale.mjs, bench/light.mjs).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(REPO, 'bin/flowbook.js');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const tempRoot = () => fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-bench-'));

/**
 * Wall seconds of one `flowbook ...args`; throws if it fails (unless allowFail). `build` (default:
 * this checkout) gives the bin and the working directory; an env value of undefined removes that
 * variable from the child's environment.
 */
export function timeCli(args, { root, env = {}, allowFail = false, build = nowBuild() } = {}) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [build.bin, ...args], {
    cwd: build.dir,
    env: { ...process.env, FLOWBOOK_HOME: root, ...env },
    encoding: 'utf8',
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0 && !allowFail) throw new Error(`flowbook ${args.join(' ')} failed${build.dir === REPO ? '' : ` (${build.label})`}:\n${r.stderr}`);
  return s;
}

export function table(title, header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  console.log(`\n${title}\n${line(all[0])}\n|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
  for (const r of all.slice(1)) console.log(line(r));
}

export const fmt = (s, unit = 's') => (unit === 'ms' ? `${(s * 1000).toFixed(2)} ms` : `${s.toFixed(3)} s`);

// ---- builds: this checkout, and another git revision to compare it with ----------------------

/** this checkout's dist/ (built by npm run build), run from this checkout */
export const nowBuild = () => ({ label: 'now', dir: REPO, bin: BIN, client: path.join(REPO, 'dist/client/index.js') });

const git = (...args) => execFileSync('git', ['-C', REPO, ...args], { encoding: 'utf8' }).trim();

/**
 * The build of git revision `rev`, in os.tmpdir()/flowbook-bench-<sha>: extracted with `git
 * archive` and built there once the way that revision's package.json `build` script builds it
 * (node_modules is a symlink to this checkout's), reused while its dist/cli/main.js exists.
 * `rev` 'none' gives a build without a directory (a benchmark shows '–' for it). `who` names the
 * benchmark in messages. Each build runs from its own directory: bench/flows/*.ts import 'flowbook',
 * which Node resolves by package self-reference (the nearest package.json is named "flowbook" and
 * has "exports"), so the revision's copy of a flow gets the revision's dist/, never this checkout's.
 */
export function baselineBuild(rev, who) {
  if (rev === 'none') return { label: 'before' };
  const sha = git('rev-parse', '--verify', `${rev}^{commit}`);
  const short = git('rev-parse', '--short', sha);
  const dir = path.join(os.tmpdir(), `flowbook-bench-${sha}`);
  if (!fs.existsSync(path.join(dir, 'dist/cli/main.js'))) {
    const work = `${dir}.building-${process.pid}`;
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    execFileSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', REPO, sha, work], { stdio: 'inherit' });
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(work, 'node_modules'));
    // the revision's own build script, each `tsc …` / `node …` step run with this checkout's tools
    const script = JSON.parse(fs.readFileSync(path.join(work, 'package.json'), 'utf8')).scripts.build;
    console.error(`${who}: building ${short} in ${dir} (${script})`);
    for (const step of script.split('&&').map((s) => s.trim().split(/\s+/))) {
      const [cmd, ...args] = step;
      const argv = cmd === 'tsc' ? [path.join(REPO, 'node_modules/typescript/bin/tsc'), ...args] : cmd === 'node' ? args : null;
      if (!argv) throw new Error(`${who}: don't know how to run build step "${step.join(' ')}" of ${short}`);
      execFileSync(process.execPath, argv, { cwd: work, stdio: 'inherit' });
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(work, dir);
  }
  const bin = fs.existsSync(path.join(dir, 'bin/flowbook.js')) ? path.join(dir, 'bin/flowbook.js') : path.join(dir, 'dist/cli/main.js');
  return { label: `before (${short})`, dir, bin, client: path.join(dir, 'dist/client/index.js') };
}

/** warn when this checkout's src/ is newer than its dist/ (the "now" numbers would be stale) */
export function warnIfStale(who) {
  const built = fs.statSync(path.join(REPO, 'dist/cli/main.js')).mtimeMs;
  const newer = fs
    .readdirSync(path.join(REPO, 'src'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && fs.statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs > built);
  if (newer.length) console.error(`${who}: warning: ${newer.length} file(s) in src/ are newer than dist/ — run npm run build`);
}

// ---- a process tree's memory, from /proc --------------------------------------------------------

const readProc = (file) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return ''; // the process is gone
  }
};

/** VmRSS of a process in MiB (0 once it is gone) */
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readProc(`/proc/${pid}/status`))?.[1] ?? 0) / 1024;

/** a process's children, from every one of its threads (a child belongs to the thread that forked it) */
function childrenOf(pid) {
  let threads;
  try {
    threads = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return threads.flatMap((t) => readProc(`/proc/${pid}/task/${t}/children`).split(' ').filter(Boolean).map(Number));
}

// a warm worker: a node process running flowbook's worker entry (dist/compute/local/worker….js)
const isWorker = (pid) => /\/worker[\w-]*\.m?js\0/.test(readProc(`/proc/${pid}/cmdline`));

/**
 * Resident memory (MiB) of a process, of its whole tree, and of each warm worker in it. The tree is
 * walked down from `root` through /proc/<pid>/task/<tid>/children, a few small reads per process,
 * so sampling every 20 ms costs the machine little next to the run it measures (a scan of all of
 * /proc would read every process's files at every sample).
 */
export function treeRss(root) {
  let tree = 0;
  let self = 0;
  const workers = new Map();
  const todo = [root];
  while (todo.length) {
    const p = todo.pop();
    const rss = rssOf(p);
    tree += rss;
    if (p === root) self = rss;
    else if (isWorker(p)) workers.set(p, rss);
    todo.push(...childrenOf(p));
  }
  return { self, tree, workers };
}

/**
 * Run `flowbook …args` with one build (its bin, its directory as cwd): wall seconds, and the peak
 * RSS of the runner, of its tree and of each warm worker, sampled every `everyMs`. `during(child)`,
 * if given, runs alongside and its result is returned as `during`.
 */
export function runSampled(build, args, env, { during, everyMs = 100 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [build.bin, ...args], { cwd: build.dir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const peak = { self: 0, tree: 0, workers: new Map() };
    const timer = setInterval(() => {
      const m = treeRss(child.pid);
      peak.self = Math.max(peak.self, m.self);
      peak.tree = Math.max(peak.tree, m.tree);
      for (const [pid, rss] of m.workers) peak.workers.set(pid, Math.max(peak.workers.get(pid) ?? 0, rss));
    }, everyMs);
    const side = during ? during(child) : Promise.resolve(undefined);
    child.on('close', async (code) => {
      clearInterval(timer);
      const s = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`flowbook ${args.join(' ')} failed (${build.label}):\n${err}`));
      resolve({ s, peak, err, during: await side });
    });
  });
}
