// @cache benchmarks (issue 22), medians of BENCH_CACHE_REPS (3) runs each:
//  1. a foreach of BENCH_CACHE_N (1,000) trivial tasks with @cache: all cached (a warm cache),
//     all run (an empty cache: every task misses, then writes its entry) and cache off
//     (--no-cache); per task, a hit's wall time and what a miss adds over cache off.
//  2. the comparison flow (flows/model_size_comparison.ts) on 6 clips (jfk.wav and five espeak-ng
//     sentences) with 2 models, then with a third added: the second run's transcription tasks
//     (run / cached), its wall time, and the ratio to the same 3-model run uncached (--no-cache).
//     The models are whisper.cpp's weightless test models plus pocketsphinx (real, offline): they
//     test the pipeline and the caching, not transcription quality.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, REPO, median, table, tempRoot } from './lib.mjs';

const N = Number(process.env.BENCH_CACHE_N ?? 1000);
const REPS = Number(process.env.BENCH_CACHE_REPS ?? 3);
const SHARED = path.resolve(REPO, '../shared/data');
const roots = [];
const root = () => (roots.push(tempRoot()), roots.at(-1));

function run(args, r, env = {}) {
  const t0 = performance.now();
  const p = spawnSync(process.execPath, [BIN, 'run', ...args], { cwd: REPO, env: { ...process.env, FLOWBOOK_HOME: r, ...env }, encoding: 'utf8' });
  const s = (performance.now() - t0) / 1000;
  if (p.status !== 0) throw new Error(`flowbook run ${args.join(' ')} failed:\n${p.stderr}`);
  const tasks = /\(tasks: ([^)]*)\)/.exec(p.stderr)?.[1] ?? '?';
  return { s, tasks, stdout: p.stdout, stderr: p.stderr };
}

try {
  // ---- 1. foreach of N trivial tasks
  const flow = ['bench/flows/cached_fanout.ts', '--n', String(N), '--max-num-splits', String(N), '--max-workers', '2', '--quiet'];
  const off = [];
  const miss = [];
  const hit = [];
  let hitTasks = '';
  for (let i = 0; i < REPS; i++) {
    off.push(run([...flow, '--no-cache'], root()).s);
    const r = root();
    miss.push(run(flow, r).s);
    const h = run(flow, r);
    hit.push(h.s);
    hitTasks = h.tasks;
  }
  const [mOff, mMiss, mHit] = [median(off), median(miss), median(hit)];
  table(`@cache: a foreach of ${N} trivial tasks, 2 workers (median of ${REPS}, wall s of the whole run)`, ['case', 'wall', 'per task', 'tasks'], [
    ['cache off (--no-cache)', mOff.toFixed(2), `${((mOff / N) * 1000).toFixed(2)} ms`, `${N + 3} ran`],
    ['all run (empty cache: every task misses)', mMiss.toFixed(2), `${((mMiss / N) * 1000).toFixed(2)} ms`, `${N + 3} ran`],
    ['all cached (warm cache)', mHit.toFixed(2), `${((mHit / N) * 1000).toFixed(2)} ms`, hitTasks],
  ]);
  table('@cache per task', ['measure', 'value'], [
    ['a hit: the all-cached run / tasks (an upper bound: the run, start, join and end included)', `${((mHit / N) * 1000).toFixed(2)} ms`],
    ['a miss adds: (all run − cache off) / tasks (the code identity, once per run, included)', `${(((mMiss - mOff) / N) * 1000).toFixed(2)} ms`],
  ]);

  // ---- 2. the comparison flow, 2 models then 3
  const clips = tempRoot();
  const models = tempRoot();
  roots.push(clips, models);
  fs.copyFileSync(path.join(SHARED, 'audio/jfk.wav'), path.join(clips, 'jfk.wav'));
  fs.copyFileSync(path.join(SHARED, 'audio/jfk.txt'), path.join(clips, 'jfk.txt'));
  const sentences = ['the quick brown fox jumps over the lazy dog', 'we choose to go to the moon in this decade', 'caching a step saves the time of running it again', 'six clips and three models make eighteen transcriptions', 'the research loop should never transcribe the same clip twice'];
  sentences.forEach((s, i) => execFileSync('espeak-ng', ['-w', path.join(clips, `clip${i + 1}.wav`), s]));
  for (const m of ['tiny.en', 'base.en']) fs.copyFileSync(path.join(SHARED, `models/for-tests-ggml-${m}.bin`), path.join(models, `for-tests-ggml-${m}.bin`));
  const env = { FLOWBOOK_MODELS: models };
  const cmp = (list, extra = []) => ['flows/model_size_comparison.ts', '--urls', clips, '--models', list, '--max-workers', '2', ...extra];
  const two = 'for-tests-tiny.en,sphinx-en-us';
  const three = 'for-tests-tiny.en,for-tests-base.en,sphinx-en-us';
  const count = (r) => ({ ran: (r.stdout.match(/\/transcribe\/\d+\] .* × /g) ?? []).length, cached: (r.stderr.match(/\/transcribe\/\d+: cached ← /g) ?? []).length });
  const second = [];
  const uncached = [];
  let c2 = { ran: 0, cached: 0 };
  let c1 = { ran: 0, cached: 0 };
  for (let i = 0; i < REPS; i++) {
    const r = root();
    c1 = count(run(cmp(two), r, env));
    const s = run(cmp(three), r, env);
    second.push(s.s);
    c2 = count(s);
    uncached.push(run(cmp(three, ['--no-cache']), root(), env).s);
  }
  const [mSecond, mUncached] = [median(second), median(uncached)];
  table(`@cache: the comparison flow on 6 clips, 2 models then a third (median of ${REPS})`, ['run', 'transcriptions ran', 'cached', 'wall s'], [
    [`first: ${two}`, c1.ran, c1.cached, '—'],
    [`second: ${three}`, c2.ran, c2.cached, mSecond.toFixed(2)],
    [`the same 3 models uncached (--no-cache)`, 18, 0, mUncached.toFixed(2)],
    ['ratio second / uncached', '', '', (mSecond / mUncached).toFixed(2)],
  ]);
} finally {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
}
