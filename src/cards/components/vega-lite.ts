// Charts: a VegaLite component renders a placeholder and its spec as inert JSON; the page that
// holds it then carries vega and a bootstrap that embeds every chart (vega-scripts.ts, at the top
// of cards/: the page's business, not the component's). `needs = 'vega'` is how render.ts knows.
import type { CardComponent } from './component.js';
import { escapeHtml } from '../html.js';

/** JSON that cannot close its <script> element or open a comment: `<` is written as \u003c. */
export function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

let seq = 0;

/** A VegaLite component's options. */
export interface VegaLiteOptions {
  /** rows to plot; put into the spec as `data: { values }` (replacing the spec's own data). Default: the spec's data as it is */
  data?: readonly unknown[];
  /** a caption under the chart. Default: none */
  caption?: string;
}

export class VegaLite implements CardComponent {
  readonly needs = 'vega' as const;
  readonly spec: Record<string, unknown>;
  constructor(
    spec: Record<string, unknown>,
    readonly opts: VegaLiteOptions = {},
  ) {
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new TypeError('VegaLite: the spec must be an object');
    this.spec = opts.data ? { ...spec, data: { values: opts.data } } : spec;
  }
  render(): string {
    const id = `fb-vega-${++seq}`;
    const caption = this.opts.caption ? `<div class="meta">${escapeHtml(this.opts.caption)}</div>` : '';
    return `<figure class="chart"><div class="fb-vega" data-spec="${id}"></div>${caption}<script type="application/json" id="${id}">${inertJson(this.spec)}</script></figure>`;
  }
}
