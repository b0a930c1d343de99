// The seed flow end to end through the CLI: real pocketsphinx text with WER against references
// (and none without one: null, NaN in the results frame),
// the whisper.cpp pipeline on its test model (empty text, labelled), one bad file caught without
// sinking the others, and clear errors for bad models and inputs.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, tempDir, errorLine, REPO } from './helpers.js';
import { Flow, Run, namespace, setDatastoreRoot } from '../../src/client/index.js';
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
  // a clip with no noref.txt beside it, as every YouTube video: it has no WER
  execFileSync('espeak-ng', ['-w', path.join(clips, 'noref.wav'), 'a clip that has no reference transcript']);
  fs.writeFileSync(path.join(clips, 'broken.mp3'), crypto.randomBytes(2048));
  fs.copyFileSync(path.join(SHARED, 'models/for-tests-ggml-tiny.en.bin'), path.join(models, 'for-tests-ggml-tiny.en.bin'));
});

let sphinxRun = '';

describe('YouTubeVideoTranscription', () => {
  it('pocketsphinx over a folder: real text and WER; a broken file is caught and reported', async () => {
    const r = flowbook(['run', FLOW, '--urls', clips, '--model', 'sphinx-en-us', '--quiet'], { root, env });
    expect(r.code, r.stderr).toBe(0);
    const run = (await Flow('YouTubeVideoTranscription').latestSuccessfulRun)!;
    const df = await run.data.results;
    expect(df.columns).toEqual(expect.arrayContaining(['title', 'url', 'engine', 'model', 'audioSeconds', 'wallSeconds', 'rtf', 'words', 'wer', 'text']));
    expect(df.column('title').values).toEqual(['broken', 'fox', 'jfk', 'noref']);
    sphinxRun = run.id;
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

  it('a clip without a reference has no WER, a failed one no measurements: null in rows, NaN in the numeric results frame, never -1 or 0', async () => {
    expect(sphinxRun).not.toBe('');
    const run = Run(`YouTubeVideoTranscription/${sphinxRun}`);
    const rows = (await run.data.rows) as any[];
    const by = (t: string) => rows.find((x) => x.title === t);
    // real text, no reference: no WER of any kind
    expect(by('noref').words).toBeGreaterThan(2);
    expect(by('noref')).toMatchObject({ wer: null, rawWer: null, error: '' });
    // a file that could not be decoded measured nothing: no audio length, time, rtf or word count
    expect(by('broken')).toMatchObject({ audioSeconds: null, wallSeconds: null, rtf: null, words: null, wer: null, rawWer: null });
    const df = await run.data.results;
    const dtype = (c: string) => df.dtypes[df.columns.indexOf(c)];
    for (const c of ['audioSeconds', 'wallSeconds', 'rtf', 'words', 'wer', 'rawWer']) expect([c, dtype(c)]).toEqual([c, expect.stringMatching(/^(float32|int32)$/)]);
    const col = (c: string) => df.column(c).values as number[];
    const at = (t: string) => (df.column('title').values as string[]).indexOf(t);
    expect(col('wer')[at('noref')]).toBeNaN();
    expect(col('rawWer')[at('noref')]).toBeNaN();
    expect(col('wer')[at('broken')]).toBeNaN();
    expect(col('audioSeconds')[at('broken')]).toBeNaN();
    expect(col('words')[at('broken')]).toBeNaN();
    expect(col('wer')[at('jfk')]).toBeCloseTo(by('jfk').wer, 10);
    expect(col('rawWer')[at('jfk')]).toBeCloseTo(by('jfk').rawWer, 10);
    // a missing value is skipped by the frame's own statistics: the mean is over the clips with references
    expect(df.column('wer').mean()).toBeCloseTo((by('jfk').wer + by('fox').wer) / 2, 10);
  }, 60_000);

  it('whisper.cpp on its test model: the pipeline runs, the empty text is labelled', async () => {
    const r = flowbook(['run', FLOW, '--url', path.join(clips, 'jfk.wav'), '--model', 'for-tests-tiny.en', '--quiet'], { root, env });
    expect(r.code, r.stderr).toBe(0);
    const run = (await Flow('YouTubeVideoTranscription').latestSuccessfulRun)!;
    const [row] = (await run.data.rows) as any[];
    expect(row).toMatchObject({ engine: 'whisper', model: 'for-tests-tiny.en', text: '', words: 0, note: 'whisper.cpp test model (no weights): the empty text is not a transcript' });
    // jfk.txt is beside the clip, but an empty text that is not a transcript has no error rate (not 100%)
    expect(row).toMatchObject({ wer: null, rawWer: null });
    const task = (await run.step('transcribe').tasks())[0];
    expect((await task.data.transcript).audioSeconds).toBeCloseTo(11, 0);
  }, 120_000);

  it('bad models and inputs fail before any transcription, in one line', () => {
    const unknown = flowbook(['run', FLOW, '--url', clips, '--model', 'huge'], { root, env });
    expect(unknown.code).toBe(1);
    expect(errorLine(unknown)).toMatch(/^error: run YouTubeVideoTranscription\/\d+ failed at .*\/start\/1: unknown model "huge"/);
    // `large` is the newest large model, named as such
    const large = flowbook(['run', FLOW, '--url', clips, '--model', 'large'], { root, env });
    expect(errorLine(large)).toContain(`Whisper model large-v3 is not downloaded (looked in ${models}): run \`npx flowbook models pull large-v3\``);
    const missing = flowbook(['run', FLOW, '--url', clips, '--model', 'base.en'], { root, env });
    expect(errorLine(missing)).toContain(`Whisper model base.en is not downloaded (looked in ${models}): run \`npx flowbook models pull base.en\``);
    const empty = path.join(clips, 'empty-list.txt');
    fs.writeFileSync(empty, '# nothing\n');
    const none = flowbook(['run', FLOW, '--urls', empty, '--model', 'sphinx-en-us'], { root, env });
    expect(errorLine(none)).toContain(`the URL list ${empty} is empty`);
  }, 120_000);
});
