// The model comparison a data scientist reads first: rows without text listed but not plotted,
// a per-model summary and chart, money that reads as money, latency on a log axis when it spans
// more than 10x, normalized WER with the raw one beside it.
import { describe, it, expect } from 'vitest';
import { ModelComparison, type ComparisonInput } from '../../src/cards/components/model-comparison.js';

/** the vega-lite specs embedded in a rendered card, in order */
const specs = (html: string) => [...html.matchAll(/<script type="application\/json" id="fb-vega-\d+">([\s\S]*?)<\/script>/g)].map((m) => JSON.parse(m[1].replace(/\\u003c/g, '<')));
const row = (over: Partial<ComparisonInput>): ComparisonInput => ({ title: 'jfk', model: 'sphinx-en-us', audioSeconds: 11, wallSeconds: 2, rtf: 0.18, cpus: 1, wer: 0.2, rawWer: 0.35, words: 22, ...over });

describe('ModelComparison', () => {
  const rows = [
    row({}),
    row({ title: 'fox', wer: 0.1, rawWer: 0.1, wallSeconds: 1, audioSeconds: 3 }),
    row({ model: 'for-tests-tiny.en', wer: 1, rawWer: 1, words: 0, wallSeconds: 0.05, note: 'test model: no weights' }),
    row({ title: 'fox', model: 'for-tests-tiny.en', wer: 1, rawWer: 1, words: 0, wallSeconds: 0.04, audioSeconds: 3 }),
  ];
  const html = new ModelComparison(rows, { pricePerCpuHour: 0.04 }).render();

  it('a model that produced no text is in the tables as "no text", never plotted as 100% WER, and the chart says so', () => {
    const [bars, points] = specs(html);
    expect(points.data.values.map((v: any) => `${v.model}/${v.title}`)).toEqual(['sphinx-en-us/jfk', 'sphinx-en-us/fox']);
    expect(html).toContain('Not plotted: for-tests-tiny.en on jfk (no text); for-tests-tiny.en on fox (no text).');
    expect(bars.data.values.map((v: any) => v.model)).toEqual(['sphinx-en-us']);
    expect(html).toContain('Models with no text are left out: for-tests-tiny.en.');
    expect(html).toMatch(/<td>for-tests-tiny\.en<\/td><td class="num">2<\/td><td>— \(no text\)<\/td>/);
    expect(html).toContain('<td>no text</td>');
  });

  it('the per-model summary comes first: mean and median WER with n, total audio, cost, mean RTF', () => {
    expect(html.indexOf('<h3>Per model</h3>')).toBeLessThan(html.indexOf('<h3>Per video</h3>'));
    // sphinx: WER 20% and 10% → mean 15.0%, median 15.0%, 0:14 of audio
    expect(html).toMatch(/<td>sphinx-en-us<\/td><td class="num">2<\/td><td>15\.0% \(n=2\)<\/td><td>15\.0%<\/td><td>—<\/td><td>0:14<\/td>/);
  });

  it('normalized WER with the raw one beside it; costs as money per 1,000 audio-minutes', () => {
    expect(html).toContain('<th>WER</th><th>raw WER</th>');
    expect(html).toMatch(/<td>20\.0%<\/td><td>35\.0%<\/td>/);
    // 1 cpu × 2 s × $0.04/h = $0.000022 for 11 s of audio → $0.12 per 1,000 audio-minutes
    expect(html).toContain('<td>$0.000022</td><td>$0.12</td>');
    expect(html).not.toMatch(/\de-\d/); // no exponent notation anywhere
  });

  it('without a reference, disagreement is named with the model it is measured against, never called or averaged as WER', () => {
    const mixed = [
      row({ model: 'tiny.en', wer: 0.3, rawWer: 0.4 }),
      row({ model: 'base.en', wer: 0.1, rawWer: 0.2 }),
      row({ title: 'talk', model: 'tiny.en', wer: null, rawWer: null, disagreement: 0.2, comparedWith: 'base.en' }),
      row({ title: 'talk', model: 'base.en', wer: null, rawWer: null, disagreement: null, comparedWith: null }),
      row({ title: 'talk', model: 'for-tests-tiny.en', wer: null, rawWer: null, words: 0, note: 'test model' }),
    ];
    const out = new ModelComparison(mixed).render();
    expect(out).not.toContain('WER / disagreement');
    // per video: the disagreement column names the yardstick; the WER column stays empty
    expect(out).toContain('<td>talk</td><td>tiny.en</td><td>—</td><td>—</td><td>20.0% vs base.en</td>');
    // per model: the mean WER is over clips with a reference only, the disagreement beside it
    expect(out).toContain('<td>tiny.en</td><td class="num">2</td><td>30.0% (n=1)</td><td>30.0%</td><td>20.0% vs base.en (n=1)</td>');
    expect(out).toContain('<td>base.en</td><td class="num">2</td><td>10.0% (n=1)</td><td>10.0%</td><td>—</td>');
    const [bars, points] = specs(out);
    expect(bars.encoding.x.title).toBe('mean WER vs reference (lower is better)');
    expect(bars.data.values.map((v: any) => [v.model, v.mean])).toEqual([['tiny.en', 0.3], ['base.en', 0.1]]);
    expect(points.data.values.map((v: any) => `${v.model}/${v.title}: ${v.measure}`)).toEqual([
      'tiny.en/jfk: WER vs reference',
      'base.en/jfk: WER vs reference',
      'tiny.en/talk: disagreement vs base.en',
    ]);
    expect(points.encoding.y.title).toBe('WER (vs reference) or disagreement (vs the largest model with text) (lower is better)');
    expect(out).toContain('Not plotted: base.en on talk (the others are compared with it); for-tests-tiny.en on talk (no text).');

    // no references at all: the bars are disagreement, and say so
    const only = specs(new ModelComparison(mixed.slice(2)).render());
    expect(only[0].encoding.x.title).toBe('mean disagreement vs base.en (lower is better)');
    expect(only[0].data.values.map((v: any) => [v.model, v.mean])).toEqual([['tiny.en', 0.2]]);
    expect(only[1].encoding.y.title).toBe('disagreement vs base.en (lower is better)');
  });

  it('latency goes on a log axis when the plotted rows span more than 10x, else linear', () => {
    const spread = new ModelComparison([row({ wallSeconds: 0.5 }), row({ model: 'large', wallSeconds: 40 })]).render();
    expect(specs(spread)[1].encoding.x.scale).toEqual({ type: 'log' });
    expect(specs(spread)[1].encoding.x.title).toContain('log scale');
    expect(specs(html)[1].encoding.x.scale).toBeUndefined();
  });
});
