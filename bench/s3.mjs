// S3 datastore benchmarks (issue 05) against a local S3 server (s3rver): save and cold read of a
// 100 MB random artifact, latestSuccessfulRun over the marker index, and the bytes a re-run of an
// unchanged flow uploads for its code package.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { median, table, fmt, REPO } from './lib.mjs';
import { startS3 } from './s3lib.mjs';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const s3 = await startS3();
Object.assign(process.env, s3.env);
const { FlowDatastore } = await import('../dist/datastore/store.js');
const { runIndexFor } = await import('../dist/datastore/index-files.js');
const { uploadCodePackage } = await import('../dist/compute/code-package.js');
const rows = [];
try {
  const MB = 100 * 2 ** 20;
  const saves = [];
  const reads = [];
  for (let i = 0; i < REPS; i++) {
    const store = new FlowDatastore(s3.root, `BigFlow${i}`);
    const value = crypto.randomBytes(MB);
    const t0 = performance.now();
    const ref = await store.putArtifact('big', value);
    saves.push((performance.now() - t0) / 1000);
    const code = `
      const { FlowDatastore } = await import(${JSON.stringify(REPO + '/dist/datastore/store.js')});
      const s = new FlowDatastore(${JSON.stringify(s3.root)}, 'BigFlow${i}');
      const t0 = performance.now();
      const v = await s.getArtifact('big', ${JSON.stringify(ref)});
      if (v.length !== ${MB}) throw new Error('bad length');
      console.log((performance.now() - t0) / 1000);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: process.env });
    if (r.status !== 0) throw new Error(r.stderr);
    reads.push(Number(r.stdout.trim()));
  }
  const mb = MB / 1e6;
  rows.push(['save a 100 MB random artifact to S3 (HEAD + multipart, 4 parts at once)', `${fmt(median(saves))} (${(mb / median(saves)).toFixed(0)} MB/s)`, 'local store: 377 MB/s']);
  rows.push(['cold read of it (new process, sha256 verified)', `${fmt(median(reads))} (${(mb / median(reads)).toFixed(0)} MB/s)`, 'local store: 0.097 s']);

  // the marker index: one LIST of one key, whatever the number of runs
  for (const n of [10, 300]) {
    const store = new FlowDatastore(s3.root, `Runs${n}`);
    const index = runIndexFor(store.backend, `Runs${n}`);
    const base = { status: 'succeeded', createdAt: new Date().toISOString(), user: 'bench', tags: [], systemTags: ['user:bench'], params: {}, flowFile: 'x.ts', sourceSha: '0', host: 'h', pid: 1 };
    for (let i = 0; i < n; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, n - i) }, async (_, j) => {
        const id = String(1_700_000_000_000 + i + j);
        await index.runStarted(id, ['user:bench']);
        if ((i + j) % 3 !== 2) await index.runSucceeded(id, ['user:bench']);
      }));
    }
    const times = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      await index.latestSuccessful('user:bench');
      times.push((performance.now() - t0) / 1000);
    }
    rows.push([`latestSuccessful on S3, ${n} runs (one LIST, max-keys 1)`, fmt(median(times), 'ms'), 'flat in the number of runs']);
  }

  // the code package: content-addressed, so an unchanged flow uploads nothing the second time
  const store = new FlowDatastore(s3.root, 'YouTubeVideoTranscription');
  const first = await uploadCodePackage(store, `${REPO}/flows/youtube_transcription.ts`);
  const t0 = performance.now();
  const again = await uploadCodePackage(store, `${REPO}/flows/youtube_transcription.ts`);
  const againS = (performance.now() - t0) / 1000;
  rows.push([`code package of youtube_transcription.ts: first upload (${first.files} files)`, `${first.uploadedBytes} bytes`, '']);
  rows.push(['re-run of the unchanged flow', `${again.uploadedBytes} bytes uploaded in ${fmt(againS)}`, '0 bytes']);
} finally {
  await s3.close();
}
table('S3 datastore against s3rver on 127.0.0.1 (median)', ['benchmark', 'flowbook', 'target / reference'], rows);
