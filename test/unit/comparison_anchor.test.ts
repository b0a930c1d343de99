// The comparison flow's yardstick without a reference: the largest model that produced text,
// never an empty (weightless test model) one; with a reference, WER for every model with text.
import { describe, it, expect } from 'vitest';
import { compareModels, modelRank } from '../../src/transcribe/compare.js';
import type { Transcript, TranscriptionTask } from '../../src/transcribe/index.js';

const video: TranscriptionTask = { id: 'talk', title: 'talk', url: '/clips/talk.wav', kind: 'file' };
const said = (model: string, text: string, note?: string) => ({
  model,
  cpus: 1,
  transcript: { text, segments: [], language: 'en', audioSeconds: 4, wallSeconds: 1, rtf: 0.25, engine: model.startsWith('sphinx') ? 'sphinx' : 'whisper', model, ...(note ? { note } : {}) } as Transcript,
});

describe('compareModels', () => {
  const models = [said('sphinx-en-us', 'the quick brown fax jumps'), said('tiny.en', 'the quick brown fox jumps'), said('for-tests-large', '', 'whisper.cpp test model (no weights): the empty text is not a transcript')];

  it('without a reference, compares with the largest model that produced text, not a larger empty one', () => {
    expect(modelRank('for-tests-large')).toBeLessThan(modelRank('tiny.en'));
    // even were the empty model ranked largest, it is no yardstick
    const { rows, diff } = compareModels(video, null, [...models, said('large-v3', '', undefined)]);
    const by = (m: string) => rows.find((r) => r.model === m)!;
    expect(by('sphinx-en-us')).toMatchObject({ wer: null, rawWer: null, disagreement: 0.2, comparedWith: 'tiny.en' });
    expect(by('tiny.en')).toMatchObject({ wer: null, disagreement: null, comparedWith: null });
    expect(by('large-v3')).toMatchObject({ words: 0, disagreement: null, comparedWith: null });
    expect(by('for-tests-large')).toMatchObject({ words: 0, disagreement: null, comparedWith: null });
    expect(diff).toMatchObject({ small: 'sphinx-en-us', large: 'tiny.en' });
  });

  it('with a reference, every model with a transcript gets a WER and none a disagreement; a test model none', () => {
    const { rows } = compareModels(video, 'the quick brown fox jumps', models);
    expect(rows.map((r) => [r.model, r.wer, r.disagreement])).toEqual([
      ['sphinx-en-us', 0.2, null],
      ['tiny.en', 0, null],
      ['for-tests-large', null, null],
    ]);
  });
});
