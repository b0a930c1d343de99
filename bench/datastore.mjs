// Datastore and client benchmarks (issue 01): latestSuccessfulRun vs number of runs, and
// saving / cold-reading a 100 MB random artifact.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { median, tempRoot, table, fmt, REPO } from './lib.mjs';
import { FlowDatastore } from '../dist/datastore/store.js';
import { runIndexFor } from '../dist/datastore/index-files.js';
import { Flow, namespace, setDatastoreRoot } from '../dist/client/index.js';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const rows = [];

async function makeRuns(root, n) {
  const store = new FlowDatastore(root, 'ManyRunsFlow');
  const index = runIndexFor(store.backend, 'ManyRunsFlow');
  const base = { status: 'succeeded', createdAt: new Date().toISOString(), user: 'bench', tags: [], systemTags: ['user:bench'], params: {}, flowFile: 'x.ts', sourceSha: '0', host: 'h', pid: 1 };
  for (let i = 0; i < n; i++) {
    const run = await store.createRun(base);
    await index.runStarted(run.runId, run.systemTags);
    // every third run fails, so the latest successful is not always the latest
    if (i % 3 !== 2) await index.runSucceeded(run.runId, run.systemTags);
  }
}

for (const n of [10, 1000, 10000]) {
  const root = tempRoot();
  await makeRuns(root, n);
  setDatastoreRoot(root);
  namespace('user:bench');
  const flow = Flow('ManyRunsFlow');
  for (let i = 0; i < 20; i++) await flow.latestSuccessfulRun; // warm-up
  const times = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const run = await Flow('ManyRunsFlow').latestSuccessfulRun;
    times.push((performance.now() - t0) / 1000);
    if (!run) throw new Error('no run found');
  }
  rows.push([`latestSuccessfulRun, ${n} runs`, fmt(median(times), 'ms'), '≤ 1 ms, flat', '10.6 ms at 200 runs, linear']);
}

{
  const saves = [];
  const reads = [];
  for (let i = 0; i < REPS; i++) {
    const root = tempRoot();
    const store = new FlowDatastore(root, 'BigFlow');
    const value = crypto.randomBytes(100 * 2 ** 20);
    const t0 = performance.now();
    const ref = await store.putArtifact('big', value);
    saves.push((performance.now() - t0) / 1000);
    // cold read: a fresh Node process reads it through the verified path
    const code = `
      const { FlowDatastore } = await import(${JSON.stringify(REPO + '/dist/datastore/store.js')});
      const s = new FlowDatastore(${JSON.stringify(root)}, 'BigFlow');
      const t0 = performance.now();
      const v = await s.getArtifact('big', ${JSON.stringify(ref)});
      if (v.length !== ${100 * 2 ** 20}) throw new Error('bad length');
      console.log((performance.now() - t0) / 1000);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    reads.push(Number(r.stdout.trim()));
  }
  const mb = 100 * 2 ** 20 / 1e6;
  rows.push(['save a 100 MB random artifact', `${fmt(median(saves))} (${(mb / median(saves)).toFixed(0)} MB/s)`, '≥ 300 MB/s', '2.8 s (36 MB/s)']);
  rows.push(['cold read of it (new process, sha256 verified)', fmt(median(reads)), '≤ 0.15 s', '0.50 s']);
}

table(`Datastore and client (median; lookups: 200 calls)`, ['benchmark', 'flowbook', 'target', 'Metaflow'], rows);
