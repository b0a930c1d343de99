// Text tools: tokens, stopwords, WER with its counts and alignment, word2vec, PCA.
import { describe, it, expect } from 'vitest';
import { normalize, tokenize, wordFrequencies, wordErrorRate, alignWords, trainWord2Vec, cosine, pca2d } from '../../src/text/index.js';

describe('tokens and frequencies', () => {
  it('normalizes case and punctuation, keeps apostrophes inside words', () => {
    expect(normalize("And so, my fellow Americans: ask NOT — 'what' you can't do!")).toBe("and so my fellow americans ask not what you can't do");
    expect(tokenize('  ')).toEqual([]);
  });

  it('counts words without stopwords, most frequent first', () => {
    const f = wordFrequencies(['Ask not what your country can do for you', 'ask what you can do for your country, uh, country'], { minCount: 2 });
    expect(f).toEqual([
      { word: 'country', count: 3 },
      { word: 'ask', count: 2 },
    ]);
  });
});

describe('WER', () => {
  it('counts substitutions, deletions and insertions', () => {
    expect(wordErrorRate('the cat sat on the mat', 'the cat sit on mat')).toMatchObject({ substitutions: 1, deletions: 1, insertions: 0, hits: 4, referenceWords: 6 });
    expect(wordErrorRate('the cat sat on the mat', 'the cat sit on mat').wer).toBeCloseTo(2 / 6);
    expect(wordErrorRate('a b', 'a x b')).toMatchObject({ insertions: 1, wer: 0.5 });
    expect(wordErrorRate('Hello, World!', 'hello world').wer).toBe(0);
    expect(wordErrorRate('', '').wer).toBe(0);
    expect(wordErrorRate('', 'noise').wer).toBe(1);
    expect(wordErrorRate('some words', '')).toMatchObject({ deletions: 2, wer: 1 });
  });

  it('aligns words for a side-by-side diff', () => {
    expect(alignWords('ask not what your country', 'ask what my country can')).toEqual([
      { op: 'equal', ref: 'ask', hyp: 'ask' },
      { op: 'delete', ref: 'not' },
      { op: 'equal', ref: 'what', hyp: 'what' },
      { op: 'substitute', ref: 'your', hyp: 'my' },
      { op: 'equal', ref: 'country', hyp: 'country' },
      { op: 'insert', hyp: 'can' },
    ]);
  });
});

describe('word2vec and PCA', () => {
  const corpus: string[][] = [];
  for (let i = 0; i < 300; i++) {
    corpus.push(['the', i % 2 ? 'king' : 'queen', 'rules', 'the', 'realm', 'with', 'crown']);
    corpus.push(['eat', i % 2 ? 'apple' : 'banana', 'fruit', 'sweet', 'ripe', 'juice']);
  }

  it('is deterministic for a seed and learns shared contexts', () => {
    const a = trainWord2Vec(corpus, { dim: 20, epochs: 3, seed: 7 });
    const b = trainWord2Vec(corpus, { dim: 20, epochs: 3, seed: 7 });
    expect(a.vocab).toEqual(b.vocab);
    expect([...a.vector('king')!]).toEqual([...b.vector('king')!]);
    expect(cosine(a.vector('king')!, a.vector('queen')!)).toBeGreaterThan(cosine(a.vector('king')!, a.vector('apple')!));
    expect(trainWord2Vec(corpus, { minCount: 301 }).vocab).toEqual(['the']);
  });

  it('PCA: points on a line are one component', () => {
    const pts = Array.from({ length: 20 }, (_, i) => [i, 2 * i + 1, -i]);
    const p = pca2d(pts);
    expect(p.explainedVariance[0]).toBeGreaterThan(0.99);
    expect(pca2d(pts)).toEqual(p);
    expect(p.points).toHaveLength(20);
  });
});
