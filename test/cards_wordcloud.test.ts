// The word cloud fills its area whatever the number of words: a few words are zoomed to fill it
// (the viewBox is cut to what was drawn), many words shrink until nearly all of them fit.
import { describe, it, expect } from 'vitest';
import { WordCloud, layoutWordCloud } from '../src/cards/builtin/wordcloud.js';

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
