// `flowbook spin FILE STEP`: one task again with a past task's inputs and the step's current code,
// through the real CLI — a linear step whose code changed, a foreach task (--index), a join, a
// @card step, a failing spin, every bad input as one line (and no run made), and the notebook's
// spin(). Each checks what a user sees: the printed artifacts, the stored values, the indexes.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, errorLine } from './helpers.js';
import { Flow, Run, Task, namespace, setDatastoreRoot } from '../../src/client/index.js';
import { spin } from '../../src/notebook/index.js';
import { startS3, type TestS3 } from '../doubles/s3/server.js';

/** A flow in its own folder whose step `b` computes `x * FACTOR`, and whose `b` has a card. */
const flowText = (factor: string, extra = '') => `import { FlowSpec, step, card, current, Markdown } from 'flowbook';
export class SpinFlow extends FlowSpec {
  x!: number;
  label!: string;
  @step async start() { this.x = 1; this.label = 'kept'; this.next(this.a); }
  @step async a() { this.x += 1; this.next(this.b); }
  @card({ type: 'blank' })
  @step async b() { ${extra} this.x = this.x * ${factor}; current.card.append(new Markdown('# x is ' + this.x)); this.next(this.end); }
  @step async end() {}
}
`;

const runDirs = (root: string, flow: string) => fs.readdirSync(path.join(root, flow, 'runs')).sort();
const spunOf = (stderr: string) => /^Spun: (\S+)/m.exec(stderr)![1];

describe('flowbook spin', () => {
  let root: string;
  let file: string;
  let originId: string;

  beforeAll(() => {
    root = tempDir();
    file = path.join(tempDir('flowbook-spin-flow-'), 'spin_flow.ts');
    fs.writeFileSync(file, flowText('10'));
    const r = flowbook(['run', file, '--quiet'], { root });
    expect(r.code, r.stderr).toBe(0);
    originId = /Done: SpinFlow\/(\d+)/.exec(r.stderr)![1];
    setDatastoreRoot(root);
    namespace(null);
  });

  it("runs the step's current code on the past task's inputs; the origin run and latest stay as they were", async () => {
    fs.writeFileSync(file, flowText('100'));
    const r = flowbook(['spin', file, 'b'], { root });
    expect(r.code, r.stderr).toBe(0);
    const pathspec = spunOf(r.stderr);
    expect(pathspec).toMatch(/^SpinFlow\/\d+\/b\/3$/);
    expect(r.stderr).toContain(`(from SpinFlow/${originId}/b/3)`);
    // what it set, as dump shows it, and against the past task
    expect(r.stdout).toMatch(/^ {2}x \(number, 3 bytes, sha256 [0-9a-f]{12}; changed from the past task\): 200$/m);
    expect(r.stdout).toContain('passed on unchanged from its input: label');
    // its card, where `card get` finds it
    const card = /^ {2}blank\S* +(\/\S+\.html)$/m.exec(r.stdout)?.[1];
    expect(card, r.stdout).toBeDefined();
    expect(fs.readFileSync(card!, 'utf8')).toContain('x is 200');
    expect(r.stdout).toContain(`open: flowbook card view ${pathspec}`);
    const got = flowbook(['card', 'get', pathspec], { root });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toContain('x is 200');

    expect(await Task(pathspec).data.x).toBe(200);
    // its input is a task of the spin run, referenced from the origin (the same blobs)
    const [parent] = await Task(pathspec).parentTasks;
    expect(parent.pathspec).toBe(`${pathspec.split('/').slice(0, 2).join('/')}/a/2`);
    expect(parent.origin).toBe(`SpinFlow/${originId}/a/2`);
    const spinRun = Run(pathspec.split('/').slice(0, 2).join('/'));
    expect(spinRun.spinOf).toBe(`SpinFlow/${originId}/b/3`);
    expect(spinRun.systemTags).toContain('spin');
    expect(spinRun.successful).toBe(true);
    // the origin is unchanged, and still the flow's latest and latest successful run
    expect(await Task(`SpinFlow/${originId}/b/3`).data.x).toBe(20);
    expect((await Flow('SpinFlow').latestRun)!.id).toBe(originId);
    expect((await Flow('SpinFlow').latestSuccessfulRun)!.id).toBe(originId);
    expect((await Flow('SpinFlow').runs()).map((x) => x.id)).toEqual([originId]);
    // resume takes the newest real run, never a spin run
    const resumed = flowbook(['resume', file, 'b'], { root });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`Resumed from SpinFlow/${originId}:`);
    fs.writeFileSync(file, flowText('10'));
  });

  it('a step that fails in the spin is one line, exit 1, its log kept; the spin run failed, nothing else changed', async () => {
    fs.writeFileSync(file, flowText('10', "throw new Error('card broke');"));
    const latest = (await Flow('SpinFlow').latestSuccessfulRun)!.id;
    const r = flowbook(['spin', file, 'b', '--from', `SpinFlow/${originId}`], { root });
    fs.writeFileSync(file, flowText('10'));
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^error: spin of SpinFlow\/\d+\/b\/3 failed at SpinFlow\/\d+\/b\/3: Error: card broke \(at .*spin_flow\.ts:\d+(:\d+)?\)$/);
    const failed = /^Failed: (\S+)/m.exec(r.stderr)![1];
    const logs = flowbook(['logs', failed, '--stderr'], { root });
    expect(logs.stderr).toContain('Error: card broke');
    expect(Run(failed.split('/').slice(0, 2).join('/')).status).toBe('failed');
    expect((await Flow('SpinFlow').latestSuccessfulRun)!.id).toBe(latest);
  });

  it('bad input is one clear line, non-zero, and makes no run', () => {
    const before = runDirs(root, 'SpinFlow');
    const cases: [string[], RegExp | string][] = [
      [['spin', file, 'nope'], "error: cannot spin step 'nope': SpinFlow has no such step (steps: start, a, b, end)"],
      [['spin', file, 'b', '--from', 'LinearFlow/1'], `error: --from LinearFlow/1 names flow LinearFlow, but ${file} is flow SpinFlow`],
      [['spin', file, 'b', '--from', `SpinFlow/${originId}/a/2`], /^error: --from SpinFlow\/\d+\/a\/2 is in step a, not in step b /],
      [['spin', file, 'b', '--from', `SpinFlow/${originId}/b/99`], /^error: task not found: SpinFlow\/\d+\/b\/99 \(its tasks: 3\)$/],
      [['spin', file, 'b', '--from', 'SpinFlow/123'], /^error: run not found: SpinFlow\/123 in datastore /],
      [['spin', file, 'b', '--index', '1'], /^error: --index 1: step b of run SpinFlow\/\d+ has 1 finished task \(--index 0\)$/],
      [['spin', file, 'b', '--index', '-1'], /^error: (--index takes|unknown option)/],
      [['spin', file, 'b', '--from', `SpinFlow/${originId}/b/3`, '--index', '0'], /^error: --from SpinFlow\/\d+\/b\/3 names one task already;/],
    ];
    for (const [args, want] of cases) {
      const r = flowbook(args, { root });
      expect(r.code, args.join(' ')).not.toBe(0);
      const line = errorLine(r) ?? r.stderr.trim();
      if (typeof want === 'string') expect(line).toBe(want);
      else expect(line).toMatch(want);
    }
    // b is now a split: the past task's place (one successor) does not fit it
    const split = path.join(path.dirname(file), 'spin_split.ts');
    fs.writeFileSync(
      split,
      flowText('10')
        .replace('this.next(this.end); }\n  @step async end', 'this.next(this.c, this.d); }\n  @step async c() { this.next(this.j); }\n  @step async d() { this.next(this.j); }\n  @step async j(inputs: unknown[]) { this.next(this.end); }\n  @step async end'),
    );
    const shape = flowbook(['spin', split, 'b', '--from', `SpinFlow/${originId}`], { root });
    expect(shape.code, shape.stderr).toBe(1);
    expect(errorLine(shape)).toBe(`error: step b was a linear step in run SpinFlow/${originId} and is a split-static step now: its past inputs do not fit; run the flow (flowbook run ${split})`);
    // a flow with no successful run
    const fresh = tempDir();
    const none = flowbook(['spin', fixture('linear.ts'), 'b'], { root: fresh });
    expect(none.code).toBe(1);
    expect(errorLine(none)).toBe('error: LinearFlow has no successful run to spin from: run it first (flowbook run FILE), or name a run with --from LinearFlow/RUN_ID');
    expect(runDirs(root, 'SpinFlow')).toEqual(before);
  });

  it('--help documents the command', () => {
    const r = flowbook(['spin', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--from <pathspec>');
    expect(r.stdout).toContain('--index <n>');
    expect(r.stdout).toContain('never becomes latest');
  });
});

describe('flowbook spin of a foreach task and of a join', () => {
  let root: string;
  let runId: string;
  beforeAll(() => {
    root = tempDir();
    const r = flowbook(['run', fixture('foreach.ts'), '--quiet', '--xs', '[3,1,5]'], { root });
    expect(r.code, r.stderr).toBe(0);
    runId = /Done: ForeachFlow\/(\d+)/.exec(r.stderr)![1];
    setDatastoreRoot(root);
    namespace(null);
  });

  it('--index N replays the Nth item of the foreach: this.input and this.index are that item', async () => {
    const r = flowbook(['spin', fixture('foreach.ts'), 'square', '--index', '2'], { root });
    expect(r.code, r.stderr).toBe(0);
    const t = Task(spunOf(r.stderr));
    expect(await t.data.y).toBe(25);
    expect(await t.data.idx).toBe(2);
    expect(t.index).toBe(2);
    expect(r.stdout).toMatch(/^ {2}y \(number, 2 bytes, sha256 [0-9a-f]{12}; same value as the past task\): 25$/m);
    const r0 = flowbook(['spin', fixture('foreach.ts'), 'square', '--from', `ForeachFlow/${runId}`], { root });
    expect(await Task(spunOf(r0.stderr)).data.y).toBe(9);
    const bad = flowbook(['spin', fixture('foreach.ts'), 'square', '--index', '3'], { root });
    expect(errorLine(bad)).toBe(`error: --index 3: step square of run ForeachFlow/${runId} has 3 finished tasks (--index 0 to 2)`);
  });

  it('a join reads every foreach task of the past run; one whose record is gone is one line', async () => {
    const r = flowbook(['spin', fixture('foreach.ts'), 'join', '--from', `ForeachFlow/${runId}`], { root });
    expect(r.code, r.stderr).toBe(0);
    const t = Task(spunOf(r.stderr));
    expect(await t.data.ys).toEqual([9, 1, 25]);
    expect(await t.data.idxs).toEqual([0, 1, 2]);
    expect((await t.parentTasks).map((p) => p.index)).toEqual([0, 1, 2]);

    // the foreach tasks' records gone (their journal removed): the join cannot be replayed
    const copy = tempDir();
    fs.cpSync(root, copy, { recursive: true });
    fs.rmSync(path.join(copy, 'ForeachFlow/runs', runId, 'square'), { recursive: true });
    const gone = flowbook(['spin', fixture('foreach.ts'), 'join', '--from', `ForeachFlow/${runId}`], { root: copy });
    expect(gone.code).toBe(1);
    expect(errorLine(gone)).toMatch(new RegExp(`^error: cannot spin ForeachFlow/${runId}/join/\\d+: its input ForeachFlow/${runId}/square/\\d+ is gone \\(it has no DONE record\\)$`));
  });

  it("an input's missing blob is one line", () => {
    const r0 = tempDir();
    expect(flowbook(['run', fixture('linear.ts'), '--quiet'], { root: r0 }).code).toBe(0);
    // b's `noise` is a 1 KiB blob of its own; `end` reads b
    const data = path.join(r0, 'LinearFlow/data');
    for (const d of fs.readdirSync(data)) fs.rmSync(path.join(data, d), { recursive: true });
    const r = flowbook(['spin', fixture('linear.ts'), 'end'], { root: r0 });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^error: cannot spin LinearFlow\/\d+\/end\/4: its input LinearFlow\/\d+\/b\/3 is gone \(the blob [0-9a-f]{64} of its artifact 'noise' is missing\)$/);
  });
});

describe("the notebook's spin()", () => {
  it('returns the spin task, whose data and cards are there to show', async () => {
    const root = tempDir();
    expect(flowbook(['run', fixture('card_steps.ts'), '--quiet'], { root }).code).toBe(0);
    setDatastoreRoot(root);
    namespace(null);
    const task = await spin(fixture('card_steps.ts'), 'postprocess', { echo: false });
    expect(task.stepName).toBe('postprocess');
    expect(Run(`${task.flowName}/${task.runId}`).spinOf).toMatch(/^CardStepsFlow\/\d+\/postprocess\/\d+$/);
    expect(await task.data.total).toBe(3);
    const [card] = await task.cards;
    expect(await card.html()).toContain('postprocess of 3 clips');
    const w = await spin(fixture('card_steps.ts'), 'work', { index: 1, echo: false });
    expect(w.index).toBe(1);
    expect(await (await w.cards)[0].html()).toContain('clip b');
    await expect(spin(fixture('card_steps.ts'), 'nope', { echo: false })).rejects.toThrow("cannot spin step 'nope': CardStepsFlow has no such step (steps: start, work, join, postprocess, end)");
  });
});

describe('flowbook spin on the S3 datastore', () => {
  let s3: TestS3;
  afterAll(async () => {
    await s3?.close();
  });

  it('replays a join from S3; the marker index still names the origin as latest', async () => {
    s3 = await startS3();
    const env = s3.env('spin');
    const r = flowbook(['run', fixture('foreach.ts'), '--quiet', '--xs', '[2,4]'], { env });
    expect(r.code, r.stderr).toBe(0);
    const runId = /Done: ForeachFlow\/(\d+)/.exec(r.stderr)![1];
    const sp = flowbook(['spin', fixture('foreach.ts'), 'join', '--quiet'], { env });
    expect(sp.code, sp.stderr).toBe(0);
    const pathspec = spunOf(sp.stderr);
    expect(pathspec.split('/')[1]).not.toBe(runId);
    expect(sp.stdout).toMatch(/^ {2}ys \(array, 6 bytes, sha256 [0-9a-f]{12}; same value as the past task\): \[ 4, 16 \]$/m);
    const ys = flowbook(['dump', `${pathspec}/ys`, '--json'], { env });
    expect(JSON.parse(ys.stdout)).toEqual([4, 16]);
    for (const which of ['latest', 'latest-successful']) {
      const d = flowbook(['dump', `ForeachFlow/${which}`], { env });
      expect(d.stderr, which).toContain(`ForeachFlow/${runId}: succeeded`);
    }
  });
});
