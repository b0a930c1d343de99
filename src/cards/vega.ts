// Charts: a VegaLite component renders a placeholder and its spec as inert JSON; the page then
// carries vega, vega-lite and vega-embed (their UMD builds, read from node_modules) and a small
// bootstrap that embeds every chart. Nothing is fetched: the card works offline, under a CSP
// without 'unsafe-eval' — vega's expressions run through vega-interpreter instead of `new Function`.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { CardComponent } from './components.js';
import { escapeHtml } from './html.js';

const req = createRequire(import.meta.url);

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

let bundle: string[] | undefined;

/** a file of an installed package (vega's exports map hides package.json: walk up from its main) */
function umd(pkg: string, file: string): string {
  let dir = path.dirname(req.resolve(pkg));
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) !== pkg) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${pkg} package directory`);
    dir = up;
  }
  return fs.readFileSync(path.join(dir, file), 'utf8');
}

/** vega-interpreter ships only as ESM: bundled once into an IIFE by scripts/build-vendor.mjs. */
function interpreter(): string {
  const built = new URL('./vendor/vega-interpreter.js', import.meta.url);
  try {
    return fs.readFileSync(built, 'utf8');
  } catch {
    throw new Error(`missing ${built.pathname}: run \`npm run build\``);
  }
}

// After the DOM is parsed: embed each chart; a chart that fails says why in place of the chart.
const BOOTSTRAP = `
(function () {
  var opts = { renderer: 'svg', actions: false, ast: true, expr: vegaInterpreter.expressionInterpreter, tooltip: true };
  document.querySelectorAll('.fb-vega').forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.getAttribute('data-spec')).textContent);
    vegaEmbed(el, spec, opts).then(function () { el.setAttribute('data-rendered', 'true'); }, function (err) {
      el.textContent = 'chart failed: ' + err.message;
      el.className += ' error';
    });
  });
})();`;

/** The scripts a page with charts carries: vega, vega-lite, vega-embed, the interpreter (read once per process). */
export function vegaScripts(): { head: string[]; tail: string[] } {
  bundle ??= [umd('vega', 'build/vega.min.js'), umd('vega-lite', 'build/vega-lite.min.js'), umd('vega-embed', 'build/vega-embed.min.js'), interpreter()];
  return { head: bundle, tail: [BOOTSTRAP] };
}
