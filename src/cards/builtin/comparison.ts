// Model-size comparison: per video × model the quality (WER against the reference, or
// disagreement with the largest model), latency, real-time factor, audio length and an estimated
// cost from the cpu-seconds the task requested, and a quality-vs-latency chart.
import type { CardComponent } from '../components.js';
import { Table } from '../components.js';
import { escapeHtml } from '../html.js';
import { VegaLite } from '../vega.js';

export interface ComparisonInput {
  title: string;
  model: string;
  audioSeconds: number;
  wallSeconds: number;
  rtf: number;
  /** cpus the task requested (the cost is what was reserved, not what was used) */
  cpus: number;
  wer: number | null;
  disagreement?: number | null;
  note?: string;
}

export interface ComparisonOptions {
  /** price of one cpu for an hour, in `currency` (default 0.04: an on-demand cloud vCPU-hour) */
  pricePerCpuHour?: number;
  currency?: string;
  title?: string;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

export class ModelComparison implements CardComponent {
  readonly needs = 'vega' as const;
  constructor(
    readonly rows: ComparisonInput[],
    readonly opts: ComparisonOptions = {},
  ) {}
  render(): string {
    const price = this.opts.pricePerCpuHour ?? 0.04;
    const cur = this.opts.currency ?? '$';
    const data = this.rows.map((r) => {
      const quality = r.wer ?? r.disagreement ?? null;
      const cost = (r.cpus * r.wallSeconds * price) / 3600;
      return { ...r, quality, measure: r.wer !== null && r.wer !== undefined ? 'WER vs reference' : 'disagreement with largest', cost, costPerAudioHour: r.audioSeconds ? (cost * 3600) / r.audioSeconds : 0 };
    });
    const table = new Table(
      data.map((r) => ({
        video: r.title,
        model: r.model,
        'WER / disagreement': `${pct(r.quality)}${r.quality === null ? '' : r.wer !== null && r.wer !== undefined ? '' : ' (vs largest)'}`,
        'audio s': r.audioSeconds,
        'wall s': r.wallSeconds,
        RTF: r.rtf,
        cpus: r.cpus,
        [`cost ${cur}`]: r.cost,
        [`${cur} per audio hour`]: r.costPerAudioHour,
        note: r.note ?? '',
      })),
    );
    const chart = new VegaLite(
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        width: 560,
        height: 320,
        mark: { type: 'point', filled: true, size: 120 },
        encoding: {
          x: { field: 'wallSeconds', type: 'quantitative', title: 'latency (wall seconds)' },
          y: { field: 'quality', type: 'quantitative', title: 'WER or disagreement (lower is better)', axis: { format: '.0%' } },
          color: { field: 'model', type: 'nominal' },
          shape: { field: 'title', type: 'nominal', title: 'video' },
          tooltip: [
            { field: 'title', title: 'video' },
            { field: 'model' },
            { field: 'quality', format: '.1%', title: 'WER / disagreement' },
            { field: 'measure' },
            { field: 'wallSeconds', format: '.2f', title: 'wall s' },
            { field: 'rtf', format: '.3f', title: 'RTF' },
            { field: 'cost', format: '.5f', title: `cost ${cur}` },
          ],
        },
      },
      { data: data.filter((r) => r.quality !== null), caption: 'Each point is one video × model; rows without a reference or a larger model to compare with have no quality and are not plotted.' },
    );
    return `<h2>${escapeHtml(this.opts.title ?? 'Model sizes compared')}</h2>${table.render()}<div class="meta">${escapeHtml(`cost = requested cpus × wall seconds × ${cur}${price} per cpu-hour`)}</div><h3>Quality vs latency</h3>${chart.render()}`;
  }
}
