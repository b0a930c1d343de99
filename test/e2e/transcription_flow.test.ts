// The seed flow end to end through the CLI: real pocketsphinx text with WER against references,
// the whisper.cpp pipeline on its test model (empty text, labelled), one bad file caught without
// sinking the others, and clear errors for bad models and inputs.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, tempDir, errorLine, REPO } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';
import { SHARED_DATA as SHARED } from '../shared-data.js';

const FLOW = path.join(REPO, 'flows/youtube_transcription.ts');
const root = tempDir();
const clips = tempDir('flowbook-clips-');
const models = tempDir('flowbook-models-');
const env = { FLOWBOOK_MODELS: models };

beforeAll(() => {
  setDatastoreRoot(root);
  namespace(null);
  fs.copyFileSync(path.join(SHARED, 'audio/jfk.wav'), path.join(clips, 'jfk.wav'));
  fs.copyFileSync(path.join(SHARED, 'audio/jfk.txt'), path.join(clips, 'jfk.txt'));
  execFileSync('espeak-ng', ['-w', path.join(clips, 'fox.wav'), 'the quick brown fox jumps over the lazy dog']);
  fs.writeFileSync(path.join(clips, 'fox.txt'), 'the quick brown fox jumps over the lazy dog');
  fs.writeFileSync(path.join(clips, 'broken.mp3'), crypto.randomBytes(2048));
  fs.copyFileSync(path.join(SHARED, 'models/for-tests-ggml-tiny.en.bin'), path.join(models, 'for-tests-ggml-tiny.en.bin'));
});

describe('YouTubeVideoTranscription', () => {
  it('pocketsphinx over a folder: real text and WER; a broken file is caught and reported', async () => {
    const r = flowbook(['run', FLOW, '--urls', clips, '--model', 'sphinx-en-us', '--quiet'], { root, env });
    expect(r.code, r.stderr).toBe(0);
    const run = (await Flow('YouTubeVideoTranscription').latestSuccessfulRun)!;
    const df = await run.data.results;
    expect(df.columns).toEqual(expect.arrayContaining(['title', 'url', 'engine', 'model', 'audioSeconds', 'wallSeconds', 'rtf', 'words', 'wer', 'text']));
    expect(df.column('title').values).toEqual(['broken', 'fox', 'jfk']);
    const rows = (await run.data.rows) as any[];
    const broken = rows.find((x) => x.title === 'broken');
    expect(broken.error).toMatch(/^cannot decode broken\.mp3: /);
    const jfk = rows.find((x) => x.title === 'jfk');
    expect(jfk.engine).toBe('sphinx');
    expect(jfk.words).toBeGreaterThan(10);
    expect(jfk.wer).toBeGreaterThan(0);
    expect(jfk.wer).toBeLessThan(1);
    expect(((await run.data.embedding) as any[]).length).toBeGreaterThan(5);

    // the postprocess card: word cloud, embedding, transcripts; `card view` finds it by step
    const view = flowbook(['card', 'view', 'YouTubeVideoTranscription/latest/postprocess'], { root, env: { ...env, DISPLAY: '' } });
    expect(view.code, view.stderr).toBe(0);
    const html = fs.readFileSync(view.stdout.trim(), 'utf8');
    expect(view.stdout.trim()).toMatch(new RegExp(`/YouTubeVideoTranscription/runs/${run.id}/postprocess/\\d+/cards/analysis\\.html$`));
    expect(html).toContain('<figure class="wordcloud">');
    expect(html).toMatch(/<text class="word"[^>]*><title>[a-z]+: \d+<\/title>/);
    expect(html).toContain('Word embedding (word2vec, PCA to 2-D)');
    expect(html).toContain(jfk.text.split(' ').slice(0, 4).join(' '));
    const end = flowbook(['card', 'list', `YouTubeVideoTranscription/${run.id}/end`], { root, env });
    expect(end.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[1])).toEqual(['resources', 'timeline']);
  }, 120_000);

  it('whisper.cpp on its test model: the pipeline runs, the empty text is labelled', async () => {
    const r = flowbook(['run', FLOW, '--url', path.join(clips, 'jfk.wav'), '--model', 'for-tests-tiny.en', '--quiet'], { root, env });
    expect(r.code, r.stderr).toBe(0);
    const run = (await Flow('YouTubeVideoTranscription').latestSuccessfulRun)!;
    const [row] = (await run.data.rows) as any[];
    expect(row).toMatchObject({ engine: 'whisper', model: 'for-tests-tiny.en', text: '', words: 0, note: 'whisper.cpp test model (no weights): the empty text is not a transcript' });
    const task = (await run.step('transcribe').tasks())[0];
    expect((await task.data.transcript).audioSeconds).toBeCloseTo(11, 0);
  }, 120_000);

  it('bad models and inputs fail before any transcription, in one line', () => {
    const unknown = flowbook(['run', FLOW, '--url', clips, '--model', 'huge'], { root, env });
    expect(unknown.code).toBe(1);
    expect(errorLine(unknown)).toMatch(/^error: run YouTubeVideoTranscription\/\d+ failed at .*\/start\/1: unknown model "huge"/);
    const missing = flowbook(['run', FLOW, '--url', clips, '--model', 'base.en'], { root, env });
    expect(errorLine(missing)).toContain(`Whisper model base.en is not downloaded (looked in ${models}): run \`npx flowbook models pull base.en\``);
    const empty = path.join(clips, 'empty-list.txt');
    fs.writeFileSync(empty, '# nothing\n');
    const none = flowbook(['run', FLOW, '--urls', empty, '--model', 'sphinx-en-us'], { root, env });
    expect(errorLine(none)).toContain(`the URL list ${empty} is empty`);
  }, 120_000);
});
