// The S3 datastore against a real S3 REST server (s3rver on 127.0.0.1): runs, the client in a
// fresh process, dump/logs, resume, the marker index, blob integrity, and clear errors.
import { describe, it, expect, beforeAll, afterAll, onTestFinished } from 'vitest';
import { FlowDatastore } from '../../src/datastore/store.js';
import { TaskJournal } from '../../src/datastore/journal.js';
import { clearRecordCache } from '../../src/datastore/task-records.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, errorLine, REPO } from './helpers.js';
import { startS3, type TestS3 } from '../doubles/s3/server.js';

let s3: TestS3;
let env: Record<string, string>;

/** Run ES module code in a fresh Node process with the S3 env; returns its stdout (JSON). */
function client(code: string, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, env: { ...process.env, ...env, ...extraEnv }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr };
}

function objectsUnder(prefix: string): string[] {
  const dir = path.join(s3.dir, s3.bucket, prefix);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('._S3rver_object')) out.push(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

let firstRun = '';

beforeAll(async () => {
  s3 = await startS3();
  env = s3.env('team/flows');
  const r = flowbook(['run', fixture('s3_flow.ts'), '--quiet'], { env });
  expect(r.code, r.stderr).toBe(0);
  firstRun = /S3Flow\/(\d+) succeeded/.exec(r.stderr)![1];
});
afterAll(async () => {
  await s3?.close();
});

describe('S3 datastore', () => {
  it('a run stores everything under the S3 root; a fresh process reads it back through the client', () => {
    // the run record, and per step one object of task records (its batches, compacted when the
    // run ended): no object per task
    const objects = objectsUnder('team/flows/S3Flow/runs');
    expect(objects.some((o) => o.includes(`/${firstRun}/run.json`))).toBe(true);
    for (const step of ['start', 'each', 'join', 'check', 'end']) {
      const journal = objects.filter((o) => o.includes(`/${firstRun}/${step}/tasks/`));
      expect(journal.length, step).toBe(1);
      expect(journal[0]).toMatch(/\/tasks\/(upto-)?\d{8}\.jsonl\._S3rver_object$/);
    }
    const r = client(`
      import { Flow } from 'flowbook';
      const run = await Flow('S3Flow').latestSuccessfulRun;
      const each = await (await run.step('each')).tasks();
      const start = await (await run.step('start')).task;
      console.log(JSON.stringify({ id: run.id, ok: run.successful, total: await run.data.total, sums: await run.data.sums,
        big: (await start.data.big).length, tasks: each.length, stdout: await start.stdout, steps: (await run.steps()).map((s) => s.id ?? s.pathspec) }));
    `);
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out);
    expect(got).toMatchObject({ id: firstRun, ok: true, big: 20 * 2 ** 20, tasks: 3 });
    // the sums were computed in the foreach tasks from lazily (synchronously) read S3 data
    let expected = 0;
    for (let i = 0; i < 3 * Math.floor((20 * 2 ** 20) / 3); i++) expected += (i * 7) % 251;
    expect(got.total).toBe(expected);
    expect(got.stdout).toContain(`made ${20 * 2 ** 20} bytes`);
    expect(got.steps.map((s: string) => s.split('/').pop())).toEqual(['start', 'each', 'join', 'check', 'end']);
  });

  it('task records on S3: a batch per commit, compacted into one object when the run ends; readers see the same records before, during and after', async () => {
    const saved = process.env;
    process.env = { ...process.env, ...s3.env('journal-test') }; // the S3 client's endpoint and credentials
    onTestFinished(() => void (process.env = saved));
    const ds = new FlowDatastore(s3.env('journal-test').FLOWBOOK_S3_ROOT, 'J');
    const run = await ds.createRun({ status: 'running', createdAt: '', user: 'u', tags: [], systemTags: ['user:u'], params: {}, flowFile: 'f.ts', sourceSha: '', host: 'h', pid: 1 });
    const journal = new TaskJournal(ds, run.runId);
    const done = (id: string) => ({ kind: 'done' as const, taskId: id, done: { pathspec: `J/${run.runId}/s/${id}`, step: 's', taskId: id, attempt: 0, artifacts: {}, foreachStack: [], inputs: [], startedAt: '', finishedAt: '', key: `s/${id}` } });
    for (const id of ['1', '2', '3']) await journal.commit('s', [done(id)]); // three batches
    const batches = objectsUnder(`journal-test/J/runs/${run.runId}/s/tasks`).map((o) => path.basename(o));
    expect(batches.sort()).toEqual(['00000001.jsonl._S3rver_object', '00000002.jsonl._S3rver_object', '00000003.jsonl._S3rver_object']);
    expect(await ds.listTasks(run.runId, 's')).toEqual(['1', '2', '3']); // this reader has read batches 1..3
    await journal.commit('s', [done('4')]);
    await journal.close();
    expect(objectsUnder(`journal-test/J/runs/${run.runId}/s/tasks`).map((o) => path.basename(o))).toEqual(['upto-00000004.jsonl._S3rver_object']);
    // the reader that had read batches 1..3 reads on from the compacted object, without doubles
    const r = await ds.stepRecords(run.runId, 's');
    expect([...r.tasks.keys()]).toEqual(['1', '2', '3', '4']);
    expect(r.damaged).toEqual([]);
    clearRecordCache();
    expect(await ds.listTasks(run.runId, 's')).toEqual(['1', '2', '3', '4']);
    expect(ds.stepRecordsSync(run.runId, 's').tasks.size).toBe(4);
  });

  it('dump and logs read S3 as they read a local datastore', () => {
    const d = flowbook(['dump', `S3Flow/${firstRun}`], { env });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/total/);
    const l = flowbook(['logs', `S3Flow/${firstRun}/start/1`], { env });
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toContain('made 20971520 bytes');
  });

  it('identical artifacts are stored once: a second run adds no new big blob', () => {
    const blobs = objectsUnder('team/flows/S3Flow/data').length;
    const r = flowbook(['run', fixture('s3_flow.ts'), '--quiet'], { env });
    expect(r.code, r.stderr).toBe(0);
    const added = objectsUnder('team/flows/S3Flow/data').length - blobs;
    expect(added).toBe(0);
  });

  it('the run index is one marker per run: the newest run comes first in a one-key listing', () => {
    const markers = objectsUnder('team/flows/S3Flow/index').map((f) => path.basename(f).replace('._S3rver_object', ''));
    expect(markers.length).toBeGreaterThanOrEqual(4);
    const r = client(`
      import { Flow, namespace } from 'flowbook';
      namespace(null);
      const runs = await Flow('S3Flow').runs();
      console.log(JSON.stringify({ latest: (await Flow('S3Flow').latestRun).id, ids: runs.map((r) => r.id) }));
    `);
    expect(r.code, r.err).toBe(0);
    const { latest, ids } = JSON.parse(r.out);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(latest);
    expect(Number(ids[0])).toBeGreaterThan(Number(ids[1]));
  });

  it('a failed step on S3 fails the run; resume clones the DONE tasks and finishes', () => {
    const bad = flowbook(['run', fixture('s3_flow.ts'), '--quiet', '--mib', '1'], { env: { ...env, FAIL_CHECK: '1' } });
    expect(bad.code).toBe(1);
    expect(errorLine(bad)).toMatch(/check failed on purpose/);
    const good = flowbook(['resume', fixture('s3_flow.ts'), '--quiet'], { env });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stderr).toMatch(/cloned 5 task\(s\)/);
    expect(good.stderr).toMatch(/ran 2 task\(s\)/);
  });

  it('a corrupted blob is detected on read, never returned', () => {
    const big = objectsUnder('team/flows/S3Flow/data').map((f) => ({ f, size: fs.statSync(f).size })).sort((a, b) => b.size - a.size)[0];
    const bytes = fs.readFileSync(big.f);
    bytes[1000] ^= 0xff;
    fs.writeFileSync(big.f, bytes);
    const r = client(`
      import { Flow } from 'flowbook';
      const run = await Flow('S3Flow').run('${firstRun}');
      try { await (await run.step('start')).task.then((t) => t.data.big); console.log('read'); } catch (e) { console.log(e.name + ': ' + e.message); }
    `);
    expect(r.out).toMatch(/^IntegrityError: artifact 'big' is corrupted/);
  });

  it('misconfiguration is one clear line and a non-zero exit', () => {
    const noRoot = flowbook(['run', fixture('linear.ts'), '--quiet'], { env: { ...env, FLOWBOOK_S3_ROOT: '' } });
    expect(noRoot.code).not.toBe(0);
    expect(errorLine(noRoot)).toBe('error: the S3 datastore needs a root: set FLOWBOOK_S3_ROOT=s3://bucket/prefix (or --datastore-root s3://…)');
    const noBucket = flowbook(['run', fixture('linear.ts'), '--quiet'], { env: { ...env, FLOWBOOK_S3_ROOT: 's3://no-such-bucket/x' } });
    expect(noBucket.code).not.toBe(0);
    expect(errorLine(noBucket)).toBe('error: S3 datastore s3://no-such-bucket/x: PUT LinearFlow/flow.json: the bucket does not exist (HTTP 404, NoSuchBucket)');
    const down = flowbook(['run', fixture('linear.ts'), '--quiet'], { env: { ...env, FLOWBOOK_S3_ENDPOINT: 'http://127.0.0.1:9' } });
    expect(down.code).not.toBe(0);
    expect(errorLine(down)).toBe('error: S3 datastore s3://flowbook-test/team/flows: HEAD LinearFlow/flow.json: cannot connect to http://127.0.0.1:9 (after 4 tries)');
    const flag = flowbook(['run', fixture('linear.ts'), '--quiet', '--datastore', 's3', '--datastore-root', '/tmp/not-s3'], { env: { FLOWBOOK_DATASTORE: '' } });
    expect(errorLine(flag)).toBe('error: the S3 datastore root must be s3://bucket/prefix, got "/tmp/not-s3"');
  });

  it('steps on Kubernetes refuse a local datastore, and a missing cluster, before anything runs', () => {
    const local = flowbook(['run', fixture('linear.ts'), '--quiet', '--with', 'kubernetes:image=flowbook:test'], { root: fs.mkdtempSync('/tmp/fb-local-'), env: { FLOWBOOK_DATASTORE: 'local' } });
    expect(local.code).toBe(1);
    expect(errorLine(local)).toMatch(/^error: steps start, .*end run on Kubernetes, whose pods cannot see the local datastore .*: use S3 \(FLOWBOOK_DATASTORE=s3/);
    const noCluster = flowbook(['run', fixture('linear.ts'), '--quiet', '--with', 'kubernetes:image=flowbook:test'], { env: { ...env, KUBECONFIG: '', HOME: '/nonexistent' } });
    expect(noCluster.code).toBe(1);
    expect(errorLine(noCluster)).toMatch(/^error: no Kubernetes cluster configured: set KUBECONFIG/);
    const badFile = flowbook(['run', fixture('linear.ts'), '--quiet', '--with', 'kubernetes:image=flowbook:test'], { env: { ...env, KUBECONFIG: '/nonexistent/kubeconfig' } });
    expect(errorLine(badFile)).toMatch(/^error: cannot read the kubeconfig \(\/nonexistent\/kubeconfig\): ENOENT/);
    expect(noCluster.stderr).not.toMatch(/Running S3Flow|LinearFlow\/\d+/);
    const noImage = flowbook(['run', fixture('linear.ts'), '--quiet', '--with', 'kubernetes:cpu=2'], { env: { ...env, FLOWBOOK_KUBERNETES_IMAGE: '' } });
    expect(errorLine(noImage)).toMatch(/^error: step 'start' runs on Kubernetes but has no image/);
  });
});
