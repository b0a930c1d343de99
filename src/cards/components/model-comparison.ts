// Model-size comparison: a per-model summary (WER mean and median over n clips, disagreement
// beside it, audio, cost, RTF) and its chart, then per video × model the quality (WER against the
// reference, or disagreement with the largest model that produced text — agreement between models,
// never called WER), latency, real-time factor and an estimated cost from the cpu-seconds the task
// requested, and a quality-vs-latency chart. Rows whose engine produced no text (a test model
// without weights) are listed but never plotted or averaged.
import type { CardComponent } from './component.js';
import { Table } from './basic.js';
import { escapeHtml } from '../html.js';
import { VegaLite } from './vega-lite.js';
import { chartSpec } from '../templates.js';

export interface ComparisonInput {
  title: string;
  model: string;
  audioSeconds: number;
  wallSeconds: number;
  rtf: number;
  /** cpus the task requested (the cost is what was reserved, not what was used) */
  cpus: number;
  /** WER after normalization (numbers, contractions, spellings: `wordErrorRate(…, { normalize: 'english' })`) */
  wer: number | null;
  /** WER of the texts as written, shown beside the normalized one */
  rawWer?: number | null;
  /**
   * Where a clip has no reference: the word-error formula against another model's text
   * (`comparedWith`). Agreement between models, not accuracy: it is never called WER.
   */
  disagreement?: number | null;
  /** the model `disagreement` is measured against (the largest one that produced text) */
  comparedWith?: string | null;
  /** words the engine produced: 0 means no text, so its WER says nothing about the model */
  words?: number;
  note?: string;
}

/** A ModelComparison's options. */
export interface ComparisonOptions {
  /** price of one cpu for an hour, in `currency`. Default 0.04 (an on-demand cloud vCPU-hour) */
  pricePerCpuHour?: number;
  /** the symbol the costs are written with. Default '$' */
  currency?: string;
  /** the heading. Default 'Model sizes compared' */
  title?: string;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
/** 0.0612 → "$0.06", 1234.5 → "$1,234.50", 0.00000056 → "$0.00000056" (two significant digits below a cent, never 5.6e-7) */
function money(x: number, cur: string): string {
  if (x >= 0.01 || x === 0) return `${cur}${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `${cur}${x.toLocaleString('en-US', { maximumSignificantDigits: 2, maximumFractionDigits: 20 })}`;
}
/** 75 → "1:15", 3725 → "1:02:05" */
function duration(s: number): string {
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

interface Row extends ComparisonInput {
  /** the number plotted: WER where there is a reference, else disagreement; null: not plotted */
  quality: number | null;
  measure: string;
  noText: boolean;
  cost: number;
}

const has = (x: number | null | undefined): x is number => x !== null && x !== undefined;
/** one measure on a chart's axis, named for what it is */
function measureTitle(rows: Row[]): string {
  const kinds = new Set(rows.map((r) => (r.measure === 'WER vs reference' ? 'WER' : 'disagreement')));
  if (kinds.size === 2) return 'WER (vs reference) or disagreement (vs the largest model with text)';
  return kinds.has('WER') ? 'WER vs reference' : `disagreement vs ${[...new Set(rows.map((r) => r.comparedWith))].join(', ')}`;
}

export class ModelComparison implements CardComponent {
  readonly needs = 'vega' as const;
  constructor(
    readonly rows: ComparisonInput[],
    readonly opts: ComparisonOptions = {},
  ) {}

  render(): string {
    const price = this.opts.pricePerCpuHour ?? 0.04;
    const cur = this.opts.currency ?? '$';
    const data: Row[] = this.rows.map((r) => {
      const noText = r.words === 0;
      const byReference = has(r.wer);
      const quality = noText ? null : byReference ? r.wer : has(r.disagreement) ? r.disagreement : null;
      return {
        ...r,
        quality,
        noText,
        measure: byReference ? 'WER vs reference' : has(r.disagreement) ? `disagreement vs ${r.comparedWith ?? 'another model'}` : '',
        cost: (r.cpus * r.wallSeconds * price) / 3600,
      };
    });
    const per1000min = (cost: number, audio: number) => (audio ? money((cost * 60_000) / audio, cur) : '—');
    const table = new Table(
      data.map((r) => ({
        video: r.title,
        model: r.model,
        WER: r.noText ? 'no text' : pct(r.wer),
        'raw WER': r.noText ? 'no text' : pct(r.rawWer),
        disagreement: r.noText ? 'no text' : has(r.disagreement) ? `${pct(r.disagreement)} vs ${r.comparedWith ?? 'another model'}` : '—',
        audio: duration(r.audioSeconds),
        'wall s': r.wallSeconds,
        RTF: r.rtf,
        cpus: r.cpus,
        cost: money(r.cost, cur),
        'per 1,000 audio-min': per1000min(r.cost, r.audioSeconds),
        note: r.note ?? '',
      })),
      { className: 'compact' },
    );
    // the model the others on a clip were compared with is not plotted against itself
    const why = (r: Row) => (r.noText ? 'no text' : data.some((o) => o.title === r.title && o.comparedWith === r.model) ? 'the others are compared with it' : 'nothing to compare with');
    const left = data.filter((r) => r.quality === null);
    const leftText = left.length ? ` Not plotted: ${left.map((r) => `${r.model} on ${r.title} (${why(r)})`).join('; ')}.` : '';
    const plotted = data.filter((r) => r.quality !== null);
    const walls = plotted.map((r) => r.wallSeconds).filter((w) => w > 0);
    // a 10x spread of latencies crushes the fast models into one corner on a linear axis
    const logX = walls.length > 1 && Math.max(...walls) / Math.min(...walls) > 10;
    const spec = chartSpec('quality-latency.vl.json');
    if (logX) {
      spec.encoding.x.scale = { type: 'log' };
      spec.encoding.x.title += ' (log scale)';
    }
    if (plotted.length) spec.encoding.y.title = `${measureTitle(plotted)} (lower is better)`;
    const chart = new VegaLite(spec, { data: plotted, caption: `Each point is one video × model.${leftText}` });
    return (
      `<h2>${escapeHtml(this.opts.title ?? 'Model sizes compared')}</h2>` +
      this.summary(data, cur, per1000min) +
      `<h3>Per video</h3>${table.render()}` +
      `<div class="meta">${escapeHtml(
        `WER after normalization (numbers, contractions, spellings, as Whisper's English normalizer) against the clip's reference transcript, raw WER beside it. ` +
          `Without a reference, disagreement: the same formula against the largest model that produced text (agreement between models, not accuracy). ` +
          `Cost = requested cpus × wall seconds × ${cur}${price} per cpu-hour.`,
      )}</div>` +
      `<h3>Quality vs latency</h3>${chart.render()}`
    );
  }

  /** One row per model: what a reader compares first. WER and disagreement are never averaged together. */
  private summary(data: Row[], cur: string, per1000min: (c: number, a: number) => string): string {
    const models = [...new Set(data.map((r) => r.model))];
    const rows = models.map((model) => {
      const mine = data.filter((r) => r.model === model);
      const withText = mine.filter((r) => !r.noText);
      const w = withText.map((r) => r.wer).filter(has);
      const d = withText.filter((r) => !has(r.wer) && has(r.disagreement));
      const audio = mine.reduce((a, r) => a + r.audioSeconds, 0);
      const cost = mine.reduce((a, r) => a + r.cost, 0);
      const vs = [...new Set(d.map((r) => r.comparedWith ?? 'another model'))].join(', ');
      const dis = d.map((r) => r.disagreement!);
      return { model, clips: mine.length, noText: !withText.length, scored: w.length, mean: mean(w), median: median(w), disagreed: dis.length, disagreement: mean(dis), vs, audio, cost, rtf: mean(mine.map((r) => r.rtf)) };
    });
    const table = new Table(
      rows.map((r) => ({
        model: r.model,
        clips: r.clips,
        'mean WER': r.noText ? '— (no text)' : r.scored ? `${pct(r.mean)} (n=${r.scored})` : '— (no reference)',
        'median WER': pct(r.median),
        'mean disagreement': r.noText ? '— (no text)' : r.disagreed ? `${pct(r.disagreement)} vs ${r.vs} (n=${r.disagreed})` : '—',
        audio: duration(r.audio),
        cost: money(r.cost, cur),
        'per 1,000 audio-min': per1000min(r.cost, r.audio),
        'mean RTF': r.rtf === null ? '—' : r.rtf.toFixed(3),
      })),
      { className: 'compact' },
    );
    // bars of one measure: WER when any clip has a reference, else disagreement
    const byWer = rows.some((r) => r.scored);
    const bars = rows.filter((r) => (byWer ? r.scored : r.disagreed)).map((r) => ({ ...r, mean: byWer ? r.mean : r.disagreement, scored: byWer ? r.scored : r.disagreed }));
    const spec = chartSpec('wer-by-model.vl.json');
    spec.height = Math.max(60, 28 * bars.length);
    spec.encoding.x.title = byWer ? 'mean WER vs reference (lower is better)' : `mean disagreement vs ${[...new Set(rows.map((r) => r.vs).filter(Boolean))].join(', ')} (lower is better)`;
    const noText = rows.filter((r) => r.noText).map((r) => r.model);
    const chart = new VegaLite(spec, { data: bars, caption: noText.length ? `Models with no text are left out: ${noText.join(', ')}.` : '' });
    return `<h3>Per model</h3>${table.render()}${bars.length ? chart.render() : ''}`;
  }
}
