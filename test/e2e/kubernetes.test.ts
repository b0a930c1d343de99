// Steps as Kubernetes pods, end to end: the real CLI and @kubernetes/client-node against the
// Kubernetes API double (real REST paths, every Job checked against the Kubernetes schema) whose
// kubelet runs each pod's command as a local process, with the artifacts in a real S3 server.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { flowbookAsyncResult as flowbook, flowbookAsync, fixture, tempDir, errorLine, REPO, exited, wait, runIdOf } from './helpers.js';
import { startS3, type TestS3 } from '../doubles/s3/server.js';
import { startFakeCluster, type FakeCluster } from '../doubles/kubernetes/cluster.js';
import { SHARED_DATA } from '../shared-data.js';

let s3: TestS3;
let cluster: FakeCluster;
let env: Record<string, string>;
const IMAGE = 'registry.example.com/flowbook:test';
/** the same image, but its pull takes a minute */
const SLOW_IMAGE = 'registry.example.com/flowbook:huge';
const clips = tempDir('flowbook-k8s-clips-');
const models = tempDir('flowbook-k8s-models-');

/** ES module code in a fresh Node process with the runner's env; its stdout */
function client(code: string) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim());
}

const jobsOf = (runId: string) => cluster.jobs().filter((j) => j.metadata.labels['flowbook/run-id'] === runId);

/** Start K8sFlow in slow mode in the background; resolves once one of its `work` pods runs. */
async function slowRunWithPodRunning() {
  const child = flowbookAsync(['run', fixture('k8s_flow.ts'), '--mode', 'slow'], { env });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  let pod: any;
  for (let i = 0; i < 200 && !(pod = cluster.pods().find((p) => p.status?.phase === 'Running' && p.metadata.labels['flowbook/step-name'] === 'work' && !cluster.jobs().every((j) => j.metadata.name !== p.metadata.labels['job-name']))); i++) await wait(100);
  if (!pod) throw new Error(`no work pod started:\n${err}`);
  return { child, pod, err: () => err };
}

beforeAll(async () => {
  s3 = await startS3();
  cluster = await startFakeCluster({
    nodes: [
      { name: 'node-a', cpu: 4, memoryMiB: 16384 },
      { name: 'node-b', cpu: 4, memoryMiB: 16384 },
    ],
    // the "image" is this checkout: pods run bin/flowbook from it
    images: { [IMAGE]: REPO, [SLOW_IMAGE]: REPO },
    imagePullSeconds: { [SLOW_IMAGE]: 60 },
    // pods get the S3 credentials only from this Secret (envFrom), never from the runner
    secrets: { 'default/flowbook-s3': { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } },
    persistentVolumeClaims: { 'default/models': models },
  });
  env = {
    ...s3.env('k8s'),
    KUBECONFIG: cluster.kubeconfigPath,
    FLOWBOOK_KUBERNETES_IMAGE: IMAGE,
    FLOWBOOK_KUBERNETES_SECRETS: 'flowbook-s3',
    FLOWBOOK_MODELS: models,
  };
  fs.copyFileSync(path.join(SHARED_DATA, 'audio/jfk.wav'), path.join(clips, 'jfk.wav'));
  fs.copyFileSync(path.join(SHARED_DATA, 'audio/jfk.txt'), path.join(clips, 'jfk.txt'));
  execFileSync('espeak-ng', ['-w', path.join(clips, 'fox.wav'), 'the quick brown fox jumps over the lazy dog']);
  fs.writeFileSync(path.join(clips, 'fox.txt'), 'the quick brown fox jumps over the lazy dog');
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await s3?.close();
});

describe('Kubernetes', () => {
  it('the transcription flow with --with kubernetes: every step a pod, artifacts in S3, read back from a fresh process', async () => {
    const r = await flowbook(['run', path.join(REPO, 'flows/youtube_transcription.ts'), '--urls', clips, '--model', 'sphinx-en-us', '--with', 'kubernetes', '--max-workers', '4'], { env });
    expect(r.code, r.stderr).toBe(0);
    const runId = runIdOf(r.stderr);
    expect(r.stderr).toMatch(/Kubernetes http:\/\/127\.0\.0\.1:\d+: start, transcribe, postprocess, end run as pods; code package [0-9a-f]{12}/);
    // the pods' logs stream into the runner's output with the task prefix
    expect(r.stdout + r.stderr).toMatch(new RegExp(`\\[${runId}/transcribe/\\d+\\] jfk: 11\\.0 s of audio`));
    // every Job passed the Kubernetes schema; transcribe asked for its @resources
    expect(cluster.rejected).toEqual([]);
    const jobs = jobsOf(runId);
    expect(jobs.map((j) => j.metadata.annotations['flowbook/step-name']).sort()).toEqual(['end', 'postprocess', 'start', 'transcribe', 'transcribe']);
    const tjob = jobs.find((j) => j.metadata.annotations['flowbook/step-name'] === 'transcribe');
    const c = tjob.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ requests: { cpu: '3', memory: '12288Mi' }, limits: { memory: '12288Mi' } });
    expect(tjob.spec).toMatchObject({ backoffLimit: 0, template: { spec: { restartPolicy: 'Never' } } });
    expect(c.envFrom).toEqual([{ secretRef: { name: 'flowbook-s3' } }]);
    expect(JSON.stringify(tjob)).not.toContain('S3RVER'); // secrets stay in the Secret
    const got = client(`
      import { Flow, namespace } from 'flowbook';
      namespace(null);
      const run = await Flow('YouTubeVideoTranscription').latestSuccessfulRun;
      const rows = await run.data.rows;
      const tasks = await (await run.step('transcribe')).tasks();
      console.log(JSON.stringify({ id: run.id, rows: rows.map((x) => ({ title: x.title, engine: x.engine, words: x.words })),
        where: tasks.map((t) => t.resources) }));
    `);
    expect(got.id).toBe(runId);
    // the postprocess card, from S3, as a file a browser can open
    const view = await flowbook(['card', 'view', `YouTubeVideoTranscription/${runId}/postprocess`], { env: { ...env, DISPLAY: '' } });
    expect(view.code, view.stderr).toBe(0);
    const html = fs.readFileSync(view.stdout.trim(), 'utf8');
    expect(html).toContain('<figure class="wordcloud">');
    // the card server reads the S3 datastore too
    const server = flowbookAsync(['card', 'server', '--port', '0'], { env });
    try {
      const url = await new Promise<string>((resolve) => server.stdout.on('data', (c) => /card server: (\S+)/.test(String(c)) && resolve(/card server: (\S+)/.exec(String(c))![1])));
      const index = await (await fetch(url)).text();
      expect(index).toContain('<h2>YouTubeVideoTranscription</h2>');
      const card = await fetch(`${url.replace(/\/$/, '')}/card/YouTubeVideoTranscription/${runId}/end/${/\/end\/(\d+)\//.exec(index)![1]}/timeline`);
      expect(card.status).toBe(200);
      expect(await card.text()).toMatch(/pod fb-youtubevideotranscription-\d+-transcribe-\d+-0-[a-z0-9]{5} @ node-[ab]/);
    } finally {
      server.kill('SIGTERM');
    }
    expect(got.rows.map((x: any) => x.title).sort()).toEqual(['fox', 'jfk']);
    for (const row of got.rows) expect(row).toMatchObject({ engine: 'sphinx' });
    expect(got.rows.find((x: any) => x.title === 'jfk').words).toBeGreaterThan(10);
    // each pod task recorded what it used and where: the pod and its node
    for (const u of got.where) {
      expect(u.worker).toMatch(/^pod fb-youtubevideotranscription-\d+-transcribe-\d+-0-[a-z0-9]{5}$/);
      expect(['node-a', 'node-b']).toContain(u.host);
      expect(u.cpuUserSeconds).toBeGreaterThan(0);
      expect(u.processPeakRssBytes).toBeGreaterThan(10 * 2 ** 20);
      // the task's own rise is under its process's peak; its children (ffmpeg, pocketsphinx) add theirs
      expect(u.childrenPeakRssBytes).toBeGreaterThan(0);
      expect(u.peakRssBytes - u.childrenPeakRssBytes).toBeLessThan(u.processPeakRssBytes);
      expect(u.requested).toMatchObject({ cpu: 3, memory: 12288 });
    }
  }, 240_000);

  it('a re-run of the unchanged flow uploads no code', async () => {
    const one = await flowbook(['run', fixture('k8s_flow.ts')], { env });
    expect(one.code, one.stderr).toBe(0);
    const two = await flowbook(['run', fixture('k8s_flow.ts')], { env });
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toMatch(/code package [0-9a-f]{12} \(\d+ files, 0 bytes uploaded\)/);
    // only `work` ran as pods: start, join and end stayed local
    expect(jobsOf(runIdOf(two.stderr)).map((j) => j.metadata.annotations['flowbook/step-name'])).toEqual(['work', 'work', 'work']);
  }, 120_000);

  it('OOMKilled is said as such, with the limit to raise', async () => {
    const r = await flowbook(['run', fixture('k8s_flow.ts'), '--mode', 'oom'], { env });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^error: run K8sFlow\/\d+ failed at K8sFlow\/\d+\/work\/\d: OOMKilled: the pod used its whole memory limit \(384 MiB\); raise @kubernetes\(memory\)$/);
    expect(r.stderr).not.toContain('OOMKilled: OOMKilled');
  }, 120_000);

  it('a request no node can fit fails at once with the scheduler\'s reason', async () => {
    const t0 = Date.now();
    const r = await flowbook(['run', fixture('k8s_flow.ts'), '--with', 'kubernetes:cpu=64'], { env });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/failed at K8sFlow\/\d+\/start\/1: no node can fit cpu=64 memory=4096Mi: 0\/2 nodes are available: 2 Insufficient cpu/);
    expect(Date.now() - t0).toBeLessThan(30_000);
    // the Job of a pod that could never run is deleted, not left Pending
    expect(jobsOf(runIdOf(r.stderr))).toEqual([]);
  }, 60_000);

  it('an image that cannot be pulled names the image and the reason', async () => {
    const r = await flowbook(['run', fixture('k8s_flow.ts'), '--with', 'kubernetes:image=registry.example.com/nope:1'], { env });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/failed at K8sFlow\/\d+\/start\/1: cannot pull image registry\.example\.com\/nope:1 \((ErrImagePull|ImagePullBackOff)\): /);
  }, 60_000);

  it('a pod that stays Pending fails its task after FLOWBOOK_KUBERNETES_PENDING_TIMEOUT, never hangs', async () => {
    const t0 = Date.now();
    const r = await flowbook(['run', fixture('k8s_flow.ts'), '--with', `kubernetes:image=${SLOW_IMAGE}`], { env: { ...env, FLOWBOOK_KUBERNETES_PENDING_TIMEOUT: '2' } });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/failed at K8sFlow\/\d+\/start\/1: the pod did not start within 2 s \(FLOWBOOK_KUBERNETES_PENDING_TIMEOUT\); last state: ContainerCreating$/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(jobsOf(runIdOf(r.stderr))).toEqual([]);
  }, 60_000);

  it('a failing step in a pod fails the run with its own error and its log in the datastore', async () => {
    const r = await flowbook(['run', fixture('k8s_flow.ts'), '--mode', 'fail'], { env });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/failed at K8sFlow\/\d+\/work\/\d: work 2 failed on purpose$/);
    const task = /failed at (K8sFlow\/\d+\/work\/\d)/.exec(errorLine(r)!)![1];
    const logs = await flowbook(['logs', task], { env });
    expect(logs.stdout + logs.stderr).toContain('Error: work 2 failed on purpose');
  }, 120_000);

  it('SIGTERM of the runner deletes the run\'s Jobs and their pods', async () => {
    const { child, err } = await slowRunWithPodRunning();
    const runId = runIdOf(err());
    expect(jobsOf(runId).length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    const code = await exited(child);
    expect(code).not.toBe(0);
    expect(jobsOf(runId)).toEqual([]);
    for (let i = 0; i < 50 && cluster.pods().some((p) => p.metadata.labels['flowbook/run-id'] === runId); i++) await wait(100);
    expect(cluster.pods().filter((p) => p.metadata.labels['flowbook/run-id'] === runId)).toEqual([]);
  }, 60_000);

  it('kill -9 of the runner, then resume: DONE tasks are cloned from S3, the rest run as pods', async () => {
    const { child, err } = await slowRunWithPodRunning();
    const origin = runIdOf(err());
    child.kill('SIGKILL');
    await exited(child);
    const r = await flowbook(['resume', fixture('k8s_flow.ts'), '--origin-run-id', origin], { env });
    // the killed runner could not delete its Jobs: they finish on their own (their pods wrote to the origin run)
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`cloned 1 task\\(s\\):\\n    K8sFlow/\\d+/start/1 \\(from K8sFlow/${origin}/start/1\\)`));
    const resumed = runIdOf(r.stderr);
    expect(jobsOf(resumed).length).toBe(3);
    const got = client(`
      import { Flow, namespace } from 'flowbook';
      namespace(null);
      const run = await Flow('K8sFlow').latestSuccessfulRun;
      console.log(JSON.stringify({ id: run.id, ys: await run.data.ys }));
    `);
    expect(got).toEqual({ id: resumed, ys: [1, 4, 9] });
  }, 120_000);

  it('a pod past its @timeout is stopped by the Job deadline and said so', async () => {
    const t0 = Date.now();
    const r = await flowbook(['run', fixture('k8s_flow.ts'), '--mode', 'hang'], { env });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/failed at K8sFlow\/\d+\/work\/\d: the pod ran past its deadline \(@timeout\) and was stopped$/);
    expect(Date.now() - t0).toBeLessThan(40_000);
    expect(cluster.runningProcesses()).toEqual([]);
  }, 60_000);

  it('an evicted pod fails its task with the node\'s reason', async () => {
    const { child, err, pod } = await slowRunWithPodRunning();
    await cluster.evict(pod.metadata.name, 'The node was low on resource: memory.');
    await exited(child);
    expect(child.exitCode).toBe(1);
    expect(err()).toMatch(/the pod was evicted from its node: The node was low on resource: memory\./);
  }, 60_000);

  it('pods share one model cache on a volume claim; a missing claim is a clear scheduling error', async () => {
    fs.copyFileSync(path.join(SHARED_DATA, 'models/for-tests-ggml-tiny.en.bin'), path.join(models, 'for-tests-ggml-tiny.en.bin'));
    const flow = path.join(REPO, 'flows/youtube_transcription.ts');
    const pvc = `kubernetes:persistentVolumeClaims=models:${models}`;
    const r = await flowbook(['run', flow, '--urls', clips, '--model', 'for-tests-tiny.en', '--with', pvc, '--max-workers', '4'], { env });
    expect(r.code, r.stderr).toBe(0);
    const runId = runIdOf(r.stderr);
    const tjobs = jobsOf(runId).filter((j) => j.metadata.annotations['flowbook/step-name'] === 'transcribe');
    expect(tjobs).toHaveLength(2);
    for (const j of tjobs) {
      const spec = j.spec.template.spec;
      expect(spec.volumes).toEqual([{ name: 'pvc-models', persistentVolumeClaim: { claimName: 'models' } }]);
      expect(spec.containers[0].volumeMounts).toEqual([{ name: 'pvc-models', mountPath: models }]);
      expect(spec.containers[0].env).toContainEqual({ name: 'FLOWBOOK_MODELS', value: models });
    }
    const rows = client(`
      import { Flow, namespace } from 'flowbook';
      namespace(null);
      console.log(JSON.stringify(await (await Flow('YouTubeVideoTranscription').latestSuccessfulRun).data.rows));
    `);
    expect(rows.map((x: any) => [x.title, x.engine, x.model])).toEqual([['fox', 'whisper', 'for-tests-tiny.en'], ['jfk', 'whisper', 'for-tests-tiny.en']]);
    const missing = await flowbook(['run', fixture('k8s_flow.ts'), '--with', 'kubernetes:persistentVolumeClaims=nope:/models'], { env });
    expect(missing.code).toBe(1);
    expect(errorLine(missing)).toMatch(/failed at K8sFlow\/\d+\/start\/1: the pod cannot be scheduled: .*persistentvolumeclaim "nope" not found/);
  }, 240_000);

  it('`kubernetes job` prints a Job that validates against the Kubernetes schema, with the step\'s requests', async () => {
    const r = await flowbook(['kubernetes', 'job', 'flows/youtube_transcription.ts', 'transcribe'], { env });
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout);
    expect(() => new Job(job).validate()).not.toThrow();
    expect(job.spec.template.spec.containers[0]).toMatchObject({
      image: IMAGE,
      command: ['flowbook', 'step', '--task-spec', expect.any(String)],
      resources: { requests: { cpu: '3', memory: '12288Mi' }, limits: { memory: '12288Mi' } },
      envFrom: [{ secretRef: { name: 'flowbook-s3' } }],
    });
    const withPvc = await flowbook(['kubernetes', 'job', fixture('k8s_flow.ts'), 'work', '--with', 'kubernetes:gpu=1,sharedMemory=1024'], { env });
    const j2 = JSON.parse(withPvc.stdout);
    expect(() => new Job(j2).validate()).not.toThrow();
    expect(j2.spec.template.spec.containers[0].resources.limits).toEqual({ memory: '384Mi', 'nvidia.com/gpu': '1' });
    expect(j2.spec.template.spec.volumes).toEqual([{ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '1024Mi' } }]);
    const bad = await flowbook(['kubernetes', 'job', fixture('k8s_flow.ts'), 'nope'], { env });
    expect(errorLine(bad)).toBe("error: K8sFlow has no step 'nope' (steps: start, work, join, end)");
  });
});
