// The word2vec embedding projected to 2-D by PCA: every word a point (size ∝ count, tooltip with
// word and count), the most frequent ones labelled.
import type { CardComponent } from './component.js';
import { escapeHtml } from '../html.js';
import { VegaLite } from './vega-lite.js';
import { chartSpec } from '../templates.js';

export interface EmbeddingPoint {
  word: string;
  x: number;
  y: number;
  count: number;
}

/** An EmbeddingPlot's options. */
export interface EmbeddingOptions {
  /** how many of the most frequent words get a label. Default 40 */
  labels?: number;
  /** at most this many points, the most frequent words first. Default 2000 */
  maxPoints?: number;
  /** the heading. Default 'Word embedding (word2vec, PCA to 2-D)' */
  title?: string;
  /** the share of the variance PC 1 and PC 2 explain (pca2d's explainedVariance), shown on the axes. Default: not shown */
  explainedVariance?: [number, number];
}

/** Below this many distinct words a word2vec embedding is noise: the card says so. */
export const MIN_VOCABULARY = 50;

export class EmbeddingPlot implements CardComponent {
  readonly needs = 'vega' as const;
  private points: (EmbeddingPoint & { label: string })[];
  constructor(
    points: EmbeddingPoint[],
    readonly opts: EmbeddingOptions = {},
  ) {
    const sorted = [...points].sort((a, b) => b.count - a.count).slice(0, opts.maxPoints ?? 2000);
    const labels = opts.labels ?? 40;
    this.points = sorted.map((p, i) => ({ word: String(p.word), x: +p.x.toFixed(4), y: +p.y.toFixed(4), count: p.count, label: i < labels ? String(p.word) : '' }));
  }
  render(): string {
    const title = `<h2>${escapeHtml(this.opts.title ?? 'Word embedding (word2vec, PCA to 2-D)')}</h2>`;
    if (!this.points.length) return `${title}<p class="meta">No words to embed.</p>`;
    const spec = chartSpec('embedding.vl.json');
    const ev = this.opts.explainedVariance;
    const enc = spec.layer?.[0]?.encoding;
    if (ev && enc) {
      enc.x.title = `${enc.x.title} (${(ev[0] * 100).toFixed(0)}% of variance)`;
      enc.y.title = `${enc.y.title} (${(ev[1] * 100).toFixed(0)}% of variance)`;
    }
    const small = this.points.length < MIN_VOCABULARY
      ? `<p class="warn">Only ${this.points.length} distinct words: too few for word2vec to learn anything (under ${MIN_VOCABULARY}). Positions here are noise, not meaning.</p>`
      : '';
    const explained = ev ? `; PC 1 and PC 2 explain ${((ev[0] + ev[1]) * 100).toFixed(0)}% of the variance` : '';
    const caption = `${this.points.length} words; the ${Math.min(this.opts.labels ?? 40, this.points.length)} most frequent are labelled${explained}`;
    return title + small + new VegaLite(spec, { data: this.points, caption }).render();
  }
}
