// Runner overhead per pod task (issue 05), on the Kubernetes API double from test/k8s (loaded
// through flowbook's own TypeScript hooks) with s3rver: the 4-step LinearFlow, every step a pod
// (`--with kubernetes`), against the same flow run locally on the same S3 datastore. Each pod is
// a fresh Node process that fetches the code package, so this measures submit → Running → done
// as the runner sees it; API calls are counted at the double.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { median, table, fmt, REPO, BIN } from './lib.mjs';
import { startS3 } from './s3lib.mjs'; // also registers the TypeScript hooks

const { startFakeCluster } = await import('../test/k8s/cluster.ts');

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

const flow = path.join(REPO, 'test/fixtures/flows/linear.ts');
const TASKS = 4;
const rows = [];
try {
  await timeRun(['run', flow, '--quiet']); // warm the TypeScript cache
  const local = [];
  const remote = [];
  let calls = 0;
  for (let i = 0; i < REPS; i++) {
    local.push(await timeRun(['run', flow, '--quiet']));
    const before = cluster.requests.length;
    remote.push(await timeRun(['run', flow, '--quiet', '--with', 'kubernetes']));
    calls = cluster.requests.slice(before);
  }
  const perTask = (median(remote) - median(local)) / TASKS;
  const kinds = {};
  for (const r of calls) {
    const k = `${r.method} ${r.path.replace(/\/namespaces\/[^/]+/, '/namespaces/NS').replace(/\/pods\/[^/]+\/log$/, '/pods/POD/log')}${/watch=(true|1)/.test(r.query) ? ' (watch)' : ''}`;
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  rows.push(['LinearFlow (4 steps) locally, S3 datastore', fmt(median(local)), '']);
  rows.push(['LinearFlow with every step a pod (--with kubernetes)', fmt(median(remote)), '']);
  rows.push(['runner overhead per pod task (submit → Running → done)', fmt(perTask), 'a Node start + code fetch per pod']);
  rows.push(['API calls per pod task', (calls.length / TASKS).toFixed(2), Object.entries(kinds).map(([k, n]) => `${k}: ${n}`).join('; ')]);
} finally {
  await cluster.close();
  await s3.close();
}
table(`Kubernetes runner on the API double (median of ${REPS})`, ['benchmark', 'flowbook', 'notes'], rows);
