// Resume by reference: a step whose tasks all finished in the origin is one `ref` record in the
// resumed run (not a record per task); cloned tasks keep their ids; the client resolves them,
// through chains of resumes, with `origin` naming where each ran.
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';

const FLOW = fixture('sweep.ts');
const TOTAL = Array.from({ length: 30 }, (_, i) => i * 3).reduce((a, b) => a + b, 0);
let root: string;

function runId(stderr: string, verb: 'succeeded' | 'failed'): string {
  const m = new RegExp(`SweepFlow/(\\d+) ${verb}`).exec(stderr);
  expect(m, stderr).toBeTruthy();
  return m![1];
}
const journal = (run: string, step: string) => fs.readFileSync(path.join(root, 'SweepFlow', 'runs', run, step, 'tasks.jsonl'), 'utf8');
const filesUnder = (dir: string) => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

beforeAll(() => {
  root = tempDir();
  setDatastoreRoot(root);
  namespace(null);
});

describe('resume by reference', () => {
  it('a finished run resumed: every step is one ref record; tasks keep their ids and name their origin', async () => {
    const origin = runId(flowbook(['run', FLOW, '--quiet'], { root }).stderr, 'succeeded');
    const r = flowbook(['resume', FLOW, '--origin-run-id', origin], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cloned 33 task\(s\)/);
    expect(r.stderr).toMatch(/ran 0 task\(s\)/);
    const resumed = runId(r.stderr, 'succeeded');
    for (const step of ['start', 'work', 'join', 'end']) expect(journal(resumed, step)).toBe(`{"kind":"ref","run":"${origin}"}\n`);
    // run.json, the heartbeat and a journal per step: nothing per task
    expect(filesUnder(path.join(root, 'SweepFlow', 'runs', resumed))).toBe(6);

    const before = await (await Flow('SweepFlow').run(origin)).step('work').tasks();
    const run = await Flow('SweepFlow').run(resumed);
    expect(await run.data.total).toBe(TOTAL);
    const tasks = await run.step('work').tasks();
    expect(tasks.map((t) => t.id)).toEqual(before.map((t) => t.id));
    const start = (await run.step('start').tasks())[0];
    for (const [i, t] of tasks.entries()) {
      expect(t.pathspec).toBe(`SweepFlow/${resumed}/work/${t.id}`);
      expect(t.successful).toBe(true);
      expect(t.origin).toBe(`SweepFlow/${origin}/work/${t.id}`);
      expect((await t.metadata).inputs).toEqual([start.pathspec]);
      expect(await t.data.y).toBe(t.index! * 3);
      if (i % 10 === 0) expect(await t.data.note).toBe('n'.repeat(600 + t.index!));
    }
  });

  it('a failed foreach resumed: the step is referenced, only the missing tasks run (with new ids), and a chain of resumes resolves', async () => {
    const failed = flowbook(['run', FLOW], { root, env: { SWEEP_FAIL: '7' } });
    expect(failed.code).toBe(1);
    const origin = runId(failed.stderr, 'failed');
    const originTasks = await (await Flow('SweepFlow').run(origin)).step('work').tasks();
    const done = originTasks.filter((t) => t.successful);
    expect(done.length).toBeLessThan(30);
    const maxId = Math.max(...originTasks.map((t) => Number(t.id)), 1);

    const r = flowbook(['resume', FLOW, '--origin-run-id', origin], { root });
    expect(r.code, r.stderr).toBe(0);
    const second = runId(r.stderr, 'succeeded');
    expect(journal(second, 'start')).toBe(`{"kind":"ref","run":"${origin}"}\n`);
    const lines = journal(second, 'work').trim().split('\n');
    expect(lines[0]).toBe(`{"kind":"ref","run":"${origin}"}`);
    expect(lines.filter((l) => l.includes('"kind":"done"')).length).toBe(30 - done.length);
    const tasks = await (await Flow('SweepFlow').run(second)).step('work').tasks();
    expect(tasks.length).toBe(30);
    const cloned = tasks.filter((t) => t.origin);
    expect(cloned.map((t) => t.id).sort()).toEqual(done.map((t) => t.id).sort());
    for (const t of tasks.filter((x) => !x.origin)) expect(Number(t.id)).toBeGreaterThan(maxId);
    expect(await (await Flow('SweepFlow').run(second)).data.total).toBe(TOTAL);

    // resume the resumed run from join: start and work are referenced (work through two runs)
    const third = flowbook(['resume', FLOW, 'join', '--origin-run-id', second], { root });
    expect(third.code, third.stderr).toBe(0);
    const thirdId = runId(third.stderr, 'succeeded');
    expect(journal(thirdId, 'work')).toBe(`{"kind":"ref","run":"${second}"}\n`);
    const chained = await (await Flow('SweepFlow').run(thirdId)).step('work').tasks();
    expect(chained.map((t) => t.id)).toEqual(tasks.map((t) => t.id));
    for (const [i, t] of chained.entries()) {
      // where each ran: the first run for those it finished, the second for those it re-ran
      expect(t.origin).toBe(tasks[i].origin ?? `SweepFlow/${second}/work/${t.id}`);
      expect(await t.data.y).toBe(t.index! * 3);
    }
    expect(await (await Flow('SweepFlow').run(thirdId)).data.total).toBe(TOTAL);
  });
});
