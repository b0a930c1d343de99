// Runner overhead per pod task (issue 05), on the Kubernetes API double from test/doubles/kubernetes (loaded
// through flowbook's own TypeScript hooks) with s3rver: bench/flows/pods.ts with 2 and with 8
// trivial pod tasks run one at a time; the difference over 6 is what one pod task costs from
// submit through Running to done, as the runner sees it. Each pod is a fresh Node process that
// fetches the code package (as a fresh container would). API calls are counted at the double.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { median, table, fmt, REPO, BIN } from './lib.mjs';
import { startS3 } from './s3lib.mjs'; // also registers the TypeScript hooks

const { startFakeCluster } = await import('../test/doubles/kubernetes/cluster.ts');

const REPS = Number(process.env.BENCH_REPS ?? 3);
const IMAGE = 'bench/flowbook:1';
const s3 = await startS3();
const cluster = await startFakeCluster({
  nodes: [{ name: 'node-a', cpu: 4, memoryMiB: 16384 }],
  images: { [IMAGE]: REPO },
  secrets: { 'default/s3': { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } },
});
const env = { ...process.env, ...s3.env, KUBECONFIG: cluster.kubeconfigPath, FLOWBOOK_KUBERNETES_IMAGE: IMAGE, FLOWBOOK_KUBERNETES_SECRETS: 's3' };

/** wall seconds of `flowbook run …`, without blocking this process (it serves the API) */
function timeRun(args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(err))));
  });
}

const rows = [];
try {
  const flow = path.join(REPO, 'bench/flows/pods.ts');
  await timeRun(['run', flow, '--quiet', '--n', '1']); // warm the runner's TypeScript cache
  const t = { 2: [], 8: [] };
  let calls = [];
  for (let i = 0; i < REPS; i++) {
    for (const n of [2, 8]) {
      const before = cluster.requests.length;
      t[n].push(await timeRun(['run', flow, '--quiet', '--n', String(n), '--max-workers', '1']));
      if (process.env.BENCH_VERBOSE) console.error(n, t[n].at(-1));
      if (n === 8) calls = cluster.requests.slice(before);
    }
  }
  const perTask = (median(t[8]) - median(t[2])) / 6;
  const kinds = {};
  for (const r of calls) {
    const k = `${r.method} ${r.path.replace(/\/namespaces\/[^/]+/, '/namespaces/NS').replace(/\/pods\/[^/]+\/log$/, '/pods/POD/log')}${/watch=(true|1)/.test(r.query) ? ' (watch)' : ''}`;
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  rows.push(['PodsFlow, 2 pod tasks one at a time (whole run)', fmt(median(t[2])), 'connect, code package, 2 pods, 3 local steps']);
  rows.push(['PodsFlow, 8 pod tasks one at a time (whole run)', fmt(median(t[8])), '']);
  rows.push(['each pod task: submit → Running → done', fmt(perTask), '(8 − 2 runs) / 6; includes the pod process itself']);
  rows.push(['API calls per pod task (8-task run)', (calls.length / 8).toFixed(2), Object.entries(kinds).map(([k, n]) => `${k}: ${n}`).join('; ')]);
} finally {
  await cluster.close();
  await s3.close();
}
table(`Kubernetes runner on the API double (median of ${REPS})`, ['benchmark', 'flowbook', 'notes'], rows);
