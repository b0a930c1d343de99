// ModelSizeComparison end to end: videos × models, WER against references where they exist,
// disagreement with the largest model where they do not, and the word diff.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, tempDir, errorLine, REPO } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';
import { SHARED_DATA as SHARED } from '../shared-data.js';

const FLOW = path.join(REPO, 'flows/model_size_comparison.ts');

describe('ModelSizeComparison', () => {
  it('compares two engines over two clips', async () => {
    const root = tempDir();
    const clips = tempDir('flowbook-clips-');
    const models = tempDir('flowbook-models-');
    fs.copyFileSync(path.join(SHARED, 'audio/jfk.wav'), path.join(clips, 'jfk.wav'));
    fs.copyFileSync(path.join(SHARED, 'audio/jfk.txt'), path.join(clips, 'jfk.txt'));
    execFileSync('espeak-ng', ['-w', path.join(clips, 'noref.wav'), 'speech without a reference transcript']);
    fs.copyFileSync(path.join(SHARED, 'models/for-tests-ggml-tiny.en.bin'), path.join(models, 'for-tests-ggml-tiny.en.bin'));
    const env = { FLOWBOOK_MODELS: models };
    const r = flowbook(['run', FLOW, '--urls', clips, '--models', 'for-tests-tiny.en,sphinx-en-us', '--quiet'], { root, env });
    expect(r.code, r.stderr).toBe(0);
    setDatastoreRoot(root);
    namespace(null);
    const run = (await Flow('ModelSizeComparison').latestSuccessfulRun)!;
    const table = (await run.data.table) as any[];
    expect(table.map((x) => `${x.title}/${x.model}`)).toEqual(['jfk/for-tests-tiny.en', 'jfk/sphinx-en-us', 'noref/for-tests-tiny.en', 'noref/sphinx-en-us']);
    const jfkSphinx = table.find((x) => x.title === 'jfk' && x.model === 'sphinx-en-us');
    expect(jfkSphinx.wer).toBeGreaterThan(0);
    expect(jfkSphinx.wer).toBeLessThan(1);
    expect(jfkSphinx.disagreement).toBeNull();
    // normalized WER is never worse than the raw one (writing differences are not errors)
    expect(jfkSphinx.rawWer).toBeGreaterThanOrEqual(jfkSphinx.wer);
    // the card: a per-model summary first; the weightless model is listed as "no text", not plotted
    const postjoin = await (await run.step('postjoin')).task;
    const card = fs.readFileSync(path.join(root, 'ModelSizeComparison/runs', run.id, 'postjoin', postjoin!.id, 'cards/comparison.html'), 'utf8');
    expect(card.indexOf('<h3>Per model</h3>')).toBeLessThan(card.indexOf('<h3>Per video</h3>'));
    expect(card).toContain('<td>— (no text)</td>');
    expect(card).toContain('Not plotted: for-tests-tiny.en on jfk (no text); for-tests-tiny.en on noref (no text)');
    // for-tests ranks above sphinx, so sphinx is compared with it where there is no reference
    const norefSphinx = table.find((x) => x.title === 'noref' && x.model === 'sphinx-en-us');
    expect(norefSphinx.wer).toBeNull();
    expect(norefSphinx.disagreement).toBe(1);
    expect(table.find((x) => x.model === 'for-tests-tiny.en').note).toContain('test model');
    const diffs = (await run.data.diffs) as any[];
    expect(diffs).toHaveLength(2);
    expect(diffs[0]).toMatchObject({ small: 'sphinx-en-us', large: 'for-tests-tiny.en' });
    expect(diffs[0].ops.every((o: any) => o.op === 'insert')).toBe(true);
    expect(await run.step('transcribe').tasks()).toHaveLength(4);

    const bad = flowbook(['run', FLOW, '--urls', clips, '--models', 'tiny,large'], { root, env });
    expect(bad.code).toBe(1);
    expect(errorLine(bad)).toContain('Whisper model tiny is not downloaded');
  }, 180_000);
});
