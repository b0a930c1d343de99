// The scripts a card page with charts carries: vega, vega-lite and vega-embed (their UMD builds,
// read from node_modules) and a small bootstrap that embeds every VegaLite placeholder. Nothing
// is fetched: the card works offline, under a CSP without 'unsafe-eval' — vega's expressions run
// through vega-interpreter instead of `new Function`. It sits beside render.ts (which puts them in
// the page) and server.ts (which allows them by hash), not among the components.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const req = createRequire(import.meta.url);

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
