// Word cloud: d3-cloud lays the words out with real text metrics from @napi-rs/canvas (aliased
// as `canvas`), seeded so the same counts give the same picture; the result is a static SVG, so
// it shows with no script at all. Both libraries load on first render only.
import { createRequire } from 'node:module';
import type { CardComponent } from '../components.js';
import { escapeHtml, positiveNumber } from '../html.js';
import { mulberry32 } from '../../text/random.js';
import { wordFrequencies, type WordCount } from '../../text/stopwords.js';

const req = createRequire(import.meta.url);

export interface WordCloudOptions {
  /** the most frequent words drawn (default 150) */
  maxWords?: number;
  width?: number;
  height?: number;
  seed?: number;
  /** drop English stopwords when counting from text (default true) */
  stopwords?: boolean;
  title?: string;
}

interface Placed {
  text: string;
  size: number;
  x: number;
  y: number;
  rotate: number;
  count: number;
}

/** width and height go into SVG attributes: numbers only, refused with the option's name otherwise */
function cloudSize(opts: WordCloudOptions): { width: number; height: number } {
  return { width: positiveNumber('WordCloud', 'width', opts.width ?? 800), height: positiveNumber('WordCloud', 'height', opts.height ?? 420) };
}

/** a coordinate or size for an SVG attribute: whatever the layout returned, written as a number */
const num = (x: unknown) => (Number.isFinite(Number(x)) ? +Number(x).toFixed(2) : 0);

const PALETTE = ['#1f4e9c', '#3b6fd8', '#6c8fd6', '#2a7f62', '#b05a1a', '#7a4fa3', '#8c2f39', '#4d5a6b'];
const FONT = 'DejaVu Sans';

/** Lay out words (counts, or texts to count) with d3-cloud; synchronous (d3-cloud's timer never waits with an infinite time slice). */
export function layoutWordCloud(counts: WordCount[], opts: WordCloudOptions = {}): Placed[] {
  const { width, height } = cloudSize(opts);
  const top = counts.slice(0, opts.maxWords ?? 150);
  if (!top.length) return [];
  const cloud = req('d3-cloud') as typeof import('d3-cloud');
  const { createCanvas } = req('canvas') as typeof import('canvas');
  const random = mulberry32(opts.seed ?? 42);
  const max = top[0].count;
  const min = top[top.length - 1].count;
  // sqrt scale from 12 px to a size that fits the longest top words
  const big = Math.min(72, Math.max(24, width / 9));
  const size = (c: number) => (max === min ? big * 0.6 : 12 + (big - 12) * Math.sqrt((c - min) / (max - min)));
  let placed: Placed[] = [];
  const layout = cloud<{ text: string; size: number; count: number }>()
    .size([width, height])
    .canvas(() => createCanvas(1, 1) as any)
    .words(top.map((w) => ({ text: w.word, size: size(w.count), count: w.count })))
    .padding(2)
    .rotate(() => (random() < 0.8 ? 0 : 90))
    .font(FONT)
    .fontSize((d) => d.size)
    .random(random)
    .on('end', (words) => {
      placed = words.map((w: any) => ({ text: w.text, size: w.size, x: w.x, y: w.y, rotate: w.rotate, count: w.count }));
    });
  layout.start();
  layout.stop();
  return placed;
}

export class WordCloud implements CardComponent {
  private counts: WordCount[];
  constructor(
    input: WordCount[] | string | string[],
    readonly opts: WordCloudOptions = {},
  ) {
    this.counts = typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'string')
      ? wordFrequencies(([] as string[]).concat(input as string | string[]), { stopwords: opts.stopwords !== false })
      : [...(input as WordCount[])].sort((a, b) => b.count - a.count);
    cloudSize(opts);
  }
  render(): string {
    const { width, height } = cloudSize(this.opts);
    const words = layoutWordCloud(this.counts, this.opts);
    const title = this.opts.title ? `<h2>${escapeHtml(this.opts.title)}</h2>` : '';
    if (!words.length) return `${title}<p class="meta">No words to draw.</p>`;
    const texts = words
      .map((w, i) => {
        const color = PALETTE[i % PALETTE.length];
        return `<text class="word" text-anchor="middle" font-size="${num(w.size)}" fill="${color}" transform="translate(${num(w.x)},${num(w.y)}) rotate(${num(w.rotate)})"><title>${escapeHtml(`${w.text}: ${w.count}`)}</title>${escapeHtml(w.text)}</text>`;
      })
      .join('');
    const shown = `${words.length} of ${this.counts.length} distinct words drawn (size ∝ √count)`;
    return `${title}<figure class="wordcloud"><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="word cloud" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="${FONT}, sans-serif"><g transform="translate(${width / 2},${height / 2})">${texts}</g></svg><div class="meta">${escapeHtml(shown)}</div></figure>`;
  }
}
