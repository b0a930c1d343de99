// The Argo workflow-controller emulator (test/doubles/argo/controller.ts) against hand-written
// WorkflowTemplates whose containers are shell commands, run by the fake cluster's kubelet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type FakeCluster, startFakeCluster } from '../kubernetes/cluster.js';
import { type ArgoController, startArgoController } from './controller.js';

const IMAGE = 'registry.example/argo-steps:1';
const OUT = '/tmp/flowbook/outputs';
let cluster: FakeCluster;
let ctl: ArgoController;
let imageDir: string;
let results: string; // a host directory the containers write what they saw into
let n = 0;

const sh = (script: string, extra: Record<string, unknown> = {}) => ({ container: { name: 'main', image: IMAGE, command: ['sh', '-c', script], env: [{ name: 'RESULTS', value: results }] }, ...extra });
const out = (name: string, extra: Record<string, unknown> = {}) => ({ name, valueFrom: { path: `${OUT}/${name}`, ...extra } });
const node = (wf: any, display: string) => Object.values(wf.status.nodes as Record<string, any>).find((x) => x.displayName === display);

/** Create a WorkflowTemplate and a Workflow from it; resolve with the finished Workflow. */
async function submit(spec: any, params: { name: string; value: string }[] = [], tmplMeta: any = {}): Promise<any> {
  const name = `t${++n}`;
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${/token: (\S+)/.exec(fs.readFileSync(cluster.kubeconfigPath, 'utf8'))![1]}` };
  const post = async (plural: string, body: any) => {
    const r = await fetch(`${cluster.url}/apis/argoproj.io/v1alpha1/namespaces/default/${plural}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const j = await r.json();
    if (r.status !== 201) throw new Error(`${plural}: ${j.message}`);
    return j;
  };
  await post('workflowtemplates', { apiVersion: 'argoproj.io/v1alpha1', kind: 'WorkflowTemplate', metadata: { name, ...tmplMeta }, spec });
  const wf = await post('workflows', { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { generateName: `${name}-` }, spec: { workflowTemplateRef: { name }, ...(params.length ? { arguments: { parameters: params } } : {}) } });
  const done = await ctl.waitForWorkflow(wf.metadata.name);
  if (process.env.ARGO_DEBUG) console.log(JSON.stringify({ status: done.status, errors: ctl.errors }, null, 1));
  return done;
}

beforeAll(async () => {
  imageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-image-'));
  results = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-results-'));
  // the product's shape: `flowbook argo-workflows step --step S --indices I …`; split steps write foreach-indices
  fs.mkdirSync(path.join(imageDir, 'bin'));
  fs.writeFileSync(
    path.join(imageDir, 'bin', 'flowbook'),
    `#!/bin/sh
step=; indices=
while [ $# -gt 0 ]; do case "$1" in --step) step=$2; shift;; --indices) indices=$2; shift;; esac; shift; done
touch "$RESULTS/$step:$indices"
case "$step" in split|inner) mkdir -p ${OUT}; echo "[0,1]" > ${OUT}/foreach-indices;; esac
`,
    { mode: 0o755 },
  );
  cluster = await startFakeCluster({ nodes: [{ name: 'node-1', cpu: 64, memoryMiB: 65536 }], images: { [IMAGE]: imageDir } });
  ctl = await startArgoController(cluster);
});
afterAll(async () => {
  await ctl?.close();
  await cluster?.close();
  for (const d of [imageDir, results]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe('Argo workflow-controller emulator', () => {
  it('linear dependencies pass output parameters; labels, workflowMetadata and pods as Argo makes them', async () => {
    const wf = await submit(
      {
        entrypoint: 'main',
        arguments: { parameters: [{ name: 'greeting', value: 'hello' }] },
        workflowMetadata: { labels: { 'flowbook.dev/flow': 'linear' }, annotations: { 'flowbook.dev/note': 'x' } },
        templates: [
          { name: 'main', dag: { tasks: [{ name: 'a', template: 'gen' }, { name: 'b', template: 'echo', dependencies: ['a'], arguments: { parameters: [{ name: 'msg', value: '{{tasks.a.outputs.parameters.word}}' }] } }] } },
          { name: 'gen', ...sh(`mkdir -p ${OUT} && echo "{{workflow.parameters.greeting}}-{{workflow.name}}" > ${OUT}/word`), outputs: { parameters: [out('word')] } },
          { name: 'echo', inputs: { parameters: [{ name: 'msg' }] }, metadata: { labels: { role: 'echo' } }, ...sh('echo "{{inputs.parameters.msg}} {{pod.name}}" > $RESULTS/linear') },
        ],
      },
      [{ name: 'greeting', value: 'hi' }],
    );
    const name = wf.metadata.name;
    expect(wf.status.phase).toBe('Succeeded');
    expect(wf.metadata.labels).toMatchObject({ 'workflows.argoproj.io/workflow-template': name.replace(/-\w+$/, ''), 'workflows.argoproj.io/phase': 'Succeeded', 'workflows.argoproj.io/completed': 'true', 'flowbook.dev/flow': 'linear' });
    expect(wf.metadata.annotations['flowbook.dev/note']).toBe('x');
    expect(wf.status.startedAt).toMatch(/Z$/);
    expect(wf.status.progress).toBe('2/2');
    expect(node(wf, name)).toMatchObject({ type: 'DAG', phase: 'Succeeded', id: name });
    expect(node(wf, 'a')).toMatchObject({ type: 'Pod', phase: 'Succeeded', templateName: 'gen', outputs: { parameters: [{ name: 'word', value: `hi-${name}` }] } });
    const pod = cluster.pods().find((p) => p.metadata.annotations?.['workflows.argoproj.io/node-name'] === `${name}.b`)!;
    expect(pod.metadata.labels).toMatchObject({ 'workflows.argoproj.io/workflow': name, role: 'echo' });
    expect(pod.spec.containers[0].name).toBe('main');
    expect(fs.readFileSync(path.join(results, 'linear'), 'utf8').trim()).toBe(`hi-${name} ${pod.metadata.name}`);
  });

  it('withParam fans out; concurrent pods writing the same output path keep their own values; outputs aggregate', async () => {
    const wf = await submit({
      entrypoint: 'main',
      templates: [
        {
          name: 'main',
          dag: {
            tasks: [
              { name: 'gen', template: 'gen' },
              { name: 'body', template: 'body', depends: 'gen', withParam: '{{tasks.gen.outputs.parameters.list}}', arguments: { parameters: [{ name: 'i', value: '{{item}}' }] } },
              { name: 'join', template: 'join', depends: 'body', arguments: { parameters: [{ name: 'all', value: '{{tasks.body.outputs.parameters.v}}' }] } },
            ],
          },
        },
        { name: 'gen', ...sh(`mkdir -p ${OUT} && echo "[0,1,2,3]" > ${OUT}/list`), outputs: { parameters: [out('list')] } },
        // all write the same path, then sleep so the pods overlap: a shared file would give one value to all
        { name: 'body', inputs: { parameters: [{ name: 'i' }] }, ...sh(`mkdir -p ${OUT} && echo $(({{inputs.parameters.i}} * 10)) > ${OUT}/v && sleep 0.5 && date +%s.%N > $RESULTS/body-{{inputs.parameters.i}}`), outputs: { parameters: [out('v')] } },
        { name: 'join', inputs: { parameters: [{ name: 'all' }] }, ...sh(`echo '{{inputs.parameters.all}}' > $RESULTS/join`) },
      ],
    });
    expect(wf.status.phase).toBe('Succeeded');
    expect(node(wf, 'body')).toMatchObject({ type: 'TaskGroup', phase: 'Succeeded' });
    expect(node(wf, 'body').children).toHaveLength(4);
    expect(node(wf, 'body(2:2)')).toMatchObject({ type: 'Pod', outputs: { parameters: [{ name: 'v', value: '20' }] } });
    expect(fs.readFileSync(path.join(results, 'join'), 'utf8').trim()).toBe('["0","10","20","30"]');
    // they ran concurrently: all finished within less than two sleeps of each other
    const ends = [0, 1, 2, 3].map((i) => Number(fs.readFileSync(path.join(results, `body-${i}`), 'utf8')));
    expect(Math.max(...ends) - Math.min(...ends)).toBeLessThan(1);
    expect(ctl.errors).toEqual([]);
  });

  it('when → Skipped, its dependents Omitted; depends with || converges a switch', async () => {
    const wf = await submit({
      entrypoint: 'main',
      templates: [
        {
          name: 'main',
          dag: {
            tasks: [
              { name: 'start', template: 'start' },
              { name: 'case-hi', template: 'ok', depends: 'start', when: "'{{tasks.start.outputs.parameters.switch-step}}' == 'hi'" },
              { name: 'case-bye', template: 'ok', depends: 'start', when: "'{{tasks.start.outputs.parameters.switch-step}}' == 'bye'" },
              { name: 'after-bye', template: 'ok', depends: 'case-bye.Succeeded' },
              { name: 'join', template: 'ok', depends: '(case-hi.Succeeded || case-bye.Succeeded)' },
            ],
          },
        },
        { name: 'start', ...sh(`mkdir -p ${OUT} && echo hi > ${OUT}/switch-step`), outputs: { parameters: [out('switch-step')] } },
        { name: 'ok', ...sh('true') },
      ],
    });
    expect(wf.status.phase).toBe('Succeeded');
    expect(node(wf, 'case-hi').phase).toBe('Succeeded');
    expect(node(wf, 'case-bye')).toMatchObject({ type: 'Skipped', phase: 'Skipped', message: "when ''hi' == 'bye'' evaluated false" }); // Argo quotes the substituted expression as is
    expect(node(wf, 'after-bye')).toMatchObject({ type: 'Skipped', phase: 'Omitted' });
    expect(node(wf, 'join').phase).toBe('Succeeded');
  });

  it('an empty withParam skips the task and a (x.Succeeded || x.Skipped) dependent runs', async () => {
    const wf = await submit({
      entrypoint: 'main',
      templates: [
        {
          name: 'main',
          dag: {
            tasks: [
              { name: 'split', template: 'split' },
              { name: 'body', template: 'ok', depends: 'split', withParam: '{{tasks.split.outputs.parameters.foreach-indices}}' },
              { name: 'join', template: 'ok', depends: '(body.Succeeded || body.Skipped)' },
            ],
          },
        },
        { name: 'split', ...sh(`mkdir -p ${OUT} && echo "[]" > ${OUT}/foreach-indices`), outputs: { parameters: [out('foreach-indices')] } },
        { name: 'ok', ...sh('true') },
      ],
    });
    expect(wf.status.phase).toBe('Succeeded');
    expect(node(wf, 'body')).toMatchObject({ phase: 'Skipped', message: 'Skipped, empty params' });
    expect(node(wf, 'join').phase).toBe('Succeeded');
  });

  it("the product's shape: nested foreach DAG templates invoked withParam with {{inputs.parameters.indices}},{{item}}", async () => {
    const step = (s: string, outputs?: string) => ({
      name: `step-${s}`,
      inputs: { parameters: [{ name: 'indices' }] },
      container: { name: 'main', image: IMAGE, command: ['flowbook'], args: ['argo-workflows', 'step', '--step', s, '--indices', '{{inputs.parameters.indices}}', '--workflow', '{{workflow.name}}', '--workflow-uid', '{{workflow.uid}}', '--created', '{{workflow.creationTimestamp}}'], env: [{ name: 'RESULTS', value: results }], resources: { requests: { cpu: '100m', memory: '64Mi' } } },
      ...(outputs ? { outputs: { parameters: [out(outputs)] } } : {}),
    });
    const dir = fs.mkdtempSync(path.join(results, 'nested-'));
    const wf = await submit({
      entrypoint: 'main',
      onExit: 'exit-handler',
      templates: [
        {
          name: 'main',
          dag: {
            tasks: [
              { name: 'split', template: 'step-split', arguments: { parameters: [{ name: 'indices', value: '' }] } },
              { name: 'body', template: 'foreach-body', depends: 'split', withParam: '{{tasks.split.outputs.parameters.foreach-indices}}', arguments: { parameters: [{ name: 'indices', value: ',{{item}}' }] } },
              { name: 'join', template: 'step-join', depends: '(body.Succeeded || body.Skipped)', arguments: { parameters: [{ name: 'indices', value: '' }] } },
            ],
          },
        },
        {
          name: 'foreach-body',
          inputs: { parameters: [{ name: 'indices' }] },
          dag: {
            tasks: [
              { name: 'inner', template: 'step-inner', arguments: { parameters: [{ name: 'indices', value: '{{inputs.parameters.indices}}' }] } },
              { name: 'leaf', template: 'step-leaf', depends: 'inner', withParam: '{{tasks.inner.outputs.parameters.foreach-indices}}', arguments: { parameters: [{ name: 'indices', value: '{{inputs.parameters.indices}},{{item}}' }] } },
            ],
          },
        },
        step('split', 'foreach-indices'),
        step('inner', 'foreach-indices'),
        step('leaf'),
        step('join'),
        { name: 'exit-handler', ...sh('echo "{{workflow.status}}" > $RESULTS/nested-exit') },
      ].map((t: any) => (t.container?.env ? { ...t, container: { ...t.container, env: [{ name: 'RESULTS', value: dir }] } } : t)),
    });
    expect(wf.status.phase).toBe('Succeeded');
    expect(fs.readdirSync(dir).sort()).toEqual(['inner:,0', 'inner:,1', 'join:', 'leaf:,0,0', 'leaf:,0,1', 'leaf:,1,0', 'leaf:,1,1', 'nested-exit', 'split:']);
    expect(node(wf, 'body(1:1)')).toMatchObject({ type: 'DAG', inputs: { parameters: [{ name: 'indices', value: ',1' }] } });
    expect(node(wf, `${wf.metadata.name}.onExit`).phase).toBe('Succeeded');
    expect(fs.readFileSync(path.join(dir, 'nested-exit'), 'utf8').trim()).toBe('Succeeded');
  });

  it('retryStrategy: a new pod per attempt with {{retries}}; the limit ends it as Failed', async () => {
    const wf = await submit({
      entrypoint: 'main',
      templates: [
        { name: 'main', dag: { tasks: [{ name: 'flaky', template: 'flaky' }] } },
        { name: 'flaky', retryStrategy: { limit: 3, retryPolicy: 'Always', backoff: { duration: '50ms' } }, ...sh('echo {{retries}} >> $RESULTS/retries; [ {{retries}} -ge 2 ] || exit 3') },
      ],
    });
    expect(wf.status.phase).toBe('Succeeded');
    expect(node(wf, 'flaky')).toMatchObject({ type: 'Retry', phase: 'Succeeded' });
    expect(node(wf, 'flaky').children).toHaveLength(3);
    expect(node(wf, 'flaky(0)')).toMatchObject({ type: 'Pod', phase: 'Failed', message: 'Error (exit code 3)' });
    expect(fs.readFileSync(path.join(results, 'retries'), 'utf8').split('\n').filter(Boolean)).toEqual(['0', '1', '2']);
    const failed = await submit({ entrypoint: 'main', templates: [{ name: 'main', dag: { tasks: [{ name: 'f', template: 'f' }] } }, { name: 'f', retryStrategy: { limit: '1' }, ...sh('exit 4') }] });
    expect(failed.status.phase).toBe('Failed');
    expect(node(failed, 'f').children).toHaveLength(2);
    expect(failed.status.message).toMatch(/^child '.+' failed$/);
  });

  it('failFast: after a failure no new task starts, running ones finish; onExit sees Failed and the failures', async () => {
    const wf = await submit({
      entrypoint: 'main',
      onExit: 'exit',
      templates: [
        { name: 'main', dag: { tasks: [{ name: 'bad', template: 'bad' }, { name: 'slow', template: 'slow' }, { name: 'next', template: 'slow', dependencies: ['bad'] }, { name: 'after-slow', template: 'slow', dependencies: ['slow'] }] } },
        { name: 'bad', ...sh('echo boom >&2; exit 1') },
        { name: 'slow', ...sh('sleep 1') },
        { name: 'exit', ...sh(`echo '{{workflow.status}}' > $RESULTS/ff-status; echo '{{workflow.failures}}' > $RESULTS/ff-failures`) },
      ],
    });
    expect(wf.status.phase).toBe('Failed');
    expect(node(wf, 'slow').phase).toBe('Succeeded');
    expect(node(wf, 'next')).toBeUndefined();
    expect(node(wf, 'after-slow')).toBeUndefined();
    expect(fs.readFileSync(path.join(results, 'ff-status'), 'utf8').trim()).toBe('Failed');
    const failures = JSON.parse(fs.readFileSync(path.join(results, 'ff-failures'), 'utf8'));
    expect(failures).toContainEqual(expect.objectContaining({ displayName: 'bad', phase: 'Failed', message: 'Error (exit code 1)', templateName: 'bad' }));
  });

  it('a missing output file fails the node; valueFrom.default stands in', async () => {
    const wf = await submit({
      entrypoint: 'main',
      templates: [
        { name: 'main', dag: { tasks: [{ name: 'a', template: 'a' }, { name: 'b', template: 'b' }] } },
        { name: 'a', ...sh('true'), outputs: { parameters: [out('nothing')] } },
        { name: 'b', ...sh('true'), outputs: { parameters: [out('dflt', { default: 'fallback' })] } },
      ],
    });
    expect(wf.status.phase).toBe('Failed');
    expect(node(wf, 'a')).toMatchObject({ phase: 'Failed', message: `open ${OUT}/nothing: no such file or directory` });
    expect(node(wf, 'b').outputs.parameters[0].value).toBe('fallback');
  });

  it.each([
    ['an unknown template', { name: 'a', template: 'nope' }, /^invalid spec: templates\.main\.tasks\.a template reference nope not found$/],
    ['an unknown task in depends', { name: 'a', template: 'ok', depends: 'ghost.Succeeded' }, /dependency 'ghost' not defined/],
    ['an unresolvable variable', { name: 'a', template: 'ok', when: "'{{tasks.zzz.outputs.parameters.x}}' == 'a'" }, /failed to resolve \{\{tasks\.zzz\.outputs\.parameters\.x\}\}/],
  ])('lint: %s fails the Workflow before any pod', async (_what, task, message) => {
    const before = cluster.pods().length;
    const wf = await submit({ entrypoint: 'main', templates: [{ name: 'main', dag: { tasks: [task] } }, { name: 'ok', ...sh('true') }] });
    // argo's controller marks an invalid spec Failed (markWorkflowFailed), message "invalid spec: …"
    expect(wf.status.phase).toBe('Failed');
    expect(wf.status.message).toMatch(message);
    expect(cluster.pods().length).toBe(before);
  });
});
