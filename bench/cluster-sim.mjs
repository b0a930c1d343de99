// Cluster simulation (issue 12, item 5: "the seeds' 9x, reproduced").
//
// 1. Measure: run flows/model_size_comparison.ts here on 6 clips × 2 models (pocketsphinx and
//    whisper.cpp's tiny.en test model), one task at a time, and read each transcribe task's
//    wall seconds, CPU seconds (user + sys, children included) and peak memory from the datastore;
//    ask `advise` (runStepUsage + stepUsage) what the transcribe step should request.
// 2. Model: a cluster of nodes × cores, pods placed first-fit by their cpu/memory requests (FIFO
//    pending queue), CPU on a node shared in proportion to the requests (CFS shares) when the pods
//    on it want more than it has; event-driven until every pod is done.
// 3. Print: the 6-video × 2-model comparison's wall time with the seeds' requests and with the
//    advised ones, and the ratio. The simulation is deterministic given the measurements.
//
// Settings (environment): BENCH_REPS (3 measuring runs; medians per task), SIM_NODES (3), SIM_CORES (4), SIM_MEM_GIB (16), SIM_VIDEO_MIN (10).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { median, tempRoot, table, REPO, BIN } from './lib.mjs';
import { Flow, namespace, setDatastoreRoot } from '../dist/client/index.js';
import { storeFor } from '../dist/client/context.js';
import { runStepUsage } from '../dist/cards/usage/run-usage.js';

const NODES = Number(process.env.SIM_NODES ?? 3);
const CORES = Number(process.env.SIM_CORES ?? 4);
const NODE_MIB = Number(process.env.SIM_MEM_GIB ?? 16) * 1024;
const VIDEO_S = Number(process.env.SIM_VIDEO_MIN ?? 10) * 60;
const VIDEOS = 6;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const MODELS = ['sphinx-en-us', 'for-tests-tiny.en'];
const SHARED = path.resolve(REPO, '../shared/data');

// ---------------------------------------------------------------------------------------------
// 1. Measure
// ---------------------------------------------------------------------------------------------
const work = tempRoot();
const models = path.join(work, 'models');
fs.mkdirSync(models);
fs.copyFileSync(path.join(SHARED, 'models/for-tests-ggml-tiny.en.bin'), path.join(models, 'for-tests-ggml-tiny.en.bin'));

// 6 clips from 4 s to 88 s: the 4 samples, jfk × 4 and jfk × 8 (a range wide enough to fit the
// CPU cost per second of audio apart from the fixed cost of a task)
const clips = path.join(work, 'clips');
fs.mkdirSync(clips);
for (const f of fs.readdirSync(path.join(REPO, 'samples'))) if (f.endsWith('.wav')) fs.copyFileSync(path.join(REPO, 'samples', f), path.join(clips, f));
const jfk = path.join(SHARED, 'audio/jfk.wav');
for (const n of [4, 8]) {
  const ins = Array.from({ length: n }, () => ['-i', jfk]).flat();
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', ...ins, '-filter_complex', `concat=n=${n}:v=0:a=1`, path.join(clips, `jfk${n}.wav`)]);
}

/** One comparison run, one task at a time: per transcribe task what it used, and what advise says. */
async function measure() {
  const root = tempRoot();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, 'run', 'flows/model_size_comparison.ts', '--urls', clips, '--models', MODELS.join(','), '--max-workers', '1', '--quiet'], {
    cwd: REPO,
    env: { ...process.env, FLOWBOOK_HOME: root, FLOWBOOK_MODELS: models },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`the comparison run failed:\n${r.stderr}`);
  const seconds = (performance.now() - t0) / 1000;
  setDatastoreRoot(root);
  namespace(null);
  const run = await Flow('ModelSizeComparison').latestSuccessfulRun;
  const tasks = [];
  for (const t of await run.step('transcribe').tasks()) {
    const res = t.resources;
    const transcript = await t.data.transcript;
    const cpu = res.cpuUserSeconds + res.cpuSystemSeconds;
    tasks.push({
      model: await t.data.modelName,
      video: (await t.data.video).title,
      audio: transcript.audioSeconds,
      wall: res.wallSeconds,
      cpu,
      // what a pod's memory limit sees: the whole process, the worker's baseline included
      processMiB: (res.processPeakRssBytes ?? res.peakRssBytes) / 2 ** 20,
    });
  }
  // what `flowbook advise ModelSizeComparison/<run>` says about the transcribe step
  const usage = (await runStepUsage(storeFor('ModelSizeComparison').store, run.id)).find((u) => u.step === 'transcribe');
  return { id: run.id, seconds, tasks, usage };
}

const runs = [];
for (let i = 0; i < REPS; i++) runs.push(await measure());
// per video × model: the median over the runs
const tasks = runs[0].tasks.map(({ model, video, audio }) => {
  const same = runs.map((r) => r.tasks.find((t) => t.model === model && t.video === video));
  const wall = median(same.map((t) => t.wall));
  const cpu = median(same.map((t) => t.cpu));
  return { model, video, audio, wall, cpu, cores: cpu / wall, processMiB: median(same.map((t) => t.processMiB)) };
});
const usage = runs[0].usage;
const requestedHere = usage.requested;
// advise's recommendation: the median over the runs of each value
const advised = { cpu: median(runs.map((r) => r.usage.recommended.cpu)), memory: median(runs.map((r) => r.usage.recommended.memory)) };

/** least squares cpu = a + b·audio */
function fit(xs, ys) {
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
  const my = ys.reduce((s, y) => s + y, 0) / ys.length;
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const b = sxx > 0 ? xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / sxx : 0;
  return { a: my - b * mx, b };
}

const perModel = MODELS.map((model) => {
  const ts = tasks.filter((t) => t.model === model).sort((x, y) => x.audio - y.audio);
  const { a, b } = fit(ts.map((t) => t.audio), ts.map((t) => t.cpu));
  const longest = ts[ts.length - 1];
  // a video of VIDEO_S seconds: the fitted fixed cost plus the fitted cost per audio second
  // (never below the largest measured task's CPU seconds)
  const cpuSeconds = Math.max(a + b * VIDEO_S, ...ts.map((t) => t.cpu));
  // cores it keeps busy: as on the longest clip (the least dominated by start-up)
  const cores = longest.cores;
  // memory: the largest process peak, plus the longer audio held as float32 at 16 kHz
  const memMiB = Math.max(...ts.map((t) => t.processMiB)) + (16000 * 4 * Math.max(0, VIDEO_S - longest.audio)) / 2 ** 20;
  return { model, ts, a, b, cpuSeconds, cores, memMiB, soloWall: cpuSeconds / cores };
});

table(
  `Measured here: the ${tasks.length} transcribe tasks of ModelSizeComparison, one at a time, requests cpu ${requestedHere.cpu} / ${requestedHere.memory} MiB (median of ${REPS} runs of ${median(runs.map((r) => r.seconds)).toFixed(0)} s)`,
  ['model', 'clips (audio s)', 'median wall s', 'median cpu s', 'cores on longest clip', 'max process peak MiB', 'fit: cpu s = a + b·audio s', `${VIDEO_S / 60}-min video: cpu s`, 'alone: wall s'],
  perModel.map((m) => [
    m.model,
    m.ts.map((t) => t.audio.toFixed(0)).join(', '),
    median(m.ts.map((t) => t.wall)).toFixed(2),
    median(m.ts.map((t) => t.cpu)).toFixed(2),
    m.cores.toFixed(2),
    Math.max(...m.ts.map((t) => t.processMiB)).toFixed(0),
    `${m.a.toFixed(2)} + ${m.b.toFixed(4)}·audio`,
    m.cpuSeconds.toFixed(1),
    m.soloWall.toFixed(1),
  ]),
);
for (const { id, usage: u } of runs) console.log(`advise ModelSizeComparison/${id}, step transcribe: requested cpu ${u.requested.cpu} / ${u.requested.memory} MiB, busiest task ${u.maxCores?.toFixed(2) ?? '—'} cores, peak ${u.peakMiB.toFixed(0)} MiB (the task's own rise) → ${u.verdict}, recommended ${u.decorator}`);

// ---------------------------------------------------------------------------------------------
// 2. Model
// ---------------------------------------------------------------------------------------------
const EPS = 1e-9;

/** Cores granted to each pod on one node: demand if the node has enough, else CFS shares (by request) with water-filling. */
function grant(pods, cores) {
  const out = new Map();
  if (pods.reduce((s, p) => s + p.demand, 0) <= cores + EPS) {
    for (const p of pods) out.set(p, p.demand);
    return out;
  }
  let active = [...pods];
  let left = cores;
  for (;;) {
    const shares = active.reduce((s, p) => s + p.reqCpu, 0);
    // pods that want less than their share take only what they want; the rest is shared again
    const sated = active.filter((p) => p.demand <= (left * p.reqCpu) / shares + EPS);
    if (!sated.length) {
      for (const p of active) out.set(p, (left * p.reqCpu) / shares);
      return out;
    }
    for (const p of sated) {
      out.set(p, p.demand);
      left -= p.demand;
    }
    active = active.filter((p) => !sated.includes(p));
    if (!active.length) return out;
  }
}

/** Event-driven: 12 pods submitted at t = 0 in the flow's order (video by video, model by model). */
function simulate({ reqCpu, reqMem, cpuLimit }, cluster = { nodes: NODES, cores: CORES, mib: NODE_MIB }, placement = 'first-fit') {
  const { cores: CORES, mib: NODE_MIB } = cluster;
  const nodes = Array.from({ length: cluster.nodes }, (_, i) => ({ i, freeCpu: CORES, freeMem: NODE_MIB, pods: [] }));
  const pods = [];
  for (let v = 0; v < VIDEOS; v++) {
    for (const m of perModel) {
      // with a CPU limit a pod can never use more than it
      const demand = cpuLimit ? Math.min(m.cores, reqCpu) : m.cores;
      pods.push({ name: `video${v + 1}×${m.model}`, work: m.cpuSeconds, left: m.cpuSeconds, demand, solo: m.soloWall, reqCpu, reqMem, memUse: m.memMiB });
    }
  }
  if (pods.some((p) => p.memUse > p.reqMem)) return { error: `OOMKilled: a pod peaks at ${Math.max(...pods.map((p) => p.memUse)).toFixed(0)} MiB over its ${reqMem} MiB limit` };
  if (reqCpu > CORES || reqMem > NODE_MIB) return { error: `unschedulable: no node has ${reqCpu} cores and ${reqMem} MiB` };
  let pending = [...pods];
  let t = 0;
  let maxRunning = 0;
  const schedule = () => {
    // the scheduler takes pending pods in order; one that fits nowhere waits, the next is tried
    for (const p of [...pending]) {
      const fits = nodes.filter((n) => n.freeCpu >= p.reqCpu - EPS && n.freeMem >= p.reqMem);
      // first-fit packs; spread takes the node with the most free cpu (kube-scheduler's default LeastAllocated leans that way)
      const n = placement === 'spread' ? fits.sort((x, y) => y.freeCpu - x.freeCpu || x.i - y.i)[0] : fits[0];
      if (!n) continue;
      n.freeCpu -= p.reqCpu;
      n.freeMem -= p.reqMem;
      n.pods.push(p);
      p.start = t;
      pending = pending.filter((q) => q !== p);
    }
  };
  schedule();
  while (nodes.some((n) => n.pods.length)) {
    maxRunning = Math.max(maxRunning, nodes.reduce((s, n) => s + n.pods.length, 0));
    const rates = new Map();
    for (const n of nodes) for (const [p, g] of grant(n.pods, CORES)) rates.set(p, g);
    const dt = Math.min(...[...rates].map(([p, g]) => p.left / g));
    t += dt;
    for (const n of nodes) {
      for (const p of n.pods) {
        p.left -= rates.get(p) * dt;
        if (p.left <= EPS * p.work + EPS) {
          p.end = t;
          n.freeCpu += p.reqCpu;
          n.freeMem += p.reqMem;
        }
      }
      n.pods = n.pods.filter((p) => p.end === undefined);
    }
    schedule();
  }
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    makespan: t,
    maxRunning,
    // while it ran, against running alone; and from submission (queueing included)
    runSlowdown: mean(pods.map((p) => (p.end - p.start) / p.solo)),
    turnaround: mean(pods.map((p) => p.end / p.solo)),
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Print
// ---------------------------------------------------------------------------------------------
const scenarios = [
  { name: "seeds': youtube_transcription.ts transcribe", reqCpu: 3, reqMem: 12288 },
  { name: "seeds': model_size_comparison.ts transcribe", reqCpu: 1, reqMem: 4096 },
  { name: 'advised by `flowbook advise` (measured run)', reqCpu: advised.cpu, reqMem: advised.memory },
  // advise judges a local task by its own rise in memory, a pod's by its whole process (what the
  // limit sees): advise's rule (× 1.25, in 256 MiB) applied to the process peak a pod would have
  { name: 'advised cpu, memory by advise\'s rule on a pod\'s process peak', reqCpu: advised.cpu, reqMem: Math.max(256, Math.ceil((Math.max(...perModel.map((m) => m.memMiB)) * 1.25) / 256) * 256) },
];
const results = scenarios.map((s) => ({ ...s, ...simulate(s) }));
const base = results[2].error ? results[3] : results[2];
const min = (s) => `${(s / 60).toFixed(1)} min`;
table(
  `${VIDEOS} videos × ${MODELS.length} models = ${VIDEOS * MODELS.length} pods of ${VIDEO_S / 60}-min videos on ${NODES} nodes × ${CORES} cores × ${NODE_MIB / 1024} GiB (no CPU limit, as flowbook's Jobs)`,
  ['requests per pod', 'cpu', 'memory MiB', 'pods at once', 'makespan', 'mean slowdown while running', 'mean (finish / alone)', 'vs advised'],
  results.map((x) =>
    x.error
      ? [x.name, x.reqCpu, x.reqMem, '—', x.error, '', '', '']
      : [x.name, x.reqCpu, x.reqMem, x.maxRunning, min(x.makespan), `${x.runSlowdown.toFixed(2)}x`, `${x.turnaround.toFixed(2)}x`, base.error ? '—' : `${(x.makespan / base.makespan).toFixed(2)}x`],
  ),
);
if (!results[0].error && !base.error) console.log(`\nratio, seeds' (youtube_transcription.ts) / advised (${base.reqCpu} cpu, ${base.reqMem} MiB) makespan: ${(results[0].makespan / base.makespan).toFixed(2)}x  (the seeds saw 48 / 5 min = 9.6x)`);

// the same two request sets on other clusters; queueing alone is bounded by running the pods one
// after another vs all at once: sum(alone) / max(alone)
const shapes = [[1, 4, 16], [3, 4, 16], [1, 16, 16], [1, 16, 64], [2, 8, 32], [4, 8, 32], [1, 24, 24]];
table(
  `The same requests on other clusters (seeds' = youtube_transcription.ts ${scenarios[0].reqCpu} cpu / ${scenarios[0].reqMem} MiB; advised = ${base.reqCpu} cpu / ${base.reqMem} MiB)`,
  ['nodes × cores × GiB', "seeds' pods at once", "seeds' makespan", 'advised pods at once', 'advised makespan', 'ratio'],
  shapes.map(([n, c, g]) => {
    const cl = { nodes: n, cores: c, mib: g * 1024 };
    const a = simulate(scenarios[0], cl);
    const b = simulate(base, cl);
    return [`${n} × ${c} × ${g}`, a.error ? '—' : a.maxRunning, a.error ?? min(a.makespan), b.error ? '—' : b.maxRunning, b.error ?? min(b.makespan), a.error || b.error ? '—' : `${(a.makespan / b.makespan).toFixed(2)}x`];
  }),
);
const solos = perModel.flatMap((m) => Array(VIDEOS).fill(m.soloWall));
console.log(`queueing alone (pods that use less than they request, so no contention) can slow the 12 pods at most sum(alone) / max(alone) = ${(solos.reduce((x, y) => x + y, 0) / Math.max(...solos)).toFixed(2)}x (one at a time vs all at once); 12x if the two models cost the same.`);

// what it would take for 9.6x: the same cluster, pods that use more than they request
const under = [];
for (const [demandX, cpuLimit] of [[4, false], [9.6, false], [9.6, true]]) {
  const saved = perModel.map((m) => [m.cores, m.soloWall]);
  // a pod that keeps demandX × its request busy (e.g. whisper with more threads than cores requested)
  perModel.forEach((m) => {
    m.cores = demandX * 0.5;
    m.soloWall = m.cpuSeconds / m.cores;
  });
  const x = ['first-fit', 'spread'].map((pl) => simulate({ reqCpu: 0.5, reqMem: base.reqMem, cpuLimit }, undefined, pl));
  perModel.forEach((m, i) => ([m.cores, m.soloWall] = saved[i]));
  under.push([`request 0.5 cpu, use ${demandX * 0.5} cores${cpuLimit ? ', CPU limit = request' : ''}`, ...x.map((y) => y.error ?? `${y.runSlowdown.toFixed(2)}x`)]);
}
table('What would slow a pod 9.6x on this cluster (same work per pod; illustration, not measured)', ['pods', 'mean slowdown while running (first-fit)', '(spread)'], under);

console.log(`
Assumptions:
- Work of a pod = the CPU seconds its task used here (user + sys, ffmpeg/pocketsphinx children included), fitted per model as a + b·audio seconds over 6 clips of 4–88 s and extrapolated to a ${VIDEO_S / 60}-minute video; all 6 videos are that long.
- A pod keeps busy the cores its model's task kept busy on the longest clip here (cpu / wall, one task at a time, 1 engine thread as the comparison flow gives a 1-cpu task); it does not change with its request (in the flows whisper's threads = the cpu request: more threads would raise its demand).
- The whisper model is the tiny.en test model (no weights): its CPU cost is the pipeline's, not a real model's; a real tiny.en / large model costs far more per second of audio.
- Nodes: ${NODES} × ${CORES} cores × ${NODE_MIB / 1024} GiB, all allocatable (no system reservation, no daemonsets, no other tenants), no image pull or pod start-up time.
- Scheduler: pods submitted at once in the flow's order, each placed on the first node with room for its cpu and memory requests (first-fit, which packs; the real default scorer spreads, shown as "spread" where it matters); a pod that fits nowhere waits (FIFO, later pods may pass it); no preemption.
- CPU: a node's pods get what they want while the sum fits its cores; beyond, cores are shared in proportion to the cpu requests (CFS shares), with what a pod does not need shared again. No CPU limit (flowbook's Jobs set none), unless the row says so.
- Memory: limit = request (flowbook's Jobs); a pod's use is its process peak here plus the longer audio as float32 at 16 kHz; a pod over its limit would be OOM-killed (reported, not retried).`);
