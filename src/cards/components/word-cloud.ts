// Word cloud: d3-cloud lays the words out with real text metrics from @napi-rs/canvas (aliased
// as `canvas`), seeded so the same counts give the same picture; the result is a static SVG, so
// it shows with no script at all. Both libraries load on first render only.
import { createRequire } from 'node:module';
import type { CardComponent } from './component.js';
import { escapeHtml, positiveNumber } from '../html.js';
import { mulberry32 } from '../../text/random.js';
import { chartSpec } from '../templates.js';
import { wordFrequencies, type WordCount } from '../../text/stopwords.js';

const req = createRequire(import.meta.url);

/** A WordCloud's options; the defaults of maxWords, width and height are cards/charts/wordcloud.json's. */
export interface WordCloudOptions {
  /** the most frequent words drawn. Default 150 */
  maxWords?: number;
  /** the picture's width, px. Default 800 */
  width?: number;
  /** the picture's height, px. Default 420 */
  height?: number;
  /** seed of the layout's randomness: the same counts and seed give the same picture. Default 42 */
  seed?: number;
  /** drop English stopwords when counting from text. Default true */
  stopwords?: boolean;
  /** a heading above the cloud. Default: none */
  title?: string;
}

interface Placed {
  text: string;
  size: number;
  x: number;
  y: number;
  rotate: number;
  count: number;
  /** the word's box around (x, y), as d3-cloud measured it */
  x0?: number;
  x1?: number;
  y0?: number;
  y1?: number;
}

/** a coordinate or size for an SVG attribute: whatever the layout returned, written as a number */
const num = (x: unknown) => (Number.isFinite(Number(x)) ? +Number(x).toFixed(2) : 0);

/** The layout's look, from cards/charts/wordcloud.json (a component's options win). */
interface CloudLook {
  width: number;
  height: number;
  maxWords: number;
  font: string;
  minFontSize: number;
  maxFontSize: number;
  padding: number;
  rotated: number;
  palette: string[];
}

function look(opts: WordCloudOptions): CloudLook {
  const t = chartSpec<Partial<CloudLook>>('wordcloud.json');
  const palette = Array.isArray(t.palette) && t.palette.length ? t.palette.map(String) : ['#3b6fd8'];
  return {
    width: positiveNumber('WordCloud', 'width', opts.width ?? t.width ?? 800),
    height: positiveNumber('WordCloud', 'height', opts.height ?? t.height ?? 420),
    maxWords: opts.maxWords ?? t.maxWords ?? 150,
    font: String(t.font ?? 'DejaVu Sans'),
    minFontSize: Number(t.minFontSize ?? 12),
    maxFontSize: Number(t.maxFontSize ?? 72),
    padding: Number(t.padding ?? 2),
    rotated: Number(t.rotated ?? 0.2),
    palette,
  };
}

/** the share of the top words a layout must place before it is accepted */
const ENOUGH = 0.95;

/**
 * Lay out words with d3-cloud; synchronous (d3-cloud's timer never waits with an infinite time
 * slice). Words that do not fit are dropped by d3-cloud, so the sizes shrink until nearly all of
 * them fit; the SVG's viewBox is then cut to what was drawn, so few words fill the area as well.
 */
export function layoutWordCloud(counts: WordCount[], opts: WordCloudOptions = {}): Placed[] {
  const l = look(opts);
  const top = counts.slice(0, l.maxWords);
  if (!top.length) return [];
  const cloud = req('d3-cloud') as typeof import('d3-cloud');
  const { createCanvas } = req('canvas') as typeof import('canvas');
  const max = top[0].count;
  const min = top[top.length - 1].count;
  let placed: Placed[] = [];
  for (let scale = 1, tries = 0; tries < 10; tries++, scale *= 0.8) {
    const random = mulberry32(opts.seed ?? 42);
    // sqrt scale from the smallest to a size that fits the longest top words
    const small = Math.max(5, l.minFontSize * Math.min(1, scale * 1.5));
    const big = Math.max(small + 2, Math.min(l.maxFontSize, l.width / 9) * scale);
    const size = (c: number) => (max === min ? big * 0.6 : small + (big - small) * Math.sqrt((c - min) / (max - min)));
    cloud<{ text: string; size: number; count: number }>()
      .size([l.width, l.height])
      .canvas(() => createCanvas(1, 1) as any)
      .words(top.map((w) => ({ text: w.word, size: size(w.count), count: w.count })))
      .padding(l.padding)
      .rotate(() => (random() < 1 - l.rotated ? 0 : 90))
      .font(l.font)
      .fontSize((d) => d.size)
      .random(random)
      .on('end', (words) => {
        placed = words.map((w: any) => ({ text: w.text, size: w.size, x: w.x, y: w.y, rotate: w.rotate, count: w.count, x0: w.x0, x1: w.x1, y0: w.y0, y1: w.y1 }));
      })
      .start()
      .stop();
    if (placed.length >= Math.ceil(top.length * ENOUGH)) break;
  }
  return placed;
}

/** The box around what was drawn (centred coordinates), with a margin. */
function drawnBox(words: Placed[], margin = 4): { x: number; y: number; w: number; h: number } {
  const xs = words.flatMap((w) => [w.x + (w.x0 ?? -w.size), w.x + (w.x1 ?? w.size)]);
  const ys = words.flatMap((w) => [w.y + (w.y0 ?? -w.size), w.y + (w.y1 ?? w.size)]);
  const x = Math.min(...xs) - margin, y = Math.min(...ys) - margin;
  return { x, y, w: Math.max(...xs) + margin - x, h: Math.max(...ys) + margin - y };
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
    look(opts); // width and height go into SVG attributes: refused here, with the option's name
  }
  render(): string {
    const l = look(this.opts);
    const { width, height } = l;
    const words = layoutWordCloud(this.counts, this.opts);
    const title = this.opts.title ? `<h2>${escapeHtml(this.opts.title)}</h2>` : '';
    if (!words.length) return `${title}<p class="meta">No words to draw.</p>`;
    const texts = words
      .map((w, i) => {
        const color = l.palette[i % l.palette.length];
        return `<text class="word" text-anchor="middle" font-size="${num(w.size)}" fill="${escapeHtml(color)}" transform="translate(${num(w.x)},${num(w.y)}) rotate(${num(w.rotate)})"><title>${escapeHtml(`${w.text}: ${w.count}`)}</title>${escapeHtml(w.text)}</text>`;
      })
      .join('');
    const shown = `${words.length} of ${this.counts.length} distinct words drawn (size ∝ √count)`;
    const box = drawnBox(words);
    return `${title}<figure class="wordcloud"><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="word cloud" viewBox="${num(box.x)} ${num(box.y)} ${num(box.w)} ${num(box.h)}" width="${width}" height="${height}" font-family="${escapeHtml(l.font)}, sans-serif"><g>${texts}</g></svg><div class="meta">${escapeHtml(shown)}</div></figure>`;
  }
}
