// The argoproj.io custom resources of the fake cluster, driven through @kubernetes/client-node's
// CustomObjectsApi exactly as the product calls them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { type FakeCluster, startFakeCluster } from '../kubernetes/cluster.js';
import { apiError } from '../kubernetes/api-error.js';

const G = { group: 'argoproj.io', version: 'v1alpha1', namespace: 'default' };
let cluster: FakeCluster;
let api: CustomObjectsApi;
let core: CoreV1Api;

const template = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'WorkflowTemplate',
  metadata: { name, labels: { 'app.kubernetes.io/name': 'flowbook' } },
  spec: { entrypoint: 'main', templates: [{ name: 'main', container: { name: 'main', image: 'x:1', command: ['true'] } }], ...extra },
});
const body = (e: ApiException<any>) => (typeof e.body === 'string' ? JSON.parse(e.body) : e.body);

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-api-'));
  cluster = await startFakeCluster({ nodes: [{ name: 'node-1', cpu: 4, memoryMiB: 8192 }], images: { 'x:1': dir } });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  api = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(() => cluster?.close());

describe('argoproj.io custom resources', () => {
  it('create fills metadata like the apiserver; get, list with labelSelector, cluster-wide list', async () => {
    const o: any = await api.createNamespacedCustomObject({ ...G, plural: 'workflowtemplates', body: template('hello') });
    expect(o.metadata).toMatchObject({ name: 'hello', namespace: 'default', generation: 1 });
    expect(o.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(o.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(o.metadata.resourceVersion).toMatch(/^\d+$/);
    const got: any = await api.getNamespacedCustomObject({ ...G, plural: 'workflowtemplates', name: 'hello' });
    expect(got).toEqual(o);
    const list: any = await api.listNamespacedCustomObject({ ...G, plural: 'workflowtemplates', labelSelector: 'app.kubernetes.io/name=flowbook' });
    expect(list).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplateList' });
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(['hello']);
    expect(list.items[0].kind).toBe('WorkflowTemplate');
    const none: any = await api.listNamespacedCustomObject({ ...G, plural: 'workflowtemplates', labelSelector: 'app.kubernetes.io/name=other' });
    expect(none.items).toEqual([]);
    const all: any = await api.listClusterCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'workflowtemplates' });
    expect(all.items).toHaveLength(1);
  });

  it('duplicate → 409 AlreadyExists; missing → 404 NotFound; generateName', async () => {
    const dup = await apiError(api.createNamespacedCustomObject({ ...G, plural: 'workflowtemplates', body: template('hello') }));
    expect(dup.code).toBe(409);
    expect(body(dup)).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', message: 'workflowtemplates.argoproj.io "hello" already exists' });
    const nf = await apiError(api.getNamespacedCustomObject({ ...G, plural: 'workflowtemplates', name: 'nope' }));
    expect(nf.code).toBe(404);
    expect(body(nf)).toMatchObject({ reason: 'NotFound', message: 'workflowtemplates.argoproj.io "nope" not found' });
    const wf: any = await api.createNamespacedCustomObject({ ...G, plural: 'cronworkflows', body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow', metadata: { generateName: 'cron-' }, spec: { schedules: ['0 * * * *'], workflowSpec: { workflowTemplateRef: { name: 'hello' } } } } });
    expect(wf.metadata.name).toMatch(/^cron-[a-z0-9]{5}$/);
  });

  it('PUT needs the current resourceVersion: stale → 409 Conflict; generation counts spec changes', async () => {
    const cur: any = await api.getNamespacedCustomObject({ ...G, plural: 'workflowtemplates', name: 'hello' });
    const next = structuredClone(cur);
    next.spec.templates[0].container.command = ['false'];
    const put: any = await api.replaceNamespacedCustomObject({ ...G, plural: 'workflowtemplates', name: 'hello', body: next });
    expect(put.metadata.generation).toBe(2);
    expect(put.metadata.uid).toBe(cur.metadata.uid);
    expect(Number(put.metadata.resourceVersion)).toBeGreaterThan(Number(cur.metadata.resourceVersion));
    const stale = await apiError(api.replaceNamespacedCustomObject({ ...G, plural: 'workflowtemplates', name: 'hello', body: next }));
    expect(stale.code).toBe(409);
    expect(body(stale)).toMatchObject({ reason: 'Conflict' });
    expect(body(stale).message).toContain('the object has been modified');
    const { resourceVersion: _r, ...md } = put.metadata;
    const norv = await apiError(api.replaceNamespacedCustomObject({ ...G, plural: 'workflowtemplates', name: 'hello', body: { ...put, metadata: md } }));
    expect(norv.code).toBe(422);
  });

  it('a body the Argo schema refuses → 422 Invalid, recorded in rejected', async () => {
    const bad = template('bad');
    delete (bad.spec.templates[0].container as any).name;
    const e = await apiError(api.createNamespacedCustomObject({ ...G, plural: 'workflowtemplates', body: bad }));
    expect(e.code).toBe(422);
    expect(body(e)).toMatchObject({ reason: 'Invalid', message: 'WorkflowTemplate.argoproj.io "bad" is invalid: spec.templates[0].container.name: Required value' });
    expect(cluster.rejected.at(-1)?.error).toContain('spec.templates[0].container.name');
    const badName = await apiError(api.createNamespacedCustomObject({ ...G, plural: 'workflowtemplates', body: template('Bad_Name') }));
    expect(badName.code).toBe(422);
  });

  it('delete → Success Status, then 404; a Workflow takes its pods with it', async () => {
    const del: any = await api.deleteNamespacedCustomObject({ ...G, plural: 'workflowtemplates', name: 'hello' });
    expect(del).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'hello', group: 'argoproj.io', kind: 'workflowtemplates' } });
    expect((await apiError(api.deleteNamespacedCustomObject({ ...G, plural: 'workflowtemplates', name: 'hello' }))).code).toBe(404);
    const wf: any = await api.createNamespacedCustomObject({ ...G, plural: 'workflows', body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'w1' }, spec: { workflowTemplateRef: { name: 'x' } } } });
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'w1-pod', ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name: 'w1', uid: wf.metadata.uid, controller: true }] }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'x:1', command: ['sleep', '30'] }] } },
    });
    expect(cluster.pods().map((p) => p.metadata.name)).toContain('w1-pod');
    await api.deleteNamespacedCustomObject({ ...G, plural: 'workflows', name: 'w1' });
    const end = Date.now() + 5000;
    while (cluster.pods().some((p) => p.metadata.name === 'w1-pod') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(cluster.pods().map((p) => p.metadata.name)).not.toContain('w1-pod');
  });

  it('bare pods: POST validates like the apiserver', async () => {
    const e = await apiError(core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'Main_1', image: 'x:1' }] } } }));
    expect(e.code).toBe(422);
    expect(body(e).message).toContain('spec.containers[0].name: Invalid value: "Main_1"');
  });
});
