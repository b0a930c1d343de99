// Notebook benchmark (issue 04): kernel start + the first `latestSuccessfulRun` + a dataframe
// display, on the flowbook (TypeScript) kernel over @jupyterlab/services (target ≤ 3 s together).
// The Jupyter server is started once (its start is reported apart); each repetition starts a
// fresh kernel, as opening a notebook does.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { median, tempRoot, table, fmt, REPO, BIN } from './lib.mjs';
import { runNotebook } from '../dist/notebook/runner.js';
import { startJupyterServer } from '../dist/notebook/server.js';
import { installKernel, jupyterPath } from '../kernels/install.mjs';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const root = tempRoot();
process.env.FLOWBOOK_HOME = root; // the kernels inherit it through the server
spawnSync('bash', ['scripts/make-samples.sh'], { cwd: REPO, stdio: 'ignore' });
const r = spawnSync(process.execPath, [BIN, 'run', 'flows/youtube_transcription.ts', '--urls', 'samples', '--model', 'sphinx-en-us', '--quiet'], { cwd: REPO, encoding: 'utf8' });
if (r.status !== 0) throw new Error(r.stderr);

// inside the project, where the kernel resolves 'flowbook' (as any project that installed it)
const dir = fs.mkdtempSync(path.join(REPO, 'notebooks', '.bench-'));
const nbFile = path.join(dir, 'bench.ipynb');
const cell = (source) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });
fs.writeFileSync(nbFile, JSON.stringify({
  nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'flowbook' } },
  cells: [
    cell("import { Flow } from 'flowbook';\nimport { show } from 'flowbook/notebook';\nconst run = (await Flow('YouTubeVideoTranscription').latestSuccessfulRun)!;"),
    cell('await show(await run.data.results);'),
  ],
}));

installKernel();
const st = performance.now();
const server = await startJupyterServer({ rootDir: dir, jupyterPath: jupyterPath() });
const serverSeconds = (performance.now() - st) / 1000;
const k = [], lookup = [], frame = [], total = [];
try {
  for (let i = 0; i < REPS; i++) {
    const res = await runNotebook(nbFile, { server: server.url, token: server.token, out: path.join(dir, `out-${i}.ipynb`) });
    if (res.failed) throw new Error(`bench notebook failed: ${res.failed.evalue}`);
    const [a, b] = res.timings.cellSeconds;
    k.push(res.timings.kernelSeconds);
    lookup.push(a);
    frame.push(b);
    total.push(res.timings.kernelSeconds + a + b);
  }
} finally {
  await server.stop();
}
const whole = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const w = spawnSync(process.execPath, [BIN, 'notebook', 'run', nbFile, '--out', path.join(dir, 'whole.ipynb')], { cwd: REPO, encoding: 'utf8' });
  if (w.status !== 0) throw new Error(w.stderr);
  whole.push((performance.now() - t) / 1000);
}
table(`Notebook on the flowbook (TypeScript) kernel (median of ${REPS}; a fresh kernel each time)`, ['measure', 'median', 'target'], [
  ['kernel start → ready', fmt(median(k)), ''],
  ["cell: import + Flow('YouTubeVideoTranscription').latestSuccessfulRun", fmt(median(lookup)), ''],
  ['cell: await show(await run.data.results)  (danfo + Arrow → HTML)', fmt(median(frame)), ''],
  ['together', fmt(median(total)), '≤ 3 s'],
  ['(Jupyter server start, once)', fmt(serverSeconds), ''],
  ['whole `flowbook notebook run` of these 2 cells, own server (median of 3)', fmt(median(whole)), ''],
]);
fs.rmSync(dir, { recursive: true, force: true });
fs.rmSync(root, { recursive: true, force: true });
