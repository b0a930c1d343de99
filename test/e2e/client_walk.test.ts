// Walking a run with the client, as in Metaflow: up (task.step, step.run, run.flow, task.parent)
// and down (task.childTasks) a foreach and its join; a failed task's exception; a resumed run's
// cloned tasks; flows() and the error a mistyped flow name gives — locally and on S3.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { flowbook, fixture, tempDir, runIdOf, REPO } from './helpers.js';
import { Flow, Run, Task, flows, namespace, setDatastoreRoot, NotFoundError, FlowUsageError, type Task as TaskT } from '../../src/index.js';
import { startS3, type TestS3 } from '../doubles/s3/server.js';

const root = tempDir();
let okId = '';
let failedId = '';
let resumedId = '';

const run = (args: string[], env: Record<string, string> = {}) => flowbook(args, { root, env });
const paths = (ts: TaskT[]) => ts.map((t) => t.pathspec);

beforeAll(() => {
  const ok = run(['run', fixture('walk.ts')]);
  expect(ok.code, ok.stderr).toBe(0);
  okId = runIdOf(ok.stderr);
  const failed = run(['run', fixture('walk.ts')], { WALK_FAIL: '2' });
  expect(failed.code).toBe(1);
  failedId = runIdOf(failed.stderr);
  const resumed = run(['resume', fixture('walk.ts'), '--origin-run-id', failedId]);
  expect(resumed.code, resumed.stderr).toBe(0);
  resumedId = runIdOf(resumed.stderr);
  // a flow with runs, none of them successful
  expect(run(['run', fixture('failing.ts'), '--quiet']).code).toBe(1);
  setDatastoreRoot(root);
  namespace(null);
}, 120_000);

describe('walking a run', () => {
  it('up: task.step, step.run, run.flow; down: start → its foreach branches → the join → end', async () => {
    const r = await Flow('WalkFlow').run(okId);
    expect(r.flow).toBeInstanceOf(Flow);
    expect(r.flow.name).toBe('WalkFlow');
    expect((await r.flow.latestSuccessfulRun)!.id).toBe(resumedId);

    const start = (await r.step('start').task)!;
    expect(start.step.pathspec).toBe(`WalkFlow/${okId}/start`);
    expect(start.step.run.pathspec).toBe(r.pathspec);
    expect(await start.parentTasks).toEqual([]);
    expect(await start.parent).toBeUndefined();

    const branches = await start.childTasks;
    expect(branches.map((t) => t.stepName)).toEqual(['square', 'square', 'square']);
    expect(branches.map((t) => t.index)).toEqual([0, 1, 2]);
    expect(await Promise.all(branches.map((t) => t.data.y))).toEqual([1, 4, 9]);
    for (const b of branches) {
      expect((await b.parent)!.pathspec).toBe(start.pathspec);
      expect(b.step.run.flow.name).toBe('WalkFlow');
    }

    const joins = await branches[0].childTasks;
    expect(joins.map((t) => t.stepName)).toEqual(['join']);
    const join = joins[0];
    for (const b of branches.slice(1)) expect(paths(await b.childTasks)).toEqual([join.pathspec]);
    // the join read every branch, in the order its `inputs` had
    expect(paths(await join.parentTasks)).toEqual(paths(branches));
    await expect(join.parent).rejects.toThrow(FlowUsageError);
    await expect(join.parent).rejects.toThrow(`task ${join.pathspec} is a join of 3 tasks: use task.parentTasks`);

    const end = (await r.endTask)!;
    expect(paths(await join.childTasks)).toEqual([end.pathspec]);
    expect((await end.parent)!.pathspec).toBe(join.pathspec);
    expect(await end.childTasks).toEqual([]);
    // a task built from its pathspec walks the same way
    expect(paths(await Task(join.pathspec).parentTasks)).toEqual(paths(branches));
  });

  it("a failed task: its exception (type, message, where in the flow's file), its parent, and the branches that did finish", async () => {
    const r = Run(`WalkFlow/${failedId}`);
    expect(r.successful).toBe(false);
    const tasks = await r.step('square').tasks();
    // the branch that threw (a branch still running then was stopped, and failed too)
    const failed = tasks.filter((t) => !t.successful);
    const errors = await Promise.all(failed.map((t) => t.exception));
    const bad = failed[errors.findIndex((e) => e?.type === 'RangeError')];
    expect(bad).toBeDefined();
    const e = (await bad.exception)!;
    expect(e.type).toBe('RangeError');
    expect(e.message).toBe('cannot square 2');
    expect(e.where).toMatch(/test\/fixtures\/flows\/walk\.ts:\d+$/);
    expect(e.stack).toContain('RangeError: cannot square 2');
    // it recorded no inputs, but the foreach was done by the one start task
    const start = (await r.step('start').task)!;
    expect((await bad.parent)!.pathspec).toBe(start.pathspec);
    expect(paths(await start.childTasks)).not.toContain(bad.pathspec);
    expect(await bad.childTasks).toEqual([]);
    for (const ok of tasks.filter((t) => t.successful)) expect(await ok.exception).toBeUndefined();
  });

  it("a resumed run: cloned tasks show where they ran and what they printed there, and the run walks the same", async () => {
    const r = Run(`WalkFlow/${resumedId}`);
    expect(r.origin).toBe(failedId);
    const start = (await r.step('start').task)!;
    expect(start.origin).toBe(`WalkFlow/${failedId}/start/1`);
    expect(await start.stdout).toBe('start says hi\n');
    const branches = await start.childTasks;
    expect(branches.map((t) => t.index)).toEqual([0, 1, 2]);
    // item 2 ran again; the others finished in the failed run (unless it stopped them first) and were cloned
    expect(branches[1].origin).toBeUndefined();
    for (const b of branches) if (b.origin) expect(b.origin).toMatch(new RegExp(`^WalkFlow/${failedId}/square/\\d+$`));
    expect(await Promise.all(branches.map((t) => t.stdout))).toEqual(['squaring 1\n', 'squaring 2\n', 'squaring 3\n']);
    for (const b of branches) expect(b.pathspec.startsWith(`WalkFlow/${resumedId}/square/`)).toBe(true);
    const join = (await r.step('join').task)!;
    expect(paths(await join.parentTasks)).toEqual(paths(branches));
    expect(await r.data.ys).toEqual([1, 4, 9]);
  });
});

describe('flows and flow names', () => {
  it("flows() lists the datastore's flows; a mistyped name is a NotFoundError naming the datastore and the closest flow", async () => {
    expect((await flows()).map((f) => f.name)).toEqual(['FailingFlow', 'WalkFlow']);
    const typo = Flow('WalkFlw');
    for (const lookup of [() => typo.latestRun, () => typo.latestSuccessfulRun, () => typo.runs(), () => typo.run(okId)]) {
      await expect(lookup()).rejects.toThrow(NotFoundError);
    }
    await expect(typo.latestSuccessfulRun).rejects.toThrow(`flow 'WalkFlw' not found in the datastore ${root}. Did you mean 'WalkFlow'? flows there: FailingFlow, WalkFlow`);
    await expect(Flow('walkflow').latestRun).rejects.toThrow("Did you mean 'WalkFlow'?");
    // nothing close: no suggestion, still the list
    await expect(Flow('Transcription').latestRun).rejects.toThrow(`flow 'Transcription' not found in the datastore ${root}. flows there: FailingFlow, WalkFlow`);
    // a flow that exists but never succeeded is not an error
    expect(await Flow('FailingFlow').latestSuccessfulRun).toBeUndefined();
    expect((await Flow('FailingFlow').latestRun)!.successful).toBe(false);
    // an unknown run of a known flow keeps its own message
    await expect(Flow('WalkFlow').run('1')).rejects.toThrow('run not found: WalkFlow/1');
    // a mistyped step of a run: the run's steps
    await expect(Run(`WalkFlow/${okId}`).step('sqare').tasks()).rejects.toThrow(`step not found: WalkFlow/${okId}/sqare (did you mean 'square'?); the run's steps: `);
  });

  it('an empty datastore: flows() is empty and the error says how to fill it', async () => {
    const empty = tempDir();
    setDatastoreRoot(empty);
    try {
      expect(await flows()).toEqual([]);
      await expect(Flow('HelloFlow').latestRun).rejects.toThrow(`flow 'HelloFlow' not found in the datastore ${empty}. it has no flows yet (run one with \`flowbook run FILE\``);
    } finally {
      setDatastoreRoot(root);
    }
  });

  it('the CLI says the same for a mistyped flow', () => {
    const r = run(['advise', 'WalkFlw/latest']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: flow 'WalkFlw' not found in the datastore ${root}. Did you mean 'WalkFlow'?`);
  });
});

describe('flows() on S3', () => {
  let s3: TestS3;
  afterAll(async () => {
    await s3?.close();
  });

  it('lists the flows under the S3 root, and a typo there names the s3:// root', async () => {
    s3 = await startS3();
    const env = s3.env('team/walk');
    expect(flowbook(['run', fixture('walk.ts'), '--quiet'], { env }).code).toBe(0);
    expect(flowbook(['run', fixture('linear.ts'), '--quiet'], { env }).code).toBe(0);
    // a fresh process, as a notebook on another machine would be
    const code = `
      import { flows, Flow } from 'flowbook';
      const names = (await flows()).map((f) => f.name);
      const error = await Flow('LinearFlw').latestRun.then(() => 'no error', (e) => e.name + ': ' + e.message);
      console.log(JSON.stringify({ names, error }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout.trim());
    expect(got.names).toEqual(['LinearFlow', 'WalkFlow']);
    expect(got.error).toBe(`NotFoundError: flow 'LinearFlw' not found in the datastore s3://${s3.bucket}/team/walk. Did you mean 'LinearFlow'? flows there: LinearFlow, WalkFlow`);
  }, 120_000);
});
