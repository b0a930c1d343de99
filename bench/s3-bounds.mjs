// What bounding every S3 call costs on the happy path (issue 20): connect and idle timeouts, the
// retry strategy, conditional run-id creation and the real lock of a resume. Measured side by side
// against a checkout without them (BENCH_BASELINE=/path/to/that/checkout, built), in interleaved
// pairs against one s3rver: small PUT+GET round trips through the backend, and whole runs of a
// 5-step flow on S3 through the CLI. Without BENCH_BASELINE it measures this checkout alone.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { median, table, fmt, REPO } from './lib.mjs';
import { startS3 } from './s3lib.mjs';

const REPS = Number(process.env.BENCH_REPS ?? 7);
const OPS = Number(process.env.BENCH_OPS ?? 200);
const baseline = process.env.BENCH_BASELINE;
const checkouts = [['this checkout', REPO], ...(baseline ? [['baseline', path.resolve(baseline)]] : [])];

const s3 = await startS3();
const env = { ...process.env, ...s3.env };

/** ms per small PUT + GET round trip, through that checkout's S3 backend, in a process of its own */
function roundTrips(repo, i) {
  const code = `
    const { S3Backend } = await import(${JSON.stringify(path.join(repo, 'dist/datastore/s3/backend.js'))});
    const b = new S3Backend(${JSON.stringify(s3.root)});
    const body = Buffer.alloc(2048, 7);
    await b.put('warm/x', body); await b.get('warm/x');
    const t0 = performance.now();
    for (let k = 0; k < ${OPS}; k++) { await b.put('ops${i}/' + k, body); await b.get('ops${i}/' + k); }
    console.log((performance.now() - t0) / ${OPS});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout.trim());
}

/** wall seconds of `flowbook run` of a 5-step flow with a foreach, on S3 */
function wholeRun(repo) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/flowbook.js'), 'run', path.join(REPO, 'test/fixtures/flows/s3_flow.ts'), '--quiet'], { encoding: 'utf8', env, cwd: repo });
  if (r.status !== 0) throw new Error(r.stderr);
  return (performance.now() - t0) / 1000;
}

const ops = new Map(checkouts.map(([n]) => [n, []]));
const runs = new Map(checkouts.map(([n]) => [n, []]));
try {
  for (let i = 0; i < REPS; i++) {
    // alternate which goes first, so neither always meets a warm or a cold server
    const order = i % 2 ? [...checkouts].reverse() : checkouts;
    for (const [name, repo] of order) ops.get(name).push(roundTrips(repo, `${i}-${name.length}`));
    for (const [name, repo] of order) runs.get(name).push(wholeRun(repo));
  }
} finally {
  await s3.close();
}
const rows = [];
for (const [name] of checkouts) {
  rows.push([`${name}: small PUT + GET (2 KiB), per round trip`, fmt(median(ops.get(name)) / 1000, 'ms'), `${OPS} round trips × ${REPS}`]);
  rows.push([`${name}: flowbook run s3_flow.ts on S3 (5 steps, foreach of 3)`, fmt(median(runs.get(name))), `${REPS} runs`]);
}
if (baseline) {
  const d = (m) => `${(((median(m.get('this checkout')) / median(m.get('baseline'))) - 1) * 100).toFixed(1)}%`;
  rows.push(['difference, round trip', d(ops), 'bounded calls vs unbounded']);
  rows.push(['difference, whole run', d(runs), '']);
}
table('Bounded S3 calls on the happy path (s3rver on 127.0.0.1, medians of interleaved pairs)', ['benchmark', 'median', 'n'], rows);
