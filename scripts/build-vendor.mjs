// Bundle what cards inline but that ships only as ESM (vega-interpreter) into a browser IIFE.
// Run by `npm run build`; the output sits beside the compiled card modules in dist/.
import { buildSync } from 'esbuild';
import { createRequire } from 'node:module';

const req = createRequire(import.meta.url);
const entry = req.resolve('vega-interpreter', { paths: [req.resolve('vega-embed')] });
buildSync({
  entryPoints: [entry],
  bundle: true,
  format: 'iife',
  globalName: 'vegaInterpreter',
  minify: true,
  platform: 'browser',
  outfile: new URL('../dist/cards/vendor/vega-interpreter.js', import.meta.url).pathname,
  logLevel: 'warning',
});
