// The data scientist's first hour with the seed flow: long work says how far it is (task lines
// for a transcription, the run's progress line with a total and an ETA), one unreachable source
// does not sink the others, and on a small machine pocketsphinx tasks hold one core each.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { flowbook, flowbookAsyncResult, tempDir, errorLine, REPO } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';
import { decodeAudio, wavBytes } from '../../src/transcribe/audio.js';
import { eta, progressLine } from '../../src/runtime/console.js';
import { JFK, SHARED_MODELS } from '../shared-data.js';

const FLOW = path.join(REPO, 'flows/youtube_transcription.ts');
const FAKE_BIN = path.join(REPO, 'test/fixtures/bin');
const MODEL = fs.readFileSync(path.join(SHARED_MODELS, 'for-tests-ggml-tiny.bin'));
const root = tempDir();
const clips = tempDir('flowbook-clips-');
const env = {
  FLOWBOOK_MODELS: tempDir('flowbook-models-'),
  FLOWBOOK_PROGRESS_SECONDS: '0.2',
  PATH: `${FAKE_BIN}:${process.env.PATH}`,
  FAKE_YTDLP_AUDIO: JFK,
  FLOWBOOK_CORES: '2',
};
let server: http.Server;
let base = '';
let refused = '';

beforeAll(async () => {
  setDatastoreRoot(root);
  namespace(null);
  // 33 s of speech (jfk.wav three times): pocketsphinx takes seconds, long enough for progress lines
  const jfk = await decodeAudio(JFK);
  const samples = new Float32Array(jfk.samples.length * 3);
  for (let i = 0; i < 3; i++) samples.set(jfk.samples, i * jfk.samples.length);
  fs.writeFileSync(path.join(clips, 'jfk3.wav'), wavBytes({ ...jfk, samples, seconds: jfk.seconds * 3 }));
  fs.copyFileSync(JFK, path.join(clips, 'jfk.wav'));
  server = http.createServer((req, res) => {
    if (req.url === '/audio/speech.wav') return void res.writeHead(200, { 'content-length': fs.statSync(JFK).size }).end(fs.readFileSync(JFK));
    if (req.url === '/models/for-tests-ggml-tiny.bin') return void res.writeHead(200, { 'content-length': MODEL.length }).end(MODEL);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // a port nobody listens on: connection refused
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  refused = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/audio/away.wav`;
  await new Promise<void>((r) => closed.close(() => r()));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('progress and failed sources', () => {
  it('one unreachable source fails alone: the run succeeds with a row per failure; transcription and the run report progress', async () => {
    const list = path.join(clips, 'urls.txt');
    fs.writeFileSync(
      list,
      [`${base}/audio/speech.wav`, `${base}/audio/missing.wav`, refused, 'https://www.youtube.com/watch?v=gone', 'https://www.youtube.com/watch?v=abc123', path.join(clips, 'jfk3.wav')].join('\n'),
    );
    const r = await flowbookAsyncResult(['run', FLOW, '--urls', list, '--model', 'sphinx-en-us'], { root, env });
    expect(r.code, r.stderr).toBe(0);
    // start lists the video it could not resolve and goes on with the others
    expect(r.stdout).toMatch(/\/start\/1\] failed: .*urls\.txt line 4: yt-dlp failed for https:\/\/www\.youtube\.com\/watch\?v=gone: ERROR: \[youtube\] gone: Video unavailable$/m);
    expect(r.stdout).toMatch(/\/start\/1\] 5 video\(s\) to transcribe \(1 source\(s\) failed\)$/m);
    const run = (await Flow('YouTubeVideoTranscription').latestSuccessfulRun)!;
    const rows = (await run.data.rows) as { title: string; url: string; error: string; words: number }[];
    const byUrl = Object.fromEntries(rows.map((x) => [x.url, x]));
    expect(byUrl[`${base}/audio/speech.wav`].error).toBe('');
    expect(byUrl[`${base}/audio/speech.wav`].words).toBeGreaterThan(10);
    expect(byUrl['https://www.youtube.com/watch?v=abc123'].error).toBe('');
    expect(byUrl[path.join(clips, 'jfk3.wav')].error).toBe('');
    expect(byUrl[`${base}/audio/missing.wav`].error).toBe(`cannot download ${base}/audio/missing.wav: HTTP 404`);
    expect(byUrl[refused].error).toBe(`cannot download ${refused}: connection refused`);
    expect(byUrl['https://www.youtube.com/watch?v=gone'].error).toContain('Video unavailable');
    expect(r.stdout).toMatch(/\/end\/\d+\] 3 of 6 video\(s\) transcribed with sphinx-en-us$/m);
    // the card's table has the failed rows, with why
    const post = (await run.step('postprocess').task)!;
    const view = flowbook(['card', 'get', post.pathspec, '--id', 'analysis'], { root, env });
    expect(view.code, view.stderr).toBe(0);
    expect(view.stdout).toContain(`failed: cannot download ${base}/audio/missing.wav: HTTP 404`);

    // the long transcription's progress: on the CLI with its task's prefix, and in its log
    const line = /^transcribe jfk3: (\d+)% \(([\d.]+) of 33\.0 s of audio, ([\d.]+) s elapsed\)$/;
    const tasks = await run.step('transcribe').tasks();
    const long = (await Promise.all(tasks.map(async (t) => ({ t, v: await t.data.video })))).find((x) => (x.v as { title: string }).title === 'jfk3')!.t;
    const logged = (await long.stdout).split('\n').filter((l) => line.test(l));
    expect(logged.length).toBeGreaterThan(0);
    for (const l of logged) expect(r.stdout).toContain(`/transcribe/${long.id}] ${l}`);
    const logs = flowbook(['logs', long.pathspec], { root, env });
    expect(logs.stdout).toContain(logged[0]);

    // the run's progress line (not a TTY: a line every FLOWBOOK_PROGRESS_SECONDS while tasks run)
    const progress = r.stderr.split('\n').filter((l) => l.startsWith('progress: '));
    expect(progress.length).toBeGreaterThan(0);
    for (const l of progress) expect(l).toMatch(/^progress: \d+ of \d+ tasks done, [1-9]\d* running, 0 failed, .+ elapsed(, ETA .+)?$/);
    // the total counts the foreach's tasks once the start step has split them
    expect(progress.some((l) => /^progress: \d+ of (6|7|8) tasks done/.test(l) && l.includes('ETA'))).toBe(true);
  }, 180_000);

  it('on 2 cores two pocketsphinx transcriptions run at once, one core each; whisper.cpp tasks get the cores', async () => {
    // --no-cache: an earlier test transcribed these clips; this one measures how they run side by side
    const r = flowbook(['run', FLOW, '--urls', clips, '--model', 'sphinx-en-us', '--quiet', '--no-cache'], { root, env });
    expect(r.code, r.stderr).toBe(0);
    const run = (await Flow('YouTubeVideoTranscription').latestSuccessfulRun)!;
    const tasks = await run.step('transcribe').tasks();
    expect(tasks).toHaveLength(2);
    const spans = await Promise.all(tasks.map(async (t) => (await t.metadata) as { startedAt: string; finishedAt: string }));
    const [a, b] = spans.map((m) => [Date.parse(m.startedAt), Date.parse(m.finishedAt)]).sort((x, y) => x[0] - y[0]);
    expect(b[0]).toBeLessThan(a[1]); // the second started before the first finished
    for (const t of tasks) expect(t.resources!.requested).toEqual({ cpu: 1, memory: 512, gpu: 0 });

    // whisper.cpp uses the threads it is given: its tasks hold min(@resources cpu 3, 2 cores)
    fs.copyFileSync(path.join(REPO, '../shared/data/models/for-tests-ggml-tiny.en.bin'), path.join(env.FLOWBOOK_MODELS, 'for-tests-ggml-tiny.en.bin'));
    const w = flowbook(['run', FLOW, '--url', path.join(clips, 'jfk.wav'), '--model', 'for-tests-tiny.en', '--no-cache'], { root, env });
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/\/transcribe\/\d+\] jfk: 11\.0 s of audio in [\d.]+ s \(rtf [\d.]+, 2 cpus\) — whisper\.cpp test model/m);
  }, 180_000);

  it('every source failed: start fails with one line that says why', () => {
    const list = path.join(clips, 'gone.txt');
    fs.writeFileSync(list, 'https://www.youtube.com/watch?v=gone\nhttps://www.youtube.com/playlist?list=PLprivate\n');
    const r = flowbook(['run', FLOW, '--urls', list, '--model', 'sphinx-en-us'], { root, env });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(
      /^error: run YouTubeVideoTranscription\/\d+ failed at .*\/start\/1: no source could be resolved, all 2 failed: .*gone\.txt line 1: yt-dlp failed for https:\/\/www\.youtube\.com\/watch\?v=gone: ERROR: \[youtube\] gone: Video unavailable; .*gone\.txt line 2: .*The playlist does not exist\.$/,
    );
  }, 120_000);

  it('models pull in a log (not a TTY) prints a progress line every 10% instead of a bar', async () => {
    const models = tempDir('flowbook-models-');
    const r = await flowbookAsyncResult(['models', 'pull', 'for-tests-tiny'], { env: { FLOWBOOK_MODELS: models, FLOWBOOK_MODELS_URL: `${base}/models` } });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^for-tests-tiny: \d+% \([\d.]+ of 0\.5 MiB, [\d.]+ MiB\/s\)$/);
    expect(lines.at(-1)).toMatch(/^for-tests-tiny: 100% \(0\.5 of 0\.5 MiB/);
    expect(r.stderr).not.toContain('\r');
    expect(r.stdout).toContain('for-tests-tiny: downloaded and verified');
  });

  it('the progress line: done of total, and an ETA from the pace so far', () => {
    expect(progressLine({ done: 0, cloned: 0, running: 1, failed: 0, total: 1 }, 3)).toBe('0 of 1 tasks done, 1 running, 0 failed, 3 s elapsed');
    expect(eta({ done: 2, cloned: 0, running: 2, failed: 0, total: 6 }, 30)).toBe(60);
    expect(progressLine({ done: 2, cloned: 3, running: 2, failed: 0, total: 9 }, 130)).toBe('5 of 9 tasks done (3 cloned), 2 running, 0 failed, 2 min 10 s elapsed, ETA 4 min 20 s');
  });
});
