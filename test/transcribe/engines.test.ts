// Real engines on real audio: pocketsphinx gives real text; whisper.cpp loads its test model and
// runs the pipeline (empty text, labelled as such); ffmpeg decodes every format or says why not.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAudio, getTranscriber, closeTranscribers, transcribeFile, chooseAutoModel } from '../../src/transcribe/index.js';

import { JFK, SHARED_MODELS } from '../shared-data.js';
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
