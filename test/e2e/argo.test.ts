// Argo Workflows end to end: the real CLI deploys a flow through @kubernetes/client-node's
// CustomObjectsApi to the Kubernetes API double (every object checked against the Argo schema);
// an emulated workflow controller (test/doubles/argo/) executes the template's DAG — withParam, depends,
// when, retryStrategy, onExit — with pods run by the kubelet emulator; the run is read back from
// S3 by the client in a fresh process, as any other run.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowTemplate, CronWorkflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1';
import { flowbookAsyncResult as flowbook, fixture, errorLine, tempDir, REPO } from './helpers.js';
import { SHARED_DATA } from '../shared-data.js';
import { currentUser } from '../../src/datastore/store.js';
import type { FakeCluster } from '../doubles/kubernetes/cluster.js';
import { startPodTestbed, type PodTestbed } from './pod-testbed.js';
import { startArgoController, type ArgoController } from '../doubles/argo/controller.js';

let bed: PodTestbed;
let cluster: FakeCluster;
let argo: ArgoController;
let env: Record<string, string>;
const IMAGE = 'registry.example.com/flowbook:argo';
const SHAPES = fixture('argo_shapes.ts');
const clips = tempDir('flowbook-argo-clips-');

/** ES module code in a fresh Node process with the CLI's env; its stdout as JSON */
function client(code: string) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim());
}

/** trigger, then wait for Argo to finish the workflow; the run's pathspec and the workflow */
async function triggerAndWait(file: string, ...params: string[]) {
  const r = await flowbook(['argo-workflows', 'trigger', file, ...params], { env });
  expect(r.code, r.stderr).toBe(0);
  const name = /Workflow default\/(\S+) submitted/.exec(r.stderr)![1];
  const workflow = await argo.waitForWorkflow(name, { timeoutMs: 240_000 });
  return { pathspec: r.stdout.trim(), runId: r.stdout.trim().split('/')[1], workflow, name };
}

beforeAll(async () => {
  bed = await startPodTestbed('argo', IMAGE);
  cluster = bed.cluster;
  argo = await startArgoController(cluster);
  fs.copyFileSync(path.join(SHARED_DATA, 'audio/jfk.wav'), path.join(clips, 'jfk.wav'));
  execFileSync('espeak-ng', ['-w', path.join(clips, 'fox.wav'), 'the quick brown fox jumps over the lazy dog']);
  env = bed.env();
}, 120_000);

afterAll(async () => {
  await argo?.close();
  await bed?.close();
});

describe('Argo Workflows', () => {
  it('create deploys a schema-valid WorkflowTemplate and CronWorkflow; a second create replaces them', async () => {
    const r = await flowbook(['argo-workflows', 'create', SHAPES, '--with', 'kubernetes:cpu=1,memory=1024', '--tag', 'nightly'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/WorkflowTemplate default\/argoshapesflow created \(11 steps, code package [0-9a-f]{12}/);
    expect(r.stderr).toContain("CronWorkflow default/argoshapesflow created: runs on cron '30 6 * * 1-5' (Europe/Paris)");
    const [template] = cluster.customObjects('workflowtemplates');
    const [cron] = cluster.customObjects('cronworkflows');
    new WorkflowTemplate(template).validate();
    new CronWorkflow(cron).validate();
    expect(cron.spec.workflowSpec.workflowTemplateRef.name).toBe('argoshapesflow');
    expect(template.spec.arguments.parameters).toEqual([
      { name: 'n', value: '2' },
      { name: 'mode', value: 'even' },
      { name: 'flowbook-user', value: currentUser(), description: 'who runs the workflow (flowbook argo-workflows trigger sets it)' },
    ]);
    const again = await flowbook(['argo-workflows', 'create', SHAPES, '--with', 'kubernetes:cpu=1,memory=1024', '--tag', 'nightly'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/WorkflowTemplate default\/argoshapesflow replaced .* 0 bytes uploaded/);
    expect(cluster.customObjects('workflowtemplates')).toHaveLength(1);
  }, 120_000);

  it("a triggered workflow runs every shape through Argo's DAG, and the client reads its run like any other", async () => {
    const { pathspec, runId, workflow, name } = await triggerAndWait(SHAPES, '--n', '3', '--mode', 'odd', '--user', 'carol');
    expect(argo.errors).toEqual([]);
    expect(workflow.status.phase, JSON.stringify(workflow.status.message)).toBe('Succeeded');
    expect(pathspec).toMatch(/^ArgoShapesFlow\/\d{13}$/);
    // Argo made the pods: the flaky start ran twice (retryStrategy), the case not taken was skipped
    const nodes = Object.values(workflow.status.nodes) as any[];
    expect(nodes.filter((n) => n.type === 'Pod' && n.templateName === 'step-start').map((n) => n.phase).sort()).toEqual(['Failed', 'Succeeded']);
    expect(nodes.find((n) => n.displayName === 'hi')?.phase).toBe('Skipped');
    const seen = client(`
      import { Flow, namespace } from './dist/index.js';
      namespace(null);
      const run = await Flow('ArgoShapesFlow').latestSuccessfulRun;
      const leaf = await run.step('leaf');
      const start = await (await run.step('start')).task;
      const out = { id: run.id, ok: run.successful, all: await run.data.all, chosen: await run.data.chosen,
        attempts: await start.data.attempts, leaves: (await leaf.tasks()).length, tags: run.userTags, user: run.systemTags.find((t) => t.startsWith('user:')),
        steps: (await run.steps()).map((s) => s.id).sort() };
      console.log(JSON.stringify(out));
    `);
    expect(seen).toEqual({
      id: runId,
      ok: true,
      all: [1000, 1001, 1010, 1011, 1020, 1021],
      chosen: 'lo',
      attempts: 2,
      leaves: 6,
      tags: ['nightly'],
      // the user the trigger named, not the deployer's or a baked-in one
      user: 'user:carol',
      steps: ['cell', 'end', 'jinner', 'jouter', 'jpq', 'leaf', 'lo', 'p', 'q', 'start'],
    });
    const logs = await flowbook(['logs', `${pathspec}/jouter`], { env });
    expect(logs.stdout).toContain('joined 6 values');
    const list = await flowbook(['argo-workflows', 'list-runs', SHAPES], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${name}\\s+Succeeded\\s+\\S+\\s+\\S+\\s+${pathspec}$`, 'm'));
  }, 300_000);

  it('the seed transcription flow, deployed and triggered: Argo fans out the videos, the client reads the transcripts', async () => {
    const seed = path.join(REPO, 'flows/youtube_transcription.ts');
    const c = await flowbook(['argo-workflows', 'create', seed], { env });
    expect(c.code, c.stderr).toBe(0);
    const [template] = cluster.customObjects('workflowtemplates').filter((t) => t.metadata.name === 'youtubevideotranscription');
    new WorkflowTemplate(template).validate();
    const transcribe = template.spec.templates.find((t: any) => t.name === 'step-transcribe');
    expect(transcribe.container.resources).toEqual({ requests: { cpu: '3', memory: '12288Mi' }, limits: { memory: '12288Mi' } });
    expect(JSON.stringify(template)).not.toContain('S3RVER'); // credentials stay in the Secret
    const { runId, workflow } = await triggerAndWait(seed, '--urls', clips, '--model', 'sphinx-en-us');
    expect(workflow.status.phase, workflow.status.message).toBe('Succeeded');
    const got = client(`
      import { Flow, namespace } from './dist/index.js';
      namespace(null);
      const run = await Flow('YouTubeVideoTranscription').latestSuccessfulRun;
      const rows = await run.data.rows;
      const tasks = await (await run.step('transcribe')).tasks();
      console.log(JSON.stringify({ id: run.id, titles: rows.map((x) => x.title).sort(), words: rows.map((x) => x.words),
        pods: tasks.map((t) => [t.resources?.worker, t.resources?.host]) }));
    `);
    expect(got.id).toBe(runId);
    expect(got.titles).toEqual(['fox', 'jfk']);
    expect(got.words.every((w: number) => w > 0)).toBe(true);
    // each transcription ran in a pod Argo made, and recorded which
    expect(got.pods).toHaveLength(2);
    for (const [worker, host] of got.pods) expect([worker, host]).toEqual([expect.stringMatching(/^pod youtubevideotranscription-/), 'node-a']);
  }, 300_000);

  it('a failed task fails the run, with its error; nothing makes it look successful', async () => {
    const failing = fixture('failing.ts');
    const c = await flowbook(['argo-workflows', 'create', failing, '--with', 'kubernetes:cpu=1,memory=1024'], { env });
    expect(c.code, c.stderr).toBe(0);
    const { runId, workflow } = await triggerAndWait(failing);
    expect(workflow.status.phase).toBe('Failed');
    const seen = client(`
      import { Flow, namespace } from './dist/index.js';
      namespace(null);
      const run = await Flow('FailingFlow').run('${runId}');
      console.log(JSON.stringify({ status: run.status, ok: run.successful, failure: run.failure ?? null, latestOk: (await Flow('FailingFlow').latestSuccessfulRun)?.id ?? null }));
    `);
    expect(seen.status).toBe('failed');
    expect(seen.ok).toBe(false);
    expect(seen.latestOk).toBeNull();
    expect(seen.failure).toEqual({ pathspec: `FailingFlow/${runId}/start/1`, message: 'boom in start' });
    const dump = await flowbook(['logs', `FailingFlow/${runId}/start/1`], { env });
    expect(dump.stdout + dump.stderr).toContain('start ran');
  }, 300_000);

  it('trigger refuses bad parameters before submitting; delete removes the deployment', async () => {
    const before = cluster.customObjects('workflows').length;
    const bad = await flowbook(['argo-workflows', 'trigger', SHAPES, '--n', 'many'], { env });
    expect(bad.code).not.toBe(0);
    expect(errorLine(bad)).toMatch(/--n/);
    const unknown = await flowbook(['argo-workflows', 'trigger', SHAPES, '--colour', 'red'], { env });
    expect(errorLine(unknown)).toBe('error: ArgoShapesFlow has no parameter --colour (parameters: --n, --mode)');
    expect(cluster.customObjects('workflows')).toHaveLength(before);
    const del = await flowbook(['argo-workflows', 'delete', SHAPES], { env });
    expect(del.code, del.stderr).toBe(0);
    expect(del.stderr).toContain('deleted WorkflowTemplate default/argoshapesflow and CronWorkflow default/argoshapesflow');
    expect(cluster.customObjects('workflowtemplates').filter((t) => t.metadata.name === 'argoshapesflow')).toEqual([]);
    const again = await flowbook(['argo-workflows', 'delete', SHAPES], { env });
    expect(errorLine(again)).toBe('error: ArgoShapesFlow is not deployed in namespace default (no WorkflowTemplate argoshapesflow)');
    const trig = await flowbook(['argo-workflows', 'trigger', SHAPES], { env });
    expect(errorLine(trig)).toMatch(/ArgoShapesFlow is not deployed in namespace default: run flowbook argo-workflows create/);
  }, 120_000);
});
