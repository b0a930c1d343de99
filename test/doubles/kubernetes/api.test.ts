// The fake Kubernetes cluster (test/doubles/kubernetes/) driven through the real @kubernetes/client-node, with
// the calls the product makes: create/read/list/delete Jobs and Pods, Watch, Log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { BatchV1Api, CoreV1Api, KubeConfig, Log, Watch } from '@kubernetes/client-node';
import { type FakeCluster, startFakeCluster } from './cluster.js';
import { apiError } from './api-error.js';

const IMAGE = 'registry.example/flowbook-task:1';
let cluster: FakeCluster;
let kc: KubeConfig;
let batch: BatchV1Api;
let core: CoreV1Api;
let imageDir: string;

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function job(name: string, container: Record<string, unknown>, spec: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { app: 'flowbook' } },
    spec: { backoffLimit: 0, ...spec, template: { metadata: { labels: { app: 'flowbook' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: IMAGE, ...container }] } } },
  };
}

const podOf = (jobName: string) => waitFor(`pod of ${jobName}`, () => cluster.pods().find((p) => p.metadata.labels['job-name'] === jobName));
const jobCond = (name: string, type: string) =>
  waitFor(`${name} ${type}`, async () => (await batch.readNamespacedJob({ name, namespace: 'default' })).status?.conditions?.find((c) => c.type === type && c.status === 'True'));
const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
};
async function readLog(pod: string, follow: boolean): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const ended = new Promise((r) => out.on('end', r));
  await new Log(kc).log('default', pod, 'main', out, { follow });
  await ended;
  return text;
}

beforeAll(async () => {
  imageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-image-'));
  fs.mkdirSync(path.join(imageDir, 'bin'));
  cluster = await startFakeCluster({
    nodes: [
      { name: 'node-1', cpu: 4, memoryMiB: 8192 },
      { name: 'node-2', cpu: 4, memoryMiB: 8192, gpu: 1, labels: { accelerator: 'nvidia' } },
    ],
    images: { [IMAGE]: imageDir },
    secrets: { 'default/creds': { AWS_ACCESS_KEY_ID: 'AKIAFAKE', AWS_SECRET_ACCESS_KEY: 's3cr3t' } },
  });
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  batch = kc.makeApiClient(BatchV1Api);
  core = kc.makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await cluster?.close();
  fs.rmSync(imageDir, { recursive: true, force: true });
});

describe('fake kubernetes cluster through @kubernetes/client-node', () => {
  it('runs a Job: watch sees Pending → Running → Succeeded, the log has the output, the Job completes', async () => {
    const events: string[] = [];
    const watch = await new Watch(kc).watch('/api/v1/namespaces/default/pods', { labelSelector: 'job-name=hello' }, (type, obj) => events.push(`${type}:${obj.status?.phase}`), () => {});
    const created = await batch.createNamespacedJob({
      namespace: 'default',
      body: job('hello', {
        command: ['node', '-e', "setTimeout(() => console.log('hi ' + process.env.MY_NODE), 300)"],
        env: [{ name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        resources: { requests: { cpu: '500m', memory: '256Mi' } },
      }),
    });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.spec?.template.metadata?.labels?.['job-name']).toBe('hello');
    const pod = await podOf('hello');
    expect(pod.metadata.name).toMatch(/^hello-[a-z0-9]{5}$/);
    expect(pod.metadata.ownerReferences[0]).toMatchObject({ kind: 'Job', name: 'hello', uid: created.metadata!.uid, controller: true });
    await waitFor('Running', async () => (await core.readNamespacedPod({ name: pod.metadata.name, namespace: 'default' })).status?.phase === 'Running');
    const followed = readLog(pod.metadata.name, true); // streams until the container ends
    const complete = await jobCond('hello', 'Complete');
    expect(complete.reason).toBe('CompletionsReached');
    expect(await followed).toBe('hi node-1\n');
    expect(await readLog(pod.metadata.name, false)).toBe('hi node-1\n');
    const j = await batch.readNamespacedJob({ name: 'hello', namespace: 'default' });
    expect(j.status?.succeeded).toBe(1);
    expect(j.status?.completionTime).toBeInstanceOf(Date);
    const listed = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'job-name=hello,app=flowbook' });
    expect(listed.items.map((p) => p.status?.containerStatuses?.[0].state?.terminated?.reason)).toEqual(['Completed']);
    watch.abort();
    const phases = events.map((e) => e.split(':')[1]).filter((p, i, a) => p !== a[i - 1]);
    expect(phases).toEqual(['Pending', 'Running', 'Succeeded']);
  });

  it('refuses invalid Jobs with 422 Invalid and records them', async () => {
    const before = cluster.rejected.length;
    const noImage = await apiError(batch.createNamespacedJob({ namespace: 'default', body: job('no-image', { image: undefined, command: ['true'] }) }));
    expect(noImage.code).toBe(422);
    expect(JSON.parse(noImage.body).message).toBe('Job.batch "no-image" is invalid: spec.template.spec.containers[0].image: Required value');
    const badLabel = job('bad-label', { command: ['true'] });
    badLabel.metadata.labels = { run: 'has spaces!' };
    expect((await apiError(batch.createNamespacedJob({ namespace: 'default', body: badLabel }))).code).toBe(422);
    const noPolicy = job('no-policy', { command: ['true'] });
    delete noPolicy.spec.template.spec.restartPolicy;
    const e = await apiError(batch.createNamespacedJob({ namespace: 'default', body: noPolicy }));
    expect(JSON.parse(e.body).message).toContain('spec.template.spec.restartPolicy: Unsupported value: "Always"');
    const badQty = job('bad-qty', { command: ['true'], resources: { limits: { memory: '12 GB' } } });
    expect((await apiError(batch.createNamespacedJob({ namespace: 'default', body: badQty }))).code).toBe(422);
    const upper = job('Upper_Case', { command: ['true'] });
    expect((await apiError(batch.createNamespacedJob({ namespace: 'default', body: upper }))).code).toBe(422);
    expect(cluster.rejected.length - before).toBe(5);
    expect(cluster.rejected.at(-1)!.error).toContain('metadata.name: Invalid value: "Upper_Case"');
    expect(cluster.jobs().map((j) => j.metadata.name)).not.toContain('no-image');
    await batch.createNamespacedJob({ namespace: 'default', body: job('twice', { command: ['true'] }) });
    expect((await apiError(batch.createNamespacedJob({ namespace: 'default', body: job('twice', { command: ['true'] }) }))).code).toBe(409);
    expect((await apiError(batch.readNamespacedJob({ name: 'nope', namespace: 'default' }))).code).toBe(404);
  });

  it('leaves a pod that fits no node Pending with the scheduler message', async () => {
    await batch.createNamespacedJob({ namespace: 'default', body: job('too-big', { command: ['true'], resources: { requests: { cpu: '16', memory: '64Gi' } } }) });
    const pod = await podOf('too-big');
    const cond = await waitFor('Unschedulable', () => cluster.pods().find((p) => p.metadata.name === pod.metadata.name)?.status.conditions?.find((c: any) => c.reason === 'Unschedulable'));
    expect(cond.message).toBe('0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
    const gpu = job('gpu', { command: ['true'], resources: { limits: { 'nvidia.com/gpu': 2 } } });
    await batch.createNamespacedJob({ namespace: 'default', body: gpu });
    const gpuPod = await podOf('gpu');
    const c2 = await waitFor('gpu Unschedulable', () => cluster.pods().find((p) => p.metadata.name === gpuPod.metadata.name)?.status.conditions?.find((c: any) => c.reason === 'Unschedulable'));
    expect(c2.message).toBe('0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
    const log = await apiError(new Log(kc).log('default', pod.metadata.name, 'main', new PassThrough(), { follow: true }));
    expect(log.code).toBe(400);
    await batch.deleteNamespacedJob({ name: 'too-big', namespace: 'default', propagationPolicy: 'Background' });
    await batch.deleteNamespacedJob({ name: 'gpu', namespace: 'default', propagationPolicy: 'Background' });
  });

  it('reports ErrImagePull then ImagePullBackOff for an unknown image, and the pod stays Pending', async () => {
    const reasons: string[] = [];
    const watch = await new Watch(kc).watch('/api/v1/namespaces/default/pods', { labelSelector: 'job-name=no-such-image' }, (_t, obj) => {
      const r = obj.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (r && r !== reasons.at(-1)) reasons.push(r);
    }, () => {});
    await batch.createNamespacedJob({ namespace: 'default', body: job('no-such-image', { image: 'ghcr.io/nobody/nothing:0', command: ['true'] }) });
    await waitFor('ImagePullBackOff', () => reasons.includes('ImagePullBackOff'));
    watch.abort();
    expect(reasons.slice(0, 3)).toEqual(['ContainerCreating', 'ErrImagePull', 'ImagePullBackOff']);
    const pod = await podOf('no-such-image');
    expect(pod.status.phase).toBe('Pending');
    const read = await core.readNamespacedPod({ name: pod.metadata.name, namespace: 'default' });
    expect(read.status?.containerStatuses?.[0].state?.waiting?.message).toBe('Back-off pulling image "ghcr.io/nobody/nothing:0"');
    const err = await apiError(core.readNamespacedPodLog({ name: pod.metadata.name, namespace: 'default' }));
    expect(err.code).toBe(400);
    expect(JSON.parse(err.body).message).toBe(`container "main" in pod "${pod.metadata.name}" is waiting to start: trying and failing to pull image`);
    await batch.deleteNamespacedJob({ name: 'no-such-image', namespace: 'default', propagationPolicy: 'Background' });
  });

  it('OOM-kills a process tree that grows past its memory limit', async () => {
    await batch.createNamespacedJob({
      namespace: 'default',
      body: job('hungry', { command: ['node', '-e', 'const a=[];setInterval(()=>a.push(Buffer.alloc(16<<20,1)),10)'], resources: { limits: { memory: '100Mi' } } }),
    });
    const failed = await jobCond('hungry', 'Failed');
    expect(failed.reason).toBe('BackoffLimitExceeded');
    expect(failed.message).toBe('Job has reached the specified backoff limit');
    const pod = await podOf('hungry');
    expect(pod.status.phase).toBe('Failed');
    expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect((await batch.readNamespacedJob({ name: 'hungry', namespace: 'default' })).status?.failed).toBe(1);
  });

  it('enforces activeDeadlineSeconds: the process is killed and the Job fails with DeadlineExceeded', async () => {
    await batch.createNamespacedJob({ namespace: 'default', body: job('slow', { command: ['node', '-e', 'setInterval(() => {}, 1000)'] }, { activeDeadlineSeconds: 1 }) });
    const pod = await podOf('slow');
    const pid = await waitFor('process', () => cluster.runningProcesses()[0]);
    expect(gone(pid)).toBe(false);
    const failed = await jobCond('slow', 'Failed');
    expect(failed).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(gone(pid)).toBe(true);
    const p = cluster.pods().find((x) => x.metadata.name === pod.metadata.name);
    expect(p.status).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded' });
  });

  it('deleteNamespacedJob with Background kills the running process and removes the pod', async () => {
    const deleted: string[] = [];
    const watch = await new Watch(kc).watch('/api/v1/namespaces/default/pods', { labelSelector: 'job-name=doomed' }, (type, obj) => type === 'DELETED' && deleted.push(obj.metadata.name), () => {});
    await batch.createNamespacedJob({ namespace: 'default', body: job('doomed', { command: ['node', '-e', 'setInterval(() => {}, 1000)'] }) });
    const pod = await podOf('doomed');
    const pid = await waitFor('process', () => cluster.runningProcesses()[0]);
    await batch.deleteNamespacedJob({ name: 'doomed', namespace: 'default', propagationPolicy: 'Background' });
    await waitFor('pod DELETED', () => deleted.includes(pod.metadata.name));
    watch.abort();
    expect(gone(pid)).toBe(true);
    expect(cluster.runningProcesses()).toEqual([]);
    expect(cluster.jobs().map((j) => j.metadata.name)).not.toContain('doomed');
  });

  it('passes envFrom secrets and $(VAR) references to the process; a missing secret is CreateContainerConfigError', async () => {
    await batch.createNamespacedJob({
      namespace: 'default',
      body: job('secrets', {
        command: ['node', '-e', 'console.log(process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY, process.argv[1], process.env.HOSTNAME === process.env.POD)'],
        args: ['$(AWS_ACCESS_KEY_ID)-x'],
        envFrom: [{ secretRef: { name: 'creds' } }],
        env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      }),
    });
    await jobCond('secrets', 'Complete');
    const pod = await podOf('secrets');
    expect(await readLog(pod.metadata.name, false)).toBe('AKIAFAKE s3cr3t AKIAFAKE-x true\n');

    await batch.createNamespacedJob({ namespace: 'default', body: job('no-secret', { command: ['true'], envFrom: [{ secretRef: { name: 'nope' } }] }) });
    const p2 = await podOf('no-secret');
    const waiting = await waitFor('CreateContainerConfigError', () => cluster.pods().find((p) => p.metadata.name === p2.metadata.name)?.status.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' && cluster.pods().find((p) => p.metadata.name === p2.metadata.name));
    expect(waiting.status.containerStatuses[0].state.waiting.message).toBe('secret "nope" not found');
    expect(waiting.status.phase).toBe('Pending');
    await batch.deleteNamespacedJob({ name: 'no-secret', namespace: 'default', propagationPolicy: 'Background' });
  });

  it('recreates failed pods up to backoffLimit, and orphans pods when deleted without a propagationPolicy', async () => {
    await batch.createNamespacedJob({ namespace: 'default', body: job('flaky', { command: ['node', '-e', 'process.exit(3)'] }, { backoffLimit: 1 }) });
    await jobCond('flaky', 'Failed');
    const pods = cluster.pods().filter((p) => p.metadata.labels['job-name'] === 'flaky');
    expect(pods.map((p) => p.status.containerStatuses[0].state.terminated)).toMatchObject([{ exitCode: 3, reason: 'Error' }, { exitCode: 3, reason: 'Error' }]);
    expect((await batch.readNamespacedJob({ name: 'flaky', namespace: 'default' })).status?.failed).toBe(2);
    await batch.deleteNamespacedJob({ name: 'flaky', namespace: 'default' }); // the API default for Jobs is Orphan
    const left = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'job-name=flaky' })).items;
    expect(left).toHaveLength(2);
    expect(left[0].metadata?.ownerReferences).toBeUndefined();
  });

  it('resumes a watch from a resourceVersion', async () => {
    const list = await batch.listNamespacedJob({ namespace: 'default' });
    const rv = list.metadata!.resourceVersion!;
    const seen: string[] = [];
    const w = await new Watch(kc).watch('/apis/batch/v1/namespaces/default/jobs', { resourceVersion: rv }, (type, obj) => seen.push(`${type} ${obj.metadata.name}`), () => {});
    await batch.createNamespacedJob({ namespace: 'default', body: job('after-rv', { command: ['true'] }) });
    await waitFor('ADDED after-rv', () => seen.includes('ADDED after-rv'));
    w.abort();
    expect(seen.filter((s) => s.startsWith('ADDED'))).toEqual(['ADDED after-rv']); // nothing from before rv
  });

  it('rejects a wrong bearer token with 401', async () => {
    const bad = new KubeConfig();
    bad.loadFromString(fs.readFileSync(cluster.kubeconfigPath, 'utf8').replace(/token: .*/, 'token: wrong'));
    const e = await apiError(bad.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: 'default' }));
    expect(e.code).toBe(401);
  });
});
