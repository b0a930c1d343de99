// The general-purpose card components (Markdown, Table, Image, ProgressBar, Artifact, Error), as
// Metaflow's: each renders itself to an HTML fragment in which every user string is escaped.
// Markdown goes through `marked` with raw HTML turned into text and unsafe links neutralized.
import { inspect } from 'node:util';
import { createRequire } from 'node:module';
import type { Marked as MarkedT } from 'marked';
import { escapeHtml, safeHref, oneLine } from '../html.js';
import type { CardComponent } from './component.js';

export type { CardComponent } from './component.js';

// every flow imports this module through 'flowbook': load marked only when Markdown renders
let mdInstance: MarkedT | undefined;
const md = (): MarkedT => (mdInstance ??= makeMarked());
function makeMarked(): MarkedT {
  const { Marked } = createRequire(import.meta.url)('marked') as typeof import('marked');
  return new Marked({
    gfm: true,
    renderer: {
      // raw HTML in Markdown is shown as text, never run
      html: (token) => escapeHtml(token.text),
      link(token) {
        return `<a href="${escapeHtml(safeHref(token.href))}">${this.parser.parseInline(token.tokens)}</a>`;
      },
      image: (token) =>
        /^data:image\//.test(token.href) ? `<img src="${escapeHtml(token.href)}" alt="${escapeHtml(token.text)}">` : escapeHtml(`[image: ${token.text}]`),
    },
  });
}

export class Markdown implements CardComponent {
  constructor(readonly text: string) {}
  render(): string {
    return `<div class="markdown">${md().parse(String(this.text), { async: false }) as string}</div>`;
  }
}

type Row = Record<string, unknown> | unknown[];

function cell(v: unknown): string {
  if (typeof v === 'number') return `<td class="num">${escapeHtml(Number.isInteger(v) ? v : Number(v.toPrecision(4)))}</td>`;
  // a component nested in a cell renders itself; data that merely has a `render` key is data
  if (v !== null && typeof v === 'object' && typeof (v as { render?: unknown }).render === 'function') return `<td>${(v as CardComponent).render()}</td>`;
  if (v !== null && typeof v === 'object') return `<td><code>${escapeHtml(JSON.stringify(v))}</code></td>`;
  return `<td>${escapeHtml(v ?? '')}</td>`;
}

/** rows, a danfo DataFrame or an Arrow table; at most `maxRows` rows shown (the count says so) */
export class Table implements CardComponent {
  private headers: string[];
  private rows: unknown[][];
  constructor(
    data: Row[] | any,
    opts: {
      /** column names, for rows given as objects (their keys, in this order) or arrays. Default: the first object row's keys (arrays: no header); a DataFrame's or Arrow table's own columns always */
      headers?: string[];
      /** rows shown; the rest are counted under the table. Default 500 */
      maxRows?: number;
      /** a class for the <table> (cards/style.css: `compact` keeps cells on one line but the last). Default: none */
      className?: string;
    } = {},
  ) {
    this.className = opts.className;
    const max = opts.maxRows ?? 500;
    if (data?.constructor?.name === 'DataFrame' && Array.isArray(data.columns)) {
      this.headers = data.columns;
      this.rows = data.values as unknown[][];
    } else if (data?.constructor?.name === 'Table' && 'schema' in data) {
      this.headers = data.schema.fields.map((f: any) => f.name);
      this.rows = data.toArray().map((r: any) => this.headers.map((h) => r[h]));
    } else {
      const rows = (data ?? []) as Row[];
      this.headers = opts.headers ?? (rows.length && !Array.isArray(rows[0]) ? Object.keys(rows[0] as object) : []);
      this.rows = rows.map((r) => (Array.isArray(r) ? r : this.headers.map((h) => (r as Record<string, unknown>)[h])));
    }
    this.total = this.rows.length;
    this.rows = this.rows.slice(0, max);
  }
  private total: number;
  private className?: string;
  render(): string {
    const head = this.headers.length ? `<thead><tr>${this.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>` : '';
    const body = this.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('');
    const more = this.total > this.rows.length ? `<div class="meta">showing ${this.rows.length} of ${this.total} rows</div>` : '';
    return `<table${this.className ? ` class="${escapeHtml(this.className)}"` : ''}>${head}<tbody>${body}</tbody></table>${more}`;
  }
}

/** The image types an <img> may show; `mime` goes into a data: URL inside an attribute. */
export const IMAGE_MIMES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'] as const;

/** the type from the bytes' magic number; anything unrecognised is taken for SVG text */
function sniffMime(buf: Buffer): string {
  const hex = buf.subarray(0, 12).toString('hex');
  if (hex.startsWith('89504e47')) return 'image/png';
  if (hex.startsWith('ffd8')) return 'image/jpeg';
  if (hex.startsWith('47494638')) return 'image/gif';
  if (hex.startsWith('52494646') && hex.slice(16, 24) === '57454250') return 'image/webp';
  return 'image/svg+xml';
}

function checkMime(mime: unknown): string {
  if (typeof mime === 'string' && (IMAGE_MIMES as readonly string[]).includes(mime)) return mime;
  throw new TypeError(`Image: option mime must be one of ${IMAGE_MIMES.join(', ')}, got ${oneLine(mime)}`);
}

/** PNG/JPEG/GIF/WebP/SVG bytes as an <img>: an SVG inside <img> cannot run scripts. */
export class Image implements CardComponent {
  constructor(
    readonly bytes: Uint8Array | string,
    readonly opts: {
      /** a caption under the image, also its alt text. Default: none */
      label?: string;
      /** one of IMAGE_MIMES. Default: told from the bytes (PNG, JPEG, GIF, WebP; anything else is taken for SVG) */
      mime?: string;
    } = {},
  ) {
    // refused when the step appends it, where the mistake is; checked again at render (opts can change)
    if (opts.mime !== undefined) checkMime(opts.mime);
  }
  render(): string {
    const buf = typeof this.bytes === 'string' ? Buffer.from(this.bytes) : Buffer.from(this.bytes);
    const mime = this.opts.mime === undefined ? sniffMime(buf) : checkMime(this.opts.mime);
    const label = this.opts.label ? `<div class="meta">${escapeHtml(this.opts.label)}</div>` : '';
    return `<figure><img alt="${escapeHtml(this.opts.label ?? '')}" src="${escapeHtml(`data:${mime};base64,${buf.toString('base64')}`)}">${label}</figure>`;
  }
}

export class ProgressBar implements CardComponent {
  constructor(
    readonly opts: {
      /** the value of a full bar. Default 100 */
      max?: number;
      /** where the bar is now (update() changes it), kept between 0 and max. Default 0 */
      value?: number;
      /** a label before the bar. Default: none */
      label?: string;
    } = {},
  ) {}
  update(v: number): void {
    this.opts.value = v;
  }
  render(): string {
    // numbers only: a string max or value must not reach the style attribute
    const max = Number(this.opts.max ?? 100) || 0;
    const v = Math.max(0, Math.min(max, Number(this.opts.value ?? 0) || 0));
    const pct = max > 0 ? (100 * v) / max : 0;
    return `<div>${escapeHtml(this.opts.label ?? '')} <span class="meta">${escapeHtml(`${v} / ${max}`)}</span><div class="progress"><div style="width:${pct.toFixed(1)}%"></div></div></div>`;
  }
}

/** Any value, pretty-printed and bounded. */
export class Artifact implements CardComponent {
  constructor(
    readonly value: unknown,
    readonly name?: string,
  ) {}
  render(): string {
    const text = inspect(this.value, { depth: 4, maxArrayLength: 50, maxStringLength: 2000, breakLength: 100 });
    return `${this.name ? `<h3>${escapeHtml(this.name)}</h3>` : ''}<pre>${escapeHtml(text.length > 20_000 ? text.slice(0, 20_000) + '\n…' : text)}</pre>`;
  }
}

export class Error implements CardComponent {
  constructor(
    readonly error: unknown,
    readonly title = 'Error',
  ) {}
  render(): string {
    const e = this.error as any;
    const text = e?.stack ?? e?.message ?? String(e);
    return `<div class="error"><strong>${escapeHtml(this.title)}</strong><pre>${escapeHtml(text)}</pre></div>`;
  }
}
