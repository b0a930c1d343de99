// ModelSizeComparison end to end: videos × models, WER against references where they exist,
// disagreement — never called WER — with the largest model that produced text where they do not,
// rows without text listed and never plotted, and the word diff.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, flowbookAsyncResult, tempDir, errorLine, REPO } from './helpers.js';
import { Flow, namespace, setDatastoreRoot, type Run } from '../../src/client/index.js';
import { SHARED_DATA as SHARED } from '../shared-data.js';

const FLOW = path.join(REPO, 'flows/model_size_comparison.ts');

async function comparisonCard(root: string, run: Run, step: string): Promise<string> {
  const task = await (await run.step(step)).task;
  return fs.readFileSync(path.join(root, 'ModelSizeComparison/runs', run.id, step, task!.id, 'cards/comparison.html'), 'utf8');
}

describe('ModelSizeComparison', () => {
  it('compares two engines over clips with and without a reference; a model with no text is no yardstick', async () => {
    const root = tempDir();
    const clips = tempDir('flowbook-clips-');
    const models = tempDir('flowbook-models-');
    fs.copyFileSync(path.join(SHARED, 'audio/jfk.wav'), path.join(clips, 'jfk.wav'));
    fs.copyFileSync(path.join(SHARED, 'audio/jfk.txt'), path.join(clips, 'jfk.txt'));
    execFileSync('espeak-ng', ['-w', path.join(clips, 'noref.wav'), 'speech without a reference transcript']);
    // the weightless test model ranks above pocketsphinx (as a Whisper model would) but produces no text
    fs.copyFileSync(path.join(SHARED, 'models/for-tests-ggml-tiny.en.bin'), path.join(models, 'for-tests-ggml-tiny.en.bin'));
    const env = { FLOWBOOK_MODELS: models };
    // 11 tasks: on a busy 2-core machine this can take longer than flowbook()'s 120 s limit
    const r = await flowbookAsyncResult(['run', FLOW, '--urls', clips, '--models', 'for-tests-tiny.en,sphinx-en-us', '--quiet'], { root, env, timeoutMs: 400_000 });
    expect(r.code, r.stderr).toBe(0);
    setDatastoreRoot(root);
    namespace(null);
    const run = (await Flow('ModelSizeComparison').latestSuccessfulRun)!;
    const table = (await run.data.table) as any[];
    expect(table.map((x) => `${x.title}/${x.model}`)).toEqual(['jfk/for-tests-tiny.en', 'jfk/sphinx-en-us', 'noref/for-tests-tiny.en', 'noref/sphinx-en-us']);
    const row = (title: string, model: string) => table.find((x) => x.title === title && x.model === model);
    const jfkSphinx = row('jfk', 'sphinx-en-us');
    expect(jfkSphinx.wer).toBeGreaterThan(0);
    expect(jfkSphinx.wer).toBeLessThan(1);
    expect(jfkSphinx).toMatchObject({ disagreement: null, comparedWith: null });
    // normalized WER is never worse than the raw one (writing differences are not errors)
    expect(jfkSphinx.rawWer).toBeGreaterThanOrEqual(jfkSphinx.wer);
    // the test model's empty text is not a transcript: no WER even where there is a reference
    expect(row('jfk', 'for-tests-tiny.en')).toMatchObject({ words: 0, wer: null, rawWer: null, disagreement: null });
    expect(row('jfk', 'for-tests-tiny.en').note).toContain('test model');
    // no reference, and the only other model produced no text: pocketsphinx is measured against nothing
    expect(row('noref', 'sphinx-en-us').words).toBeGreaterThan(2);
    expect(row('noref', 'sphinx-en-us')).toMatchObject({ wer: null, rawWer: null, disagreement: null, comparedWith: null });
    expect(row('noref', 'for-tests-tiny.en')).toMatchObject({ wer: null, disagreement: null, comparedWith: null });

    // the card: a per-model summary first; the weightless model is listed as "no text", never plotted
    const card = await comparisonCard(root, run, 'postjoin');
    expect(card.indexOf('<h3>Per model</h3>')).toBeLessThan(card.indexOf('<h3>Per video</h3>'));
    expect(card).toMatch(/<td>for-tests-tiny\.en<\/td><td class="num">2<\/td><td>— \(no text\)<\/td>/);
    // pocketsphinx's mean WER is its one clip with a reference, nothing made up from an empty text
    expect(card).toContain(`<td>sphinx-en-us</td><td class="num">2</td><td>${(jfkSphinx.wer * 100).toFixed(1)}% (n=1)</td>`);
    expect(card).not.toContain('100.0%');
    expect(card).toContain('Not plotted: for-tests-tiny.en on jfk (no text); for-tests-tiny.en on noref (no text); sphinx-en-us on noref (nothing to compare with).');

    // the word diff puts the model with text first: the test model's empty text is all missing words
    const diffs = (await run.data.diffs) as any[];
    expect(diffs).toHaveLength(2);
    expect(diffs[0]).toMatchObject({ small: 'for-tests-tiny.en', large: 'sphinx-en-us' });
    expect(diffs[0].ops.length).toBeGreaterThan(0);
    expect(diffs[0].ops.every((o: any) => o.op === 'delete')).toBe(true);
    expect(await run.step('transcribe').tasks()).toHaveLength(4);
  }, 450_000);

  it('--url alone transcribes what it names (not samples/ too); large means large-v3', async () => {
    const root = tempDir();
    const project = tempDir('flowbook-project-');
    const clip = path.join(tempDir('flowbook-clips-'), 'hello.wav');
    execFileSync('espeak-ng', ['-w', clip, 'hello from one clip']);
    fs.mkdirSync(path.join(project, 'samples'));
    execFileSync('espeak-ng', ['-w', path.join(project, 'samples/sample.wav'), 'a sample clip']);
    const r = flowbook(['run', FLOW, '--url', clip, '--models', 'sphinx-en-us', '--quiet'], { root, cwd: project });
    expect(r.code, r.stderr).toBe(0);
    setDatastoreRoot(root);
    namespace(null);
    const run = (await Flow('ModelSizeComparison').latestSuccessfulRun)!;
    expect(((await run.data.tasks) as any[]).map((t) => t.title)).toEqual(['hello']);
    // one model, no reference: no WER and nothing to disagree with
    expect(((await run.data.table) as any[]).map((x) => [x.model, x.wer, x.disagreement])).toEqual([['sphinx-en-us', null, null]]);
    const card = await comparisonCard(root, run, 'postjoin');
    expect(card).toContain('<td>sphinx-en-us</td><td class="num">1</td><td>— (no reference)</td>');

    const models = tempDir('flowbook-models-');
    const large = flowbook(['run', FLOW, '--url', clip, '--models', 'sphinx-en-us,large'], { root, env: { FLOWBOOK_MODELS: models } });
    expect(large.code).toBe(1);
    expect(errorLine(large)).toContain(`Whisper model large-v3 is not downloaded (looked in ${models}): run \`npx flowbook models pull large-v3\``);
    // the default models are valid names: only the download is missing
    const defaults = flowbook(['run', FLOW, '--url', clip], { root, env: { FLOWBOOK_MODELS: models } });
    expect(errorLine(defaults)).toContain('Whisper model tiny is not downloaded');
  }, 240_000);
});
