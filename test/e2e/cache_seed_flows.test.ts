// The seed flows with @cache on transcribe: adding a model to a finished comparison transcribes
// only with the new model; editing postprocess re-runs postprocess (and the steps without @cache)
// but no transcription; a changed audio file is transcribed again.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flowbookAsyncResult as flowbook, tempDir, REPO } from './helpers.js';
import { SHARED_DATA as SHARED } from '../shared-data.js';

const transcribed = (out: string) => (out.match(/\/transcribe\/\d+\] \S+ × \S+: [\d.]+ s, rtf/g) ?? []).length;
const cached = (err: string) => (err.match(/\/transcribe\/\d+: cached ← /g) ?? []).length;

function clipsAndModels() {
  const clips = tempDir('flowbook-cache-clips-');
  const models = tempDir('flowbook-cache-models-');
  fs.copyFileSync(path.join(SHARED, 'audio/jfk.wav'), path.join(clips, 'jfk.wav'));
  fs.copyFileSync(path.join(SHARED, 'audio/jfk.txt'), path.join(clips, 'jfk.txt'));
  execFileSync('espeak-ng', ['-w', path.join(clips, 'hello.wav'), 'hello world this is a test']);
  for (const m of ['tiny.en', 'base.en']) fs.copyFileSync(path.join(SHARED, `models/for-tests-ggml-${m}.bin`), path.join(models, `for-tests-ggml-${m}.bin`));
  return { clips, models };
}

describe('@cache in the seed flows', () => {
  it('ModelSizeComparison: adding a model to a finished comparison transcribes only with the new model', async () => {
    const root = tempDir();
    const { clips, models } = clipsAndModels();
    const env = { FLOWBOOK_MODELS: models };
    const flow = path.join(REPO, 'flows/model_size_comparison.ts');
    const first = await flowbook(['run', flow, '--urls', clips, '--models', 'for-tests-tiny.en,sphinx-en-us'], { root, env, timeoutMs: 400_000 });
    expect(first.code, first.stderr).toBe(0);
    expect([transcribed(first.stdout), cached(first.stderr)]).toEqual([4, 0]);
    const more = await flowbook(['run', flow, '--urls', clips, '--models', 'for-tests-tiny.en,for-tests-base.en,sphinx-en-us'], { root, env, timeoutMs: 400_000 });
    expect(more.code, more.stderr).toBe(0);
    expect([transcribed(more.stdout), cached(more.stderr)]).toEqual([2, 4]);
    expect(more.stdout.match(/× (\S+):/g)!.map((m) => m.slice(2, -1))).toEqual(['for-tests-base.en', 'for-tests-base.en']);
    // the comparison covers all three models, the reused rows with them
    expect(more.stdout).toMatch(/jfk\tsphinx-en-us\t\d/);
    expect(more.stdout).toMatch(/jfk\tfor-tests-base\.en\t/);

    // a new file under the same name is another source: transcribed again, with every model
    execFileSync('espeak-ng', ['-w', path.join(clips, 'hello.wav'), 'a different sentence now']);
    const changed = await flowbook(['run', flow, '--urls', clips, '--models', 'for-tests-tiny.en,for-tests-base.en,sphinx-en-us'], { root, env, timeoutMs: 400_000 });
    expect(changed.code, changed.stderr).toBe(0);
    expect([transcribed(changed.stdout), cached(changed.stderr)]).toEqual([3, 3]);
    expect(changed.stdout.match(/\] (\S+) × /g)!.every((m) => m.includes('hello'))).toBe(true);
  });

  it('YouTubeVideoTranscription: editing postprocess re-runs postprocess and end, not a transcription', async () => {
    const root = tempDir();
    const { clips } = clipsAndModels();
    // a project of its own, so the test can edit a copy of the flow
    const dir = tempDir('flowbook-cache-seed-');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'seed-copy', type: 'module' }));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(REPO, path.join(dir, 'node_modules/flowbook'));
    // the flow's own import (postprocess makes a DataFrame); its dependencies resolve from its real path
    fs.symlinkSync(path.join(REPO, 'node_modules/danfojs-node'), path.join(dir, 'node_modules/danfojs-node'));
    const flow = path.join(dir, 'youtube_transcription.ts');
    fs.copyFileSync(path.join(REPO, 'flows/youtube_transcription.ts'), flow);
    const run = () => flowbook(['run', flow, '--urls', clips, '--model', 'sphinx-en-us'], { root, timeoutMs: 400_000 });
    const ranTranscribe = (r: { stdout: string }) => (r.stdout.match(/\/transcribe\/\d+\] \S+: [\d.]+ s of audio/g) ?? []).length;
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(ranTranscribe(first)).toBe(2);
    const src = fs.readFileSync(flow, 'utf8');
    fs.writeFileSync(flow, src.replace("'## Each transcript'", "'## Each transcript, edited'"));
    const edited = await run();
    expect(edited.code, edited.stderr).toBe(0);
    expect([ranTranscribe(edited), cached(edited.stderr)]).toEqual([0, 2]);
    expect(edited.stderr).toMatch(/\(tasks: 3 ran, 2 cached\)/);
  });
});
