// "Lighter than Metaflow" (issue 23), before and after in the same run: the wall of a trivial run
// and of a 100-task foreach, the whole process tree's peak memory at 200 and at 10,000 tasks, the
// time per task at 10,000 against the floor of Node's IPC measured here and now, and what this
// machine's NODE_EXTRA_CA_CERTS costs every process start.
//
// "now" is this checkout's dist/ (build it first). "before" is another git revision (default
// c05f795, the issue 23 starting point; BENCH_LIGHT_BEFORE=<rev>, or =none to skip it), built once
// into a cache directory under the OS temp dir (lib.mjs's baselineBuild); each build runs its own
// copy of bench/flows/*.ts with its own dist/, from its own directory, on its own FLOWBOOK_HOME.
// Timed runs of the two builds alternate (before/now, then now/before, …) so a change of the
// machine's load falls on both alike. BENCH_LIGHT_N sets the size of the big foreach (default 10,000).
import { execFileSync, fork, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, table, fmt, tempRoot, timeCli, baselineBuild, nowBuild, warnIfStale, runSampled } from './lib.mjs';

const N = Number(process.env.BENCH_LIGHT_N ?? 10_000);
const BEFORE = process.env.BENCH_LIGHT_BEFORE ?? 'c05f795';
const WALL_REPS = 7; // rows 1, 2 and 6
const RSS_REPS = 5; // row 3
// row 4: a median over a few runs keeps one slow run out of the ms/task ratio; the IPC floor is
// measured one round after each round of them, so the two see the machine's load of the same minutes
const BIG_REPS = 3;
const SAMPLE_MS = 20;
const IPC_TRIPS = 10_000;
const CA = process.env.NODE_EXTRA_CA_CERTS;

const trivial = ['run', 'bench/flows/trivial.ts', '--quiet'];
const fanout = (n) => ['run', 'bench/flows/fanout.ts', '--n', String(n), '--max-workers', '2', '--max-num-splits', String(Math.max(n, 1000)), '--quiet'];

/** run `f(c)` `reps` times for every case c (a build, …), their order flipping every round; `afterRound()` after each */
async function interleaved(cases, reps, f, afterRound = async () => {}) {
  const out = cases.map(() => []);
  for (let i = 0; i < reps; i++) {
    const order = cases.map((_, j) => j);
    if (i % 2) order.reverse();
    for (const j of order) out[j].push(await f(cases[j]));
    await afterRound();
  }
  return out;
}

/** wall seconds of a bare `node -e 0`, with the environment as it is or without NODE_EXTRA_CA_CERTS */
function bareStart(withCa) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: withCa ? CA : undefined } });
  if (r.status !== 0) throw new Error(`node -e 0 failed: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

// ---- the IPC floor: what one task's round trip costs in Node alone ----------------------------

// a task message and its answer, shaped and sized like the runner's (compute/task/spec.ts): ~1 KiB of JSON each
const taskMsg = {
  type: 'task',
  spec: {
    root: '/home/analyst/projects/churn-model/.flowbook',
    flowFile: '/home/analyst/projects/churn-model/flows/fanout.ts',
    flowName: 'FanoutFlow',
    runId: '1764000000000123',
    step: 'work',
    taskId: '1234',
    attempt: 0,
    lastAttempt: true,
    inputs: ['FanoutFlow/1764000000000123/start/1'],
    isJoin: false,
    foreachStack: [{ step: 'start', var: 'xs', index: 1233, numSplits: 10000, value: 1233 }],
    key: 'work[1233]',
    nodeType: 'linear',
    transition: 'linear',
    graphOut: ['join'],
    maxNumSplits: 10000,
    resources: { cpu: 1, memory: 0, gpu: 0 },
    localSlot: { cpus: 1, memoryMiB: 11980, machineCpus: 2, machineMemoryMiB: 23961 },
    tags: ['user:analyst', 'runtime:local', 'flowbook_version:0.1.0', 'experiment:churn-2026-q4'],
    user: 'analyst',
    params: { n: 10000, region: 'eu-west-1', sample: 0.25, model: 'gradient-boosting', seed: 20261125, features: 'tenure,plan,usage_30d,support_tickets' },
    worker: 'local-1',
    catchPrint: false,
    echo: false,
  },
};
const resultMsg = {
  type: 'result',
  result: {
    ok: true,
    pathspec: 'FanoutFlow/1764000000000123/work/1234',
    next: ['join'],
    resources: { wallSeconds: 0.000412, cpuSeconds: 0.000318, peakRssMiB: 61.2, heapUsedMiB: 9.8, cpus: 1, memoryMiB: 11980, worker: 'local-1' },
    records: [
      { kind: 'attempt', task: '1234', attempt: 0, started: 1764000000456, worker: 'local-1', pid: 40213, host: 'analyst-laptop' },
      {
        kind: 'done',
        task: '1234',
        attempt: 0,
        finished: 1764000000457,
        artifacts: {
          y: { sha: '3b1f5e0c2a9d4e7f8a6b5c4d3e2f1a0b9c8d7e6f', size: 4, encoding: 'json', inline: '2466' },
          name: { sha: '9f8e7d6c5b4a39281706f5e4d3c2b1a098f7e6d5', size: 6, encoding: 'json', inline: '"work"' },
          input: { sha: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567', size: 4, encoding: 'json', inline: '1233' },
          score: { sha: 'c0ffee00deadbeef0123456789abcdef01234567', size: 18, encoding: 'json', inline: '0.8172634512345678' },
        },
        foreachStack: [{ step: 'start', var: 'xs', index: 1233, numSplits: 10000 }],
      },
    ],
  },
};

const bytes = (msg) => JSON.stringify({ ...msg, id: 1234 }).length;

/**
 * A forked plain node that answers every task message with a result at once; `round()` is the µs
 * per round trip of IPC_TRIPS sequential process.send exchanges with it.
 */
async function ipcEcho() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-bench-ipc-'));
  const file = path.join(dir, 'echo.mjs');
  fs.writeFileSync(
    file,
    `const result = ${JSON.stringify(resultMsg)};
process.on('message', (m) => process.send({ ...result, id: m.id }));
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
`,
  );
  const child = fork(file, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('error', reject);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true }); // loaded (or failed): the file is not needed again
  }
  const round = () =>
    new Promise((resolve) => {
      let i = 0;
      const t0 = performance.now();
      const next = () => {
        if (i === IPC_TRIPS) {
          child.off('message', next);
          return resolve(((performance.now() - t0) * 1000) / IPC_TRIPS);
        }
        child.send({ ...taskMsg, id: ++i });
      };
      child.on('message', next);
      next();
    });
  return { round, close: () => child.disconnect() };
}

/**
 * The RSS floor of a tree like the runner's: a plain node that forks two plain node children and
 * exchanges one IPC message with each, its three VmRSS summed (MiB) — no flowbook code at all.
 */
function rssFloor() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-bench-floor-'));
  const file = path.join(dir, 'floor.mjs');
  fs.writeFileSync(
    file,
    `import { fork } from 'node:child_process';
import fs from 'node:fs';
const rss = (p) => Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/' + p + '/status', 'utf8'))[1]) / 1024;
if (process.argv[2] === 'child') process.on('message', (m) => process.send(m));
else {
  const kids = [fork(process.argv[1], ['child']), fork(process.argv[1], ['child'])];
  await Promise.all(kids.map((k) => new Promise((r) => { k.once('message', r); k.send({ ping: 1 }); })));
  setTimeout(() => { console.log([process.pid, ...kids.map((k) => k.pid)].map(rss).reduce((a, b) => a + b)); kids.forEach((k) => k.kill()); }, 300);
}
`,
  );
  try {
    return Number(execFileSync(process.execPath, [file], { encoding: 'utf8' }).trim());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the run ---------------------------------------------------------------------------------

warnIfStale('bench/light');
const loadAtStart = os.loadavg()[0];
const base = baselineBuild(BEFORE, 'bench/light');
const builds = [base, nowBuild()].filter((b) => b.dir).map((b) => ({ ...b, home: tempRoot() }));
const cols = base.dir ? [0, 1] : [null, 0]; // a table column → its build's index (null: no before)
const m = builds.map(() => ({}));
const put = (key, values) => values.forEach((v, j) => (m[j][key] = v));

try {
  // the TypeScript and graph caches warm, as any second run of a flow finds them
  for (const b of builds) for (const f of ['trivial', 'fanout']) timeCli(['show', `bench/flows/${f}.ts`], { root: b.home, build: b });

  const wall = (args, env) => (b) => timeCli(args, { root: b.home, build: b, env });
  // the trivial run with and without NODE_EXTRA_CA_CERTS in the same rounds, so load falls on both alike
  const caEnvs = CA ? [{}, { NODE_EXTRA_CA_CERTS: undefined }] : [{}];
  const cases = builds.flatMap((b) => caEnvs.map((env) => ({ b, env })));
  const triv = (await interleaved(cases, WALL_REPS, ({ b, env }) => wall(trivial, env)(b))).map(median);
  put('trivial', builds.map((_, j) => triv[j * caEnvs.length]));
  if (CA) put('trivialNoCa', builds.map((_, j) => triv[j * caEnvs.length + 1]));
  put('fan100', (await interleaved(builds, WALL_REPS, wall(fanout(100)))).map(median));
  const bare = await interleaved([true, false], WALL_REPS, bareStart);
  const floor = median(Array.from({ length: 3 }, rssFloor));

  const sampled = (n) => (b) => runSampled(b, fanout(n), { FLOWBOOK_HOME: b.home }, { everyMs: SAMPLE_MS });
  put('fan200', await interleaved(builds, RSS_REPS, sampled(200)));
  // this process does nothing but sample during the big runs: its CPU time is what sampling costs
  // (the IPC rounds in between are left out of it)
  const ipc = await ipcEcho();
  const ipcRounds = [];
  let sampling = 0;
  let wallMs = 0;
  const timedBig = async (b) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await sampled(N)(b);
    const cpu = process.cpuUsage(cpu0);
    sampling += (cpu.user + cpu.system) / 1000;
    wallMs += performance.now() - t0;
    return r;
  };
  try {
    put('big', await interleaved(builds, BIG_REPS, timedBig, async () => ipcRounds.push(await ipc.round())));
  } finally {
    ipc.close();
  }
  const samplerShare = sampling / wallMs;
  const ipcUs = median(ipcRounds);

  // ---- the table -------------------------------------------------------------------------------

  const mib = (x) => `${x.toFixed(0)} MiB`;
  const med = (runs, f) => median(runs.map(f));
  // each warm worker's peak: workers in the order they started (pid order), the median over runs at each place
  const workerPeaks = (runs) => {
    const lists = runs.map((r) => [...r.peak.workers.entries()].sort((a, b) => a[0] - b[0]).map(([, rss]) => rss));
    const most = Math.max(0, ...lists.map((l) => l.length));
    return Array.from({ length: most }, (_, i) => median(lists.filter((l) => l.length > i).map((l) => l[i])));
  };
  const msPerTask = (x) => (med(x.big, (r) => r.s) / N) * 1000;
  const row = (label, f, target, metaflow = '') => [label, ...cols.map((j) => (j === null ? '–' : f(m[j]))), target, metaflow];
  const noCa = (f) => (CA ? f : () => 'NODE_EXTRA_CA_CERTS is not set');
  const rows = [
    row(`trivial start → end run, whole command (median of ${WALL_REPS})`, (x) => fmt(x.trivial), '≤ 0.3 s', '2.50 s'),
    row(`foreach of 100 tasks, --max-workers 2 (median of ${WALL_REPS})`, (x) => fmt(x.fan100), '≤ 0.4 s', '34.7 s'),
    row(`foreach of 200 tasks, --max-workers 2: whole-tree peak RSS (median of ${RSS_REPS})`, (x) => mib(med(x.fan200, (r) => r.peak.tree)), '≤ 150 MiB', '180 MiB'),
    row('  the floor: 3 bare node processes after one IPC message each (median of 3)', () => mib(floor), ''),
    row(
      '  runner peak; each warm worker peak',
      (x) => `${mib(med(x.fan200, (r) => r.peak.self))}; ${workerPeaks(x.fan200).map((w) => w.toFixed(0)).join(' / ') || '–'} MiB`,
      '',
    ),
    row(`foreach of ${N} tasks, --max-workers 2: wall (median of ${BIG_REPS})`, (x) => `${fmt(med(x.big, (r) => r.s))} (${msPerTask(x).toFixed(3)} ms/task)`, '≤ 0.5 ms/task'),
    row('  whole-tree peak RSS; runner peak', (x) => `${mib(med(x.big, (r) => r.peak.tree))}; ${mib(med(x.big, (r) => r.peak.self))}`, '≤ 200 MiB tree'),
    row(`  ms/task as a multiple of the IPC floor`, (x) => `${((msPerTask(x) * 1000) / ipcUs).toFixed(1)}x`, '≤ 8x'),
    row(`IPC floor: process.send task → result round trip, ~1 KiB JSON (median of ${BIG_REPS} × ${IPC_TRIPS})`, () => `${ipcUs.toFixed(1)} µs`, ''),
    row(`trivial run as row 1 (same rounds), without NODE_EXTRA_CA_CERTS (median of ${WALL_REPS})`, noCa((x) => fmt(x.trivialNoCa)), ''),
    row(`bare \`node -e 0\` start, with NODE_EXTRA_CA_CERTS (median of ${WALL_REPS})`, noCa(() => fmt(median(bare[0]))), ''),
    row(`bare \`node -e 0\` start, without it (median of ${WALL_REPS})`, () => fmt(median(bare[1])), ''),
  ];
  table(
    `Lighter than Metaflow (issue 23), ${os.cpus().length} cores, 1-min load ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (this bench's own included)`,
    ['benchmark', base.label, 'now', 'target', 'Metaflow 2.19'],
    rows,
  );
  console.log(
    `\nRows not labelled "without" run with the environment as it is${CA ? ' (NODE_EXTRA_CA_CERTS set: every node process\nparses that CA bundle as it starts)' : ''}. The IPC floor and the bare starts are one measurement of this node, shown for both builds.\n` +
      `RSS is VmRSS (resident pages: what is in RAM now, shared pages — node's own code, mapped files — counted in\n` +
      `every process that maps them) from /proc, summed over the runner and all its descendants (warm workers,\n` +
      `esbuild) and sampled every ${SAMPLE_MS} ms; the peak is the largest sample, so a spike shorter than that can be missed.\n` +
      `Sampling took ${(samplerShare * 100).toFixed(1)}% of one core during the ${N}-task runs (this process's CPU time over their wall).\n` +
      `The IPC floor: a ${bytes(taskMsg)}-byte task message out and a ${bytes(resultMsg)}-byte result back per round trip, JSON (fork's\n` +
      'default serialization, which the warm workers use), to a plain node child that answers each at once;\n' +
      `one round of ${IPC_TRIPS} after each round of the ${N}-task runs.\n` +
      `ms/task is the whole command's wall over the ${N} tasks of the foreach (two workers at a time).\n` +
      'Metaflow 2.19 is not installable here: its column holds the figures the issue gives, not measured on this machine.',
  );
} finally {
  for (const b of builds) fs.rmSync(b.home, { recursive: true, force: true });
}
