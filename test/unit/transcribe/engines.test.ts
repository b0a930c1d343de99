// Real engines on real audio: pocketsphinx gives real text; whisper.cpp loads its test model and
// runs the pipeline (empty text, labelled as such); ffmpeg decodes every format or says why not.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAudio, getTranscriber, closeTranscribers, transcribeFile, chooseAutoModel, localFootprint, chunkBounds, transcriptionProgressLines, downloadProgressLines, type Audio, type TranscribeProgress } from '../../../src/transcribe/index.js';

import { JFK, SHARED_MODELS } from '../../shared-data.js';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-audio-'));

beforeAll(() => {
  process.env.FLOWBOOK_MODELS = path.join(dir, 'models');
  fs.mkdirSync(process.env.FLOWBOOK_MODELS, { recursive: true });
  fs.copyFileSync(path.join(SHARED_MODELS, 'for-tests-ggml-tiny.en.bin'), path.join(process.env.FLOWBOOK_MODELS, 'for-tests-ggml-tiny.en.bin'));
});
afterAll(() => closeTranscribers());

describe('audio decoding (ffmpeg)', () => {
  for (const ext of ['mp3', 'ogg', 'm4a', 'webm']) {
    it(`decodes ${ext} to 16 kHz mono`, async () => {
      const file = path.join(dir, `jfk.${ext}`);
      execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', JFK, file]);
      const a = await decodeAudio(file);
      expect(a.sampleRate).toBe(16000);
      expect(a.seconds).toBeGreaterThan(10.8);
      expect(a.seconds).toBeLessThan(11.3);
    });
  }

  it('bad input is one clear error', async () => {
    await expect(decodeAudio(path.join(dir, 'missing.wav'))).rejects.toThrow(`audio file not found: ${path.join(dir, 'missing.wav')}`);
    const corrupt = path.join(dir, 'corrupt.mp3');
    fs.writeFileSync(corrupt, crypto.randomBytes(4096));
    await expect(decodeAudio(corrupt)).rejects.toThrow(/^cannot decode corrupt\.mp3: /);
    const text = path.join(dir, 'notes.mp3');
    fs.writeFileSync(text, 'these are my notes, not audio\n'.repeat(20));
    await expect(decodeAudio(text)).rejects.toThrow(/^cannot decode notes\.mp3: .+ \(not an audio or video file\?\)$/);
    const empty = path.join(dir, 'empty.wav');
    fs.writeFileSync(empty, '');
    await expect(decodeAudio(empty)).rejects.toThrow(`audio file is empty: ${empty}`);
  });
});

describe('engines', () => {
  it('pocketsphinx: real text from jfk.wav, with timed segments', async () => {
    const t = await transcribeFile(JFK, 'sphinx-en-us');
    expect(t.engine).toBe('sphinx');
    expect(t.text.split(' ').length).toBeGreaterThan(10);
    expect(t.text).toContain('country');
    expect(t.segments.length).toBeGreaterThan(1);
    for (let i = 1; i < t.segments.length; i++) expect(t.segments[i].start).toBeGreaterThanOrEqual(t.segments[i - 1].end);
    expect(t.audioSeconds).toBeCloseTo(11, 0);
    expect(t.rtf).toBeCloseTo(t.wallSeconds / t.audioSeconds, 6);
    expect(t.note).toBeUndefined();
  }, 60_000);

  it('pocketsphinx: speech made by espeak-ng', async () => {
    const wav = path.join(dir, 'fox.wav');
    execFileSync('espeak-ng', ['-w', wav, 'the quick brown fox jumps over the lazy dog']);
    const t = await transcribeFile(wav, 'sphinx-en-us');
    expect(t.text.length).toBeGreaterThan(0);
  }, 60_000);

  it('whisper.cpp loads the test model and runs the pipeline; its empty text is labelled', async () => {
    const engine = getTranscriber('for-tests-tiny.en');
    const audio = await decodeAudio(JFK);
    const one = await engine.transcribe(audio, { threads: 1 });
    expect(one).toMatchObject({ engine: 'whisper', model: 'for-tests-tiny.en', text: '', language: 'en' });
    expect(one.note).toBe('whisper.cpp test model (no weights): the empty text is not a transcript');
    const two = await engine.transcribe(audio, { threads: 2 });
    expect(two.wallSeconds).toBeGreaterThan(0);
    await expect(engine.transcribe(audio, { language: 'de' })).rejects.toThrow("for-tests-tiny.en is English-only; use a multilingual model for 'de'");
  }, 60_000);

  it('a model that is not downloaded says how to get it; auto falls back to sphinx', () => {
    expect(() => getTranscriber('base')).toThrow(`Whisper model base is not downloaded (looked in ${process.env.FLOWBOOK_MODELS}): run \`npx flowbook models pull base\``);
    expect(chooseAutoModel().model).toBe('sphinx-en-us');
    expect(chooseAutoModel().reason).toContain('npx flowbook models pull tiny.en');
  });
});

/** `n` copies of jfk.wav one after the other: long enough for progress to show. */
async function jfkTimes(n: number): Promise<Audio> {
  const a = await decodeAudio(JFK);
  const samples = new Float32Array(a.samples.length * n);
  for (let i = 0; i < n; i++) samples.set(a.samples, i * a.samples.length);
  return { ...a, samples, seconds: a.seconds * n };
}

describe('progress of a transcription', () => {
  it('pocketsphinx reports how far into the audio it is, from the word times it prints', async () => {
    const audio = await jfkTimes(3);
    const seen: TranscribeProgress[] = [];
    const t = await getTranscriber('sphinx-en-us').transcribe(audio, { onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toMatchObject({ audioSeconds: audio.seconds, totalSeconds: audio.seconds });
    expect(seen.at(-1)!.elapsedSeconds).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i].audioSeconds).toBeGreaterThanOrEqual(seen[i - 1].audioSeconds);
      expect(seen[i].elapsedSeconds).toBeGreaterThanOrEqual(seen[i - 1].elapsedSeconds);
    }
    // the positions in between are utterance ends pocketsphinx printed
    const ends = new Set(t.segments.map((s) => s.end));
    for (const p of seen.slice(0, -1)) if (p.audioSeconds > 0) expect([...ends].some((e) => e >= p.audioSeconds - 1e-9)).toBe(true);
  }, 60_000);

  it('whisper.cpp gets long audio in ~30 s chunks cut in a pause, and reports each', async () => {
    const audio = await jfkTimes(7); // 77 s
    const bounds = chunkBounds(audio.samples);
    expect(bounds.at(-1)).toBe(audio.samples.length);
    let from = 0;
    for (const b of bounds) {
      expect(b - from).toBeLessThanOrEqual(30 * 16000);
      from = b;
    }
    // each cut falls in the quiet between two of JFK's utterances, not inside one
    const sphinx = await getTranscriber('sphinx-en-us').transcribe(await decodeAudio(JFK));
    const copy = 11 * 16000; // jfk.wav is 11.0 s
    for (const b of bounds.slice(0, -1)) {
      const at = ((b % audio.samples.length) % copy) / 16000;
      expect(sphinx.segments.some((s) => at > s.start + 0.05 && at < s.end - 0.05)).toBe(false);
    }
    const seen: number[] = [];
    const t = await getTranscriber('for-tests-tiny.en').transcribe(audio, { threads: 2, onProgress: (p) => seen.push(p.audioSeconds) });
    expect(t.audioSeconds).toBeCloseTo(77, 0);
    const reported = [...new Set(seen)].filter((x) => x > 0);
    expect(reported).toEqual(bounds.map((b) => expect.closeTo(Math.min(b / 16000, audio.seconds), 3)));
  }, 120_000);

  it('progress lines: every few seconds, percent of the audio and time elapsed', () => {
    const lines: string[] = [];
    const report = transcriptionProgressLines('jfk', { everySeconds: 0, print: (l) => lines.push(l) });
    report({ audioSeconds: 4.62, totalSeconds: 11, elapsedSeconds: 3.14 });
    expect(lines).toEqual(['transcribe jfk: 42% (4.6 of 11.0 s of audio, 3.1 s elapsed)']);
    const quiet: string[] = [];
    const slow = transcriptionProgressLines('jfk', { everySeconds: 3600, print: (l) => quiet.push(l) });
    slow({ audioSeconds: 1, totalSeconds: 11, elapsedSeconds: 1 });
    expect(quiet).toEqual([]); // a short transcription prints no progress, only its result

    const dl: string[] = [];
    const download = downloadProgressLines('tiny.en', { everySeconds: 3600, print: (l) => dl.push(l) });
    const total = 100 * 2 ** 20;
    for (let got = 0; got <= total; got += 2 ** 20) download({ received: got, total });
    expect(dl.map((l) => l.replace(/, [\d.]+ MiB\/s\)$/, ')'))).toEqual(
      [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((pct) => `tiny.en: ${pct}% (${pct.toFixed(1)} of 100.0 MiB)`),
    );
  });

  it('what a transcription holds locally: pocketsphinx one core; whisper.cpp the cores it is given, memory from its model', () => {
    expect(localFootprint('sphinx-en-us')).toEqual({ cpu: 1, memory: 512 });
    expect(localFootprint('auto')).toEqual({ cpu: 1, memory: 512 }); // no verified weights here: auto is pocketsphinx
    const tiny = localFootprint('for-tests-tiny.en');
    expect(tiny.cpu).toBeUndefined();
    expect(tiny.memory).toBeGreaterThan(300);
    expect(localFootprint('base')).toEqual({}); // not downloaded: the start step says so
    expect(localFootprint('huge')).toEqual({});
    expect(getTranscriber('sphinx-en-us').maxThreads).toBe(1);
  });
});
