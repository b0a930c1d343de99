// The Kubernetes runner under API faults, through a TCP proxy in front of the API double: a 4 s
// loss of the connection mid-run is survived (the watch reconnects with backoff, resyncs from a
// listing, the run succeeds and the console says the API was unreachable); an outage past
// FLOWBOOK_KUBERNETES_API_TIMEOUT fails the run with that reason, and resume finishes it once the API
// is back; a 403 on the pod watch is one line naming the verb and the resource, at once.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { flowbookAsyncResult as flowbook, flowbookAsync, fixture, tempDir, errorLine, exited, wait } from './helpers.js';
import type { FakeCluster } from '../doubles/kubernetes/cluster.js';
import { startApiProxy, type ApiProxy } from '../doubles/kubernetes/proxy.js';
import { startPodTestbed, type PodTestbed } from './pod-testbed.js';

let bed: PodTestbed;
let cluster: FakeCluster;
let proxy: ApiProxy;
let env: Record<string, string>;

beforeAll(async () => {
  bed = await startPodTestbed('k8s-faults');
  cluster = bed.cluster;
  proxy = await startApiProxy(cluster.url, cluster.kubeconfigPath, tempDir('flowbook-k8s-proxy-'));
  // every call of the runner goes through the proxy
  env = bed.env(proxy.kubeconfigPath);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await bed?.close();
});

/** Resolves once a work pod of the run that `err` announces runs (pods of earlier runs may still be there). */
async function workPodRunning(err: () => string) {
  for (let i = 0; i < 300 && !/Running K8sFlow\/\d+/.test(err()); i++) await wait(50);
  const id = /Running K8sFlow\/(\d+)/.exec(err())?.[1];
  for (let i = 0; i < 300 && !cluster.pods().some((p) => p.status?.phase === 'Running' && p.metadata.labels['flowbook/step-name'] === 'work' && p.metadata.labels['flowbook/run-id'] === id); i++) await wait(100);
}

/** K8sFlow in slow mode; resolves once a work pod runs */
async function slowRun(extra: Record<string, string> = {}) {
  const child = flowbookAsync(['run', fixture('k8s_flow.ts'), '--mode', 'slow'], { env: { ...env, ...extra } });
  let err = '';
  let out = '';
  child.stderr.on('data', (c) => (err += c));
  child.stdout.on('data', (c) => (out += c));
  await workPodRunning(() => err);
  return { child, err: () => err, out: () => out };
}

describe('Kubernetes API faults', () => {
  it('a 4 s loss of the API mid-run: the watch reconnects and resyncs, the run succeeds, the console says so', async () => {
    const { child, err, out } = await slowRun();
    await proxy.stop();
    await wait(4000);
    await proxy.start();
    const code = await exited(child);
    expect(code, err()).toBe(0);
    expect(err()).toMatch(/Kubernetes API unreachable for \d+ s, retrying/);
    expect(err()).toMatch(/Kubernetes API reachable again after \d+ s/);
    expect(err()).toMatch(/K8sFlow\/\d+ succeeded/);
    // the pods' log streams were cut too: followed again from their last line, each line shows once
    for (const i of [1, 2, 3]) {
      expect(out().match(new RegExp(`work ${i} on `, 'g')) ?? [], `work ${i}`).toHaveLength(1);
      expect(out().match(new RegExp(`work ${i} slept`, 'g')) ?? [], `work ${i}`).toHaveLength(1);
    }
  }, 180_000);

  it('an outage past FLOWBOOK_KUBERNETES_API_TIMEOUT fails the run with that reason; resume finishes it once the API is back', async () => {
    const { child, err } = await slowRun({ FLOWBOOK_KUBERNETES_API_TIMEOUT: '6' });
    await proxy.stop();
    const code = await exited(child);
    await proxy.start();
    expect(code).toBe(1);
    expect(errorLine({ code, stdout: '', stderr: err() })).toMatch(/the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ was unreachable for \d+ s \(FLOWBOOK_KUBERNETES_API_TIMEOUT=6\).*resume the run once it is back/);
    const id = /Running K8sFlow\/(\d+)/.exec(err())![1];
    const resumed = await flowbook(['resume', fixture('k8s_flow.ts'), '--origin-run-id', id], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
  }, 240_000);

  it('stopped while the API is away: the run says its Jobs could not be deleted and how to delete them, never that they were', async () => {
    const { child, err } = await slowRun();
    await proxy.stop();
    try {
      child.kill('SIGTERM');
      expect(await exited(child)).not.toBe(0);
    } finally {
      await proxy.start();
    }
    expect(err()).not.toContain('its Job was deleted');
    expect(err()).toMatch(/the run was stopped, but its Job default\/fb-k8sflow-\S+ could not be deleted: kubectl delete job -n default fb-k8sflow-\S+/);
  }, 120_000);

  it('resume runs where the origin ran: a killed --with kubernetes run resumes with its pods, and says so', async () => {
    const child = flowbookAsync(['run', fixture('k8s_flow.ts'), '--mode', 'slow', '--with', 'kubernetes'], { env });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    await workPodRunning(() => err);
    const origin = /Running K8sFlow\/(\d+)/.exec(err)![1];
    child.kill('SIGKILL');
    await exited(child);
    const r = await flowbook(['resume', fixture('k8s_flow.ts'), '--origin-run-id', origin], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`resume: --with kubernetes, as run K8sFlow/${origin} ran`);
    expect(r.stderr).toMatch(/Kubernetes http:\/\/127\.0\.0\.1:\d+: start, work, join, end run as pods/);
    const resumed = /Resuming K8sFlow\/(\d+)/.exec(r.stderr)![1];
    // the steps that ran again ran as pods of the resumed run, never on this machine
    const podSteps = new Set(cluster.pods().filter((p) => p.metadata.labels['flowbook/run-id'] === resumed).map((p) => p.metadata.labels['flowbook/step-name']));
    expect(podSteps.has('join') && podSteps.has('end')).toBe(true);
    // --with given to resume changes it, and moving steps off pods is said
    const again = await flowbook(['resume', fixture('k8s_flow.ts'), '--origin-run-id', resumed, '--with', 'none'], { env });
    expect(again.stderr).toContain(`resume: --with none (run K8sFlow/${resumed} ran with --with kubernetes)`);
    expect(again.stderr).toContain(`note: run K8sFlow/${resumed} ran every step as a pod (--with kubernetes); this resume runs them on this machine (only steps with @kubernetes go to pods), as --with asks`);
  }, 240_000);

  it('a secret given on the command line is refused when steps run as pods (they would read another value), before anything runs', async () => {
    const r = await flowbook(['run', fixture('secret.ts'), '--api-token', 'from-the-command-line', '--with', 'kubernetes'], { env });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe(
      "error: secret parameter --api-token was given on the command line, but start, end run as pods, which cannot receive it (a pod's spec is readable in the Kubernetes API): put it in a Kubernetes Secret under the key MY_API_TOKEN, name the Secret with --with kubernetes:secrets=NAME (or FLOWBOOK_KUBERNETES_SECRETS), and run without --api-token",
    );
    expect(r.stderr).not.toMatch(/Running SecretFlow/);
    expect(r.stderr + r.stdout).not.toContain('from-the-command-line');
  }, 60_000);

  it("a 403 on a pod's log is one warning naming the verb and the resource; the task runs on, its log in the datastore", async () => {
    proxy.deny(/^GET \/api\/v1\/namespaces\/default\/pods\/[^/]+\/log\?/);
    try {
      const r = await flowbook(['run', fixture('k8s_flow.ts')], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: Kubernetes refused to get pods\/log in namespace default: not allowed \(HTTP 403\).*; the task's log is in the datastore \(flowbook logs K8sFlow\/\d+\/work\/\d+\)/);
      const id = /K8sFlow\/(\d+) succeeded/.exec(r.stderr)![1];
      const logs = await flowbook(['logs', `K8sFlow/${id}/work`], { env });
      expect(logs.stdout).toMatch(/work \d on node-a/);
    } finally {
      proxy.deny(undefined);
    }
  }, 120_000);

  it('a 403 on the pod watch is one line naming the verb and the resource, at once', async () => {
    proxy.deny(/^GET \/api\/v1\/namespaces\/default\/pods\?.*watch=true/);
    try {
      const r = await flowbook(['run', fixture('k8s_flow.ts')], { env: { ...env, FLOWBOOK_KUBERNETES_PENDING_TIMEOUT: '120' }, timeoutMs: 90_000 });
      expect(r.code).toBe(1);
      expect(errorLine(r)).toMatch(/Kubernetes refused to watch pods in namespace default: not allowed \(HTTP 403\)/);
      expect(r.stderr).not.toContain('did not start');
    } finally {
      proxy.deny(undefined);
    }
  }, 120_000);
});
