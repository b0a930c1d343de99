// `npm run bench`: every benchmark, each printing a table of medians.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
for (const b of ['runtime.mjs', 'datastore.mjs', 's3.mjs', 's3-bounds.mjs', 'kubernetes.mjs', 'scale.mjs', 'light.mjs', 'transcribe.mjs', 'cluster-sim.mjs', 'cards.mjs', 'cards-real.mjs', 'notebook.mjs', 'cache.mjs']) {
  const r = spawnSync(process.execPath, [path.join(here, b)], { stdio: 'inherit', cwd: path.dirname(here) });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
