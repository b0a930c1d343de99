// Analysis cards that say what they know. The word cloud fills its area whatever the number of
// words: a few words are zoomed to fill it (the viewBox is cut to what was drawn), many words
// shrink until nearly all of them fit. The embedding shows PCA's explained variance and says
// when the vocabulary is too small to mean anything.
import { describe, it, expect } from 'vitest';
import { WordCloud, layoutWordCloud } from '../../src/cards/components/word-cloud.js';
import { EmbeddingPlot } from '../../src/cards/components/embedding-plot.js';

const viewBox = (html: string) => /viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"/.exec(html)!.slice(1).map(Number);
const words = (n: number) => Array.from({ length: n }, (_, i) => ({ word: `w${i}x${'y'.repeat(i % 7)}`, count: n - i + (i % 3) }));

describe('WordCloud', () => {
  it('three words are drawn large: the viewBox is cut to them, so they fill the 800 × 420 area', () => {
    const html = new WordCloud([{ word: 'kennedy', count: 5 }, { word: 'country', count: 3 }, { word: 'ask', count: 2 }]).render();
    const [, , w, h] = viewBox(html);
    expect(html).toContain('width="800" height="420"');
    // drawn box much smaller than the area: the browser scales it up to fill it
    expect(w * h).toBeLessThan((800 * 420) / 2);
    expect(html).toContain('3 of 3 distinct words drawn');
  });

  it('500 words: sizes shrink until at least 95% of the 150 drawn words fit', () => {
    const placed = layoutWordCloud(words(500));
    expect(placed.length).toBeGreaterThanOrEqual(143);
    const html = new WordCloud(words(500)).render();
    const [, , w, h] = viewBox(html);
    expect(w).toBeGreaterThan(400);
    expect(h).toBeGreaterThan(200);
  });
});

describe('EmbeddingPlot', () => {
  const points = (n: number) => Array.from({ length: n }, (_, i) => ({ word: `w${i}`, x: i, y: -i, count: 1 + (i % 5) }));
  it("shows how much of the variance PCA's two axes explain", () => {
    const html = new EmbeddingPlot(points(60), { explainedVariance: [0.31, 0.12] }).render();
    expect(html).toContain('"title":"PC 1 (31% of variance)"');
    expect(html).toContain('"title":"PC 2 (12% of variance)"');
    expect(html).toContain('PC 1 and PC 2 explain 43% of the variance');
    expect(html).not.toContain('too few');
  });
  it('says when the vocabulary is too small for the embedding to mean anything', () => {
    const html = new EmbeddingPlot(points(12)).render();
    expect(html).toContain('Only 12 distinct words: too few for word2vec to learn anything (under 50).');
  });
});
