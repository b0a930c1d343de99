// Transcription benchmarks (issue 02): the flow's overhead over calling the engine directly,
// 6 transcriptions at --max-workers 2 against the ideal, and real-time factors per engine/model.
// Real weights cannot be downloaded here: engines are pocketsphinx (real) and whisper.cpp with
// its test model (real compute path, no weights).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { median, tempRoot, table, fmt, REPO, BIN } from './lib.mjs';
import { decodeAudio, getTranscriber, closeTranscribers } from '../dist/transcribe/index.js';
import { Flow, namespace, setDatastoreRoot } from '../dist/client/index.js';
import { childCpu } from '../dist/compute/task/usage.js';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const SHARED = path.resolve(REPO, '../shared/data');
const work = tempRoot();
const models = path.join(work, 'models');
fs.mkdirSync(models);
fs.copyFileSync(path.join(SHARED, 'models/for-tests-ggml-tiny.en.bin'), path.join(models, 'for-tests-ggml-tiny.en.bin'));
process.env.FLOWBOOK_MODELS = models;

// clips: jfk, jfk × 4 (44 s), and an espeak sentence
const clips = path.join(work, 'clips');
fs.mkdirSync(clips);
const jfk = path.join(SHARED, 'audio/jfk.wav');
fs.copyFileSync(jfk, path.join(clips, 'jfk.wav'));
execFileSync('ffmpeg', ['-loglevel', 'error', '-y', ...[jfk, jfk, jfk, jfk].flatMap((f) => ['-i', f]), '-filter_complex', 'concat=n=4:v=0:a=1', path.join(work, 'jfk4.wav')]);
fs.copyFileSync(path.join(work, 'jfk4.wav'), path.join(clips, 'jfk4.wav'));
execFileSync('espeak-ng', ['-w', path.join(clips, 'espeak.wav'), 'Scientists measured the speed of light in a vacuum with great precision, again and again.']);

async function direct(file, model, threads) {
  const t0 = performance.now();
  const audio = await decodeAudio(file);
  // CPU of this process (whisper's threads) and of the children it waited for (pocketsphinx)
  const cpu0 = process.cpuUsage();
  const ch0 = childCpu();
  const t = await getTranscriber(model).transcribe(audio, { threads });
  const cpu = process.cpuUsage(cpu0);
  const ch = childCpu();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6 + (ch.user - ch0.user) + (ch.sys - ch0.sys);
  return { wall: (performance.now() - t0) / 1000, engine: t.wallSeconds, rtf: t.rtf, cpuPerWall: cpuSeconds / t.wallSeconds, audio: t.audioSeconds };
}

// 1. overhead: one 44 s clip, sphinx, through the flow vs directly
{
  const flowTimes = [];
  const taskTimes = [];
  const directTimes = [];
  for (let i = 0; i < REPS; i++) {
    directTimes.push((await direct(path.join(work, 'jfk4.wav'), 'sphinx-en-us', 2)).wall);
    const root = tempRoot();
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [BIN, 'run', 'flows/youtube_transcription.ts', '--url', path.join(work, 'jfk4.wav'), '--model', 'sphinx-en-us', '--quiet'], {
      cwd: REPO, env: { ...process.env, FLOWBOOK_HOME: root }, encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
    flowTimes.push((performance.now() - t0) / 1000);
    setDatastoreRoot(root);
    namespace(null);
    const run = await Flow('YouTubeVideoTranscription').latestSuccessfulRun;
    const [task] = await run.step('transcribe').tasks();
    taskTimes.push(task.resources.wallSeconds);
  }
  const d = median(directTimes);
  table(`Flow overhead: 44 s clip, sphinx-en-us (median of ${REPS})`, ['measure', 'seconds', 'overhead vs direct', 'target'], [
    ['engine called directly (decode + transcribe)', fmt(d), '', ''],
    ['the transcribe task in the flow', fmt(median(taskTimes)), `${(((median(taskTimes) - d) / d) * 100).toFixed(1)}%`, '≤ 5%'],
    ['the whole run (flowbook run …, 4 steps)', fmt(median(flowTimes)), `${(((median(flowTimes) - d) / d) * 100).toFixed(1)}%`, ''],
  ]);
}

// 2. six transcriptions (3 clips × 2 models) at --max-workers 2 against sum(solo) / 2 cores
{
  let solo = 0;
  // solo: each transcription alone, with the threads the flow gives it (1 cpu per task)
  for (const f of fs.readdirSync(clips)) for (const m of ['sphinx-en-us', 'for-tests-tiny.en']) solo += (await direct(path.join(clips, f), m, 1)).wall;
  const spans = [];
  for (let i = 0; i < REPS; i++) {
    const root = tempRoot();
    const r = spawnSync(process.execPath, [BIN, 'run', 'flows/model_size_comparison.ts', '--urls', clips, '--models', 'sphinx-en-us,for-tests-tiny.en', '--max-workers', '2', '--quiet'], {
      cwd: REPO, env: { ...process.env, FLOWBOOK_HOME: root }, encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
    setDatastoreRoot(root);
    namespace(null);
    const run = await Flow('ModelSizeComparison').latestSuccessfulRun;
    const metas = await Promise.all((await run.step('transcribe').tasks()).map((t) => t.metadata));
    const start = Math.min(...metas.map((m) => Date.parse(m.startedAt)));
    const end = Math.max(...metas.map((m) => Date.parse(m.finishedAt)));
    spans.push((end - start) / 1000);
  }
  const ideal = solo / 2;
  table(`6 transcriptions at --max-workers 2 (median of ${REPS})`, ['measure', 'seconds', 'vs ideal', 'target'], [
    ['sum of the 6 solo times / 2 cores (ideal)', fmt(ideal), '', ''],
    ['transcribe phase of model_size_comparison', fmt(median(spans)), `${(median(spans) / ideal).toFixed(2)}x`, '≤ 1.1x'],
  ]);
}

// 3. real-time factor per engine / model / threads, and whether the threads are used
{
  const rows = [];
  for (const [model, threads] of [['sphinx-en-us', 1], ['for-tests-tiny.en', 1], ['for-tests-tiny.en', 2]]) {
    const rs = [];
    for (let i = 0; i < REPS; i++) rs.push(await direct(path.join(work, 'jfk4.wav'), model, threads));
    rows.push([model, String(threads), median(rs.map((r) => r.rtf)).toFixed(3), median(rs.map((r) => r.cpuPerWall)).toFixed(2), model.startsWith('for-tests') ? 'test model: no weights, no text' : 'real text']);
  }
  table(`Real-time factor, 44 s clip (median of ${REPS}; rtf = engine seconds / audio seconds)`, ['model', 'threads', 'rtf', 'cpu s / wall s', 'note'], rows);
}
await closeTranscribers();
