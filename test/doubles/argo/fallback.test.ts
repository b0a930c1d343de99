// The controller emulator without mount namespaces (pods with outputs run one at a time on the real
// path), plus spec.parallelism, a failing exit handler and a Workflow deleted mid-run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { type FakeCluster, startFakeCluster } from '../kubernetes/cluster.js';
import { type ArgoController, startArgoController } from './controller.js';

const IMAGE = 'registry.example/argo-steps:1';
const G = { group: 'argoproj.io', version: 'v1alpha1', namespace: 'default' };
let cluster: FakeCluster;
let ctl: ArgoController;
let api: CustomObjectsApi;
let results: string;
let outDir: string;
let image: string;
let n = 0;
const sh = (script: string) => ({ container: { name: 'main', image: IMAGE, command: ['sh', '-c', script], env: [{ name: 'RESULTS', value: results }] } });
const node = (wf: any, display: string) => Object.values(wf.status.nodes as Record<string, any>).find((x) => x.displayName === display);

async function submit(spec: any, wait = true): Promise<any> {
  const name = `f${++n}`;
  await api.createNamespacedCustomObject({ ...G, plural: 'workflowtemplates', body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name }, spec } });
  const wf: any = await api.createNamespacedCustomObject({ ...G, plural: 'workflows', body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { generateName: `${name}-` }, spec: { workflowTemplateRef: { name } } } });
  return wait ? ctl.waitForWorkflow(wf.metadata.name) : wf;
}

beforeAll(async () => {
  image = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-image-'));
  results = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-results-'));
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-outputs-')); // a real path: nothing is mounted over it here
  cluster = await startFakeCluster({ nodes: [{ name: 'node-1', cpu: 64, memoryMiB: 65536 }], images: { [IMAGE]: image } });
  ctl = await startArgoController(cluster, { noMountNamespace: true });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  api = kc.makeApiClient(CustomObjectsApi);
});
afterAll(async () => {
  await ctl?.close();
  await cluster?.close();
  for (const d of [results, outDir, image]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe('controller emulator, serial fallback and lifecycle', () => {
  it('without mount namespaces, pods writing the same output path still get their own values', async () => {
    expect(ctl.isolation).toBe('serial');
    const wf = await submit({
      entrypoint: 'main',
      templates: [
        { name: 'main', dag: { tasks: [{ name: 'body', template: 'body', withItems: [1, 2, 3], arguments: { parameters: [{ name: 'i', value: '{{item}}' }] } }] } },
        { name: 'body', inputs: { parameters: [{ name: 'i' }] }, ...sh(`echo v{{inputs.parameters.i}} > ${outDir}/v`), outputs: { parameters: [{ name: 'v', valueFrom: { path: `${outDir}/v` } }] } },
      ],
    });
    expect(wf.status.phase).toBe('Succeeded');
    expect([1, 2, 3].map((i) => node(wf, `body(${i - 1}:${i})`).outputs.parameters[0].value)).toEqual(['v1', 'v2', 'v3']);
    expect(fs.existsSync(`${outDir}/v`)).toBe(false);
  });

  it('spec.parallelism bounds concurrent pods', async () => {
    const wf = await submit({
      entrypoint: 'main',
      parallelism: 1,
      templates: [
        { name: 'main', dag: { tasks: ['a', 'b', 'c'].map((t) => ({ name: t, template: 'step', arguments: { parameters: [{ name: 't', value: t }] } })) } },
        { name: 'step', inputs: { parameters: [{ name: 't' }] }, ...sh('echo start >> $RESULTS/par; sleep 0.3; echo end >> $RESULTS/par') },
      ],
    });
    expect(wf.status.phase).toBe('Succeeded');
    expect(fs.readFileSync(path.join(results, 'par'), 'utf8').trim().split('\n')).toEqual(['start', 'end', 'start', 'end', 'start', 'end']);
  });

  it('a failing exit handler fails an otherwise successful workflow', async () => {
    const wf = await submit({ entrypoint: 'ok', onExit: 'bad', templates: [{ name: 'ok', ...sh('true') }, { name: 'bad', ...sh('exit 2') }] });
    expect(wf.status.phase).toBe('Failed');
    expect(wf.status.message).toBe('Error (exit code 2)');
    expect(node(wf, `${wf.metadata.name}.onExit`).phase).toBe('Failed');
  });

  it('a CronWorkflow fires a Workflow from its workflowSpec (labelled with the cron name)', async () => {
    await submit({ entrypoint: 'ok', templates: [{ name: 'ok', ...sh('true') }] });
    await api.createNamespacedCustomObject({ ...G, plural: 'cronworkflows', body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow', metadata: { name: 'nightly' }, spec: { schedules: ['0 3 * * *'], workflowSpec: { workflowTemplateRef: { name: `f${n}` } } } } });
    const wf = await ctl.waitForWorkflow(await ctl.fireCronWorkflow('nightly'));
    expect(wf.status.phase).toBe('Succeeded');
    expect(wf.metadata.labels).toMatchObject({ 'workflows.argoproj.io/cron-workflow': 'nightly', 'workflows.argoproj.io/workflow-template': `f${n}` });
  });

  it('deleting a running Workflow deletes its pods and schedules nothing more', async () => {
    const wf = await submit({ entrypoint: 'main', templates: [{ name: 'main', dag: { tasks: [{ name: 'a', template: 'slow' }, { name: 'b', template: 'slow', depends: 'a' }] } }, { name: 'slow', ...sh('sleep 30') }] }, false);
    const owned = () => cluster.pods().filter((p) => p.metadata.labels['workflows.argoproj.io/workflow'] === wf.metadata.name);
    for (const end = Date.now() + 5000; owned().length === 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    expect(owned()).toHaveLength(1);
    await api.deleteNamespacedCustomObject({ ...G, plural: 'workflows', name: wf.metadata.name });
    for (const end = Date.now() + 8000; owned().length > 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    expect(owned()).toHaveLength(0);
    expect(ctl.errors).toEqual([]);
  });
});
