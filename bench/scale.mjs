// Scale benchmarks (issue 07, the "before" numbers): a 10,000-task foreach, the runner's and the
// process tree's peak memory, resume of the finished run (time and files written), client reads
// over 10,000 tasks, and a 1,000-task foreach on the S3 test server (objects written per task).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { table, fmt, tempRoot, REPO, BIN } from './lib.mjs';
import { startS3 } from './s3lib.mjs';

const N = Number(process.env.BENCH_SCALE_N ?? 10_000);

/** resident memory (MiB) of a process and of its whole tree, from /proc */
function treeRss(root) {
  const procs = new Map();
  for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const ppid = Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'))?.[1] ?? 0) / 1024;
      procs.set(Number(d), { ppid, rss });
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const todo = [root];
  while (todo.length) {
    const p = todo.pop();
    total += procs.get(p)?.rss ?? 0;
    for (const [pid, x] of procs) if (x.ppid === p) todo.push(pid);
  }
  return { self: procs.get(root)?.rss ?? 0, tree: total };
}

/** run `flowbook …args`; wall seconds and the peak RSS of the runner and of its tree */
function run(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const peak = { self: 0, tree: 0 };
    const timer = setInterval(() => {
      const m = treeRss(child.pid);
      peak.self = Math.max(peak.self, m.self);
      peak.tree = Math.max(peak.tree, m.tree);
    }, 100);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`flowbook ${args.join(' ')} failed:\n${err}`));
      resolve({ s: (performance.now() - t0) / 1000, peak, err });
    });
  });
}

const countFiles = (dir) => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
const flow = 'bench/flows/fanout.ts';
const rows = [];

// local: N tasks
const root = tempRoot();
const big = await run(['run', flow, '--n', String(N), '--max-workers', '2', '--max-num-splits', String(N), '--quiet'], { FLOWBOOK_HOME: root });
rows.push([`foreach of ${N} trivial tasks, --max-workers 2`, `${fmt(big.s)} (${((big.s / N) * 1000).toFixed(2)} ms/task)`, '≤ 12 s (≤ 1.2 ms/task)']);
rows.push([`  runner peak RSS / whole tree`, `${big.peak.self.toFixed(0)} MiB / ${big.peak.tree.toFixed(0)} MiB`, 'runner ≤ 150 MiB']);
const small = await run(['run', flow, '--n', '1000', '--max-workers', '2', '--max-num-splits', '1000', '--quiet'], { FLOWBOOK_HOME: tempRoot() });
rows.push(['foreach of 1000: whole process tree peak RSS', `${small.peak.tree.toFixed(0)} MiB`, "≤ Metaflow's 165 MB"]);

const files0 = countFiles(root);
const resumed = await run(['resume', flow, '--quiet'], { FLOWBOOK_HOME: root });
rows.push([`resume of the finished ${N}-task run`, `${fmt(resumed.s)}, ${countFiles(root) - files0} new files`, '≤ 2 s, O(steps) objects']);

// the client over N tasks (a fresh process, as a notebook would be)
const code = `
  const { Flow, namespace, setDatastoreRoot } = await import(${JSON.stringify(REPO + '/dist/client/index.js')});
  setDatastoreRoot(${JSON.stringify(root)}); namespace(null);
  const run = await Flow('FanoutFlow').latestSuccessfulRun;
  const step = await run.step('work');
  let t = performance.now(); const tasks = await step.tasks(); const listS = (performance.now() - t) / 1000;
  t = performance.now(); for (const k of tasks) await k.data.y; const readS = (performance.now() - t) / 1000;
  t = performance.now(); const df = await step.toDataFrame(['y']); const dfS = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ n: tasks.length, listS, readS, dfS, rows: df.shape[0] }));`;
const c = await new Promise((resolve, reject) => {
  const p = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error('client bench failed'))));
});
rows.push([`step.tasks() at ${c.n} tasks`, fmt(c.listS), '≤ 0.1 s']);
rows.push(['one small artifact from every task', fmt(c.readS), '≤ 0.5 s']);
rows.push([`toDataFrame(['y']) (${c.rows} rows)`, fmt(c.dfS), '≤ 1 s']);

// S3: 1,000 tasks, and how many objects each writes
const s3 = await startS3();
try {
  const before = await listCount(s3);
  const r = await run(['run', flow, '--n', '1000', '--max-workers', '2', '--max-num-splits', '1000', '--quiet'], s3.env);
  const after = await listCount(s3);
  rows.push(['foreach of 1000 on S3 (s3rver)', fmt(r.s), `local: ${fmt(small.s)}`]);
  rows.push(['  objects written per task', ((after - before) / 1003).toFixed(2), '≤ 1.5']);
} finally {
  await s3.close();
}

/** objects under the bench S3 root, counted through the datastore's own client */
async function listCount(s3) {
  process.env = { ...process.env, ...s3.env };
  const { backendFor } = await import('../dist/datastore/store.js');
  const b = backendFor(s3.root);
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  let n = 0;
  let token;
  do {
    const r = await b.client.send(new ListObjectsV2Command({ Bucket: b.loc.bucket, Prefix: b.loc.prefix ? `${b.loc.prefix}/` : '', ContinuationToken: token }));
    n += r.KeyCount ?? 0;
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return n;
}

table(`Scale (issue 07), one run each, 2 cores`, ['benchmark', 'flowbook now', 'target'], rows);
