// Scale benchmarks (issue 07), before and after in the same run: a 10,000-task foreach, the
// runner's, the process tree's and each worker's peak memory, the worker pool's baseline (a bare
// node, an idle warm worker), resume of the finished run (time and files written), client reads
// over 10,000 tasks, and a 1,000-task foreach on the S3 test server (objects written per task, as
// s3rver counts them, and objects left at the end).
//
// "now" is this checkout's dist/ (build it first). "before" is another git revision (default
// e8e48ab, the issue 07 starting point; BENCH_SCALE_BEFORE=<rev>, or =none to skip it), built once
// into a cache directory under the OS temp dir (lib.mjs's baselineBuild). Each build runs with its
// own bin/, its own client and its own directory as the working directory, so the baseline's copy
// of the flow gets the baseline's dist/. BENCH_SCALE_N sets the size of the big foreach (default 10,000).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { table, fmt, tempRoot as newRoot, REPO, baselineBuild, nowBuild, warnIfStale, treeRss, runSampled } from './lib.mjs';
import { startS3 } from './s3lib.mjs';

const N = Number(process.env.BENCH_SCALE_N ?? 10_000);
const BEFORE = process.env.BENCH_SCALE_BEFORE ?? 'e8e48ab';
const flow = 'bench/flows/fanout.ts';

// every datastore this run makes, removed at the end
const roots = [];
const tempRoot = () => (roots.push(newRoot()), roots.at(-1));

// ---- measuring -------------------------------------------------------------------------------

const countFiles = (dir) => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** RSS (MiB) of a bare `node -e` (the floor of every process in the tree) */
function bareNode() {
  const out = execFileSync(process.execPath, ['-e', 'setTimeout(() => console.log(process.memoryUsage().rss), 200)'], { encoding: 'utf8' });
  return Number(out) / 2 ** 20;
}

// a flow whose start step marks that it began, then sleeps 3 s: meanwhile the pool's other warm
// worker has preloaded the flow and sits idle. It lives in a directory of its own outside any
// package, so its `import 'flowbook'` falls back (flowbook's loader hooks) to the build that runs it.
const idleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-bench-idle-'));
const idleFlow = path.join(idleDir, 'idle.ts');
fs.writeFileSync(
  idleFlow,
  `import fs from 'node:fs';
import { FlowSpec, step } from 'flowbook';
export class IdleFlow extends FlowSpec {
  @step async start() { fs.writeFileSync(process.env.BENCH_IDLE_MARK!, ''); await new Promise((r) => setTimeout(r, 3000)); this.next(this.end); }
  @step async end() {}
}
`,
);

/** VmRSS of the two warm workers 1.5 s into the start task: the idle one (lower) and the busy one */
async function idleWorker(build) {
  const mark = path.join(idleDir, `started-${process.pid}-${Date.now()}`);
  const r = await runSampled(build, ['run', idleFlow, '--max-workers', '2', '--quiet'], { FLOWBOOK_HOME: tempRoot(), BENCH_IDLE_MARK: mark }, {
    during: async (child) => {
      while (!fs.existsSync(mark)) {
        if (child.exitCode !== null) return undefined;
        await sleep(20);
      }
      await sleep(1500);
      return [...treeRss(child.pid).workers.values()].sort((a, b) => a - b);
    },
  });
  if (!r.during || r.during.length < 2) throw new Error(`bench/scale: expected two warm workers in the idle run (${build.label}), saw ${r.during?.length ?? 0}`);
  return { idle: r.during[0], busy: r.during.at(-1) };
}

/** objects under an S3 root, counted through this checkout's datastore client */
async function listCount(env) {
  const { backendFor } = await import('../dist/datastore/store.js');
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  // the client reads its endpoint and credentials from the environment (lazily): set it meanwhile
  const saved = process.env;
  process.env = { ...saved, ...env };
  try {
    const b = backendFor(env.FLOWBOOK_S3_ROOT);
    let n = 0;
    let token;
    do {
      const r = await b.client.send(new ListObjectsV2Command({ Bucket: b.loc.bucket, Prefix: b.loc.prefix ? `${b.loc.prefix}/` : '', ContinuationToken: token }));
      n += r.KeyCount ?? 0;
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return n;
  } finally {
    process.env = saved;
  }
}

/** every row's numbers for one build */
async function measure(build) {
  const m = {};
  const fanout = (n) => ['run', flow, '--n', String(n), '--max-workers', '2', '--max-num-splits', String(n), '--quiet'];

  // local: N tasks
  const root = tempRoot();
  const big = await runSampled(build, fanout(N), { FLOWBOOK_HOME: root });
  m.big = big;
  m.small = await runSampled(build, fanout(1000), { FLOWBOOK_HOME: tempRoot() });
  m.idle = await idleWorker(build);

  const files0 = countFiles(root);
  m.resumed = await runSampled(build, ['resume', flow, '--quiet'], { FLOWBOOK_HOME: root });
  m.resumeFiles = countFiles(root) - files0;

  // the client over N tasks (a fresh process, as a notebook would be), this build's client
  const code = `
    const { Flow, namespace, setDatastoreRoot } = await import(${JSON.stringify(build.client)});
    setDatastoreRoot(${JSON.stringify(root)}); namespace(null);
    const run = await Flow('FanoutFlow').latestSuccessfulRun;
    const step = await run.step('work');
    let t = performance.now(); const tasks = await step.tasks(); const listS = (performance.now() - t) / 1000;
    t = performance.now(); for (const k of tasks) await k.data.y; const readS = (performance.now() - t) / 1000;
    t = performance.now(); const df = await step.toDataFrame(['y']); const dfS = (performance.now() - t) / 1000;
    console.log(JSON.stringify({ n: tasks.length, listS, readS, dfS, rows: df.shape[0] }));`;
  m.client = await new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: build.dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', (c) => (c === 0 ? resolve(JSON.parse(out)) : reject(new Error(`client bench failed (${build.label})`))));
  });

  // S3: 1,000 tasks on a fresh s3rver, and how many objects each writes
  // (a root of its own per build: datastore clients are cached by root, with their endpoint)
  const s3 = await startS3();
  const env = { ...s3.env, FLOWBOOK_S3_ROOT: `${s3.root}-${build.dir === REPO ? 'now' : 'before'}` };
  try {
    const kept0 = await listCount(env);
    const written0 = s3.objectsWritten();
    m.s3 = await runSampled(build, fanout(1000), env);
    await sleep(300); // s3rver counts a write in its event handler, after it answered
    // per task (1000 work + start, join, end): objects written (s3rver's count), and kept at the end
    m.s3PerTask = (s3.objectsWritten() - written0) / 1003;
    m.s3KeptPerTask = ((await listCount(env)) - kept0) / 1003;
  } finally {
    await s3.close();
  }
  return m;
}

// ---- the run ---------------------------------------------------------------------------------

warnIfStale('bench/scale');
const loadAtStart = os.loadavg()[0];
const now = nowBuild();
const base = baselineBuild(BEFORE, 'bench/scale');
const bare = bareNode();
const results = [];
try {
  // the baseline first, then this build; each on its own fresh datastores
  results.push(base.dir ? await measure(base) : null);
  results.push(await measure(now));
} finally {
  for (const d of [idleDir, ...roots]) fs.rmSync(d, { recursive: true, force: true });
}

const mib = (x) => `${x.toFixed(0)} MiB`;
const row = (label, f, target) => [label, ...results.map((m) => (m ? f(m) : '–')), target];
const rows = [
  row(`foreach of ${N} trivial tasks, --max-workers 2`, (m) => `${fmt(m.big.s)} (${((m.big.s / N) * 1000).toFixed(2)} ms/task)`, '≤ 12 s (≤ 1.2 ms/task)'),
  row(`  runner peak RSS / whole tree`, (m) => `${mib(m.big.peak.self)} / ${mib(m.big.peak.tree)}`, 'runner ≤ 150 MiB'),
  row('foreach of 1000: time / whole tree peak RSS', (m) => `${fmt(m.small.s)} / ${mib(m.small.peak.tree)}`, "≤ Metaflow's 165 MB (tree)"),
  row(`  each warm worker's peak RSS`, (m) => [...m.small.peak.workers.values()].map((x) => x.toFixed(0)).join(' / ') + ' MiB', ''),
  row('bare `node -e` process RSS (same node for both)', () => mib(bare), ''),
  row('warm worker idle, flow preloaded (other: in a task)', (m) => `${mib(m.idle.idle)} (${mib(m.idle.busy)})`, ''),
  row(`resume of the finished ${N}-task run`, (m) => `${fmt(m.resumed.s)}, ${m.resumeFiles} new files`, '≤ 2 s, O(steps) objects'),
  row(`step.tasks() at ${N} tasks`, (m) => (m.client.n === N ? fmt(m.client.listS) : `${fmt(m.client.listS)} (${m.client.n} tasks!)`), '≤ 0.1 s'),
  row('one small artifact from every task', (m) => fmt(m.client.readS), '≤ 0.5 s'),
  row(`toDataFrame(['y']) (${N} rows)`, (m) => (m.client.rows === N ? fmt(m.client.dfS) : `${fmt(m.client.dfS)} (${m.client.rows} rows!)`), '≤ 1 s'),
  row('foreach of 1000 on S3 (s3rver)', (m) => fmt(m.s3.s), 'near local 1000 (above)'),
  row('  objects written per task (kept at the end)', (m) => `${m.s3PerTask.toFixed(2)} (${m.s3KeptPerTask.toFixed(2)})`, '≤ 1.5'),
];

table(`Scale (issue 07), one run each, ${os.cpus().length} cores, 1-min load ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (this bench's own included)`, ['benchmark', base.label, 'now', 'target'], rows);
console.log(
  '\nRSS is VmRSS from /proc sampled every 100 ms. Warm worker idle: the lower VmRSS of the two warm workers\n' +
    "1.5 s into a 3 s sleep in a start step (one worker runs it, the other has preloaded the flow and waits);\n" +
    'in parentheses the one running the task.',
);
