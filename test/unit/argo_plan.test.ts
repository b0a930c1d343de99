// src/compute/argo/plan.ts: under Argo each pod plans its own task from the graph and the foreach
// indices the DAG hands it. The unit tests pin the pieces (task ids, indices, enclosing splits);
// the end-to-end check runs each graph shape locally with the real scheduler and asserts that, for
// every task it ran, planArgoTask arrives at the same key, the same foreach frames and the same
// inputs in the same order — i.e. a pod plans exactly the task the local scheduler would have.
import { beforeAll, describe, expect, it } from 'vitest';
import { argoTaskId, enclosingSplits, foreachDepth, parseIndices, planArgoTask, type RecordLookup } from '../../src/compute/argo/plan.js';
import { loadFlowGraph } from '../../src/flow/graph.js';
import { FlowUsageError } from '../../src/errors.js';
import type { TaskDone } from '../../src/datastore/metadata.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';
import { fixture, flowbook, tempDir } from '../e2e/helpers.js';

const ids = (...indices: number[]) => argoTaskId(indices.map((index) => ({ index })));

describe('argoTaskId', () => {
  it('start (no frames) is task 1; a single foreach numbers its tasks 1..n in order', () => {
    expect(argoTaskId([])).toBe('1');
    for (let i = 0; i < 100; i++) expect(ids(i)).toBe(String(i + 1));
  });

  it('nested indices are folded without collisions', () => {
    const seen = new Map<string, string>();
    for (let i = 0; i <= 50; i++)
      for (let j = 0; j <= 50; j++) {
        const id = ids(i, j);
        expect(seen.get(id), `(${i},${j}) collides with ${seen.get(id)}`).toBeUndefined();
        seen.set(id, `(${i},${j})`);
      }
    expect(seen.size).toBe(51 * 51);
    // three levels: still distinct
    const three = new Set<string>();
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) for (let k = 0; k < 8; k++) three.add(ids(i, j, k));
    expect(three.size).toBe(512);
  });

  it('ids are positive integers of at most 12 digits; larger ones are refused', () => {
    expect(ids(3, 4)).toMatch(/^[1-9]\d*$/);
    expect(ids(999_999_999_998)).toBe('999999999999');
    expect(() => ids(999_999_999_999)).toThrow(FlowUsageError);
    expect(() => ids(999_999_999_999)).toThrow(/exceeds 12 digits/);
    expect(() => ids(1000, 1000, 1000)).toThrow(/exceeds 12 digits/);
  });
});

describe('parseIndices', () => {
  it('reads what the DAG templates concatenate', () => {
    expect(parseIndices('')).toEqual([]);
    expect(parseIndices(',2')).toEqual([2]); // top-level foreach: '' + ',' + item
    expect(parseIndices(',2,0')).toEqual([2, 0]);
    expect(parseIndices('1,3')).toEqual([1, 3]);
    expect(parseIndices(' 4 , 5 ')).toEqual([4, 5]);
  });
  it.each(['a', '1,-1', '1.5', ',{{item}}', '1,x'])('refuses %j', (text) => {
    expect(() => parseIndices(text)).toThrow(FlowUsageError);
  });
});

describe('enclosingSplits', () => {
  it('nested static branches: each step knows its branch indices, joins close one level', async () => {
    const p = enclosingSplits(await loadFlowGraph(fixture('nested3.ts')));
    expect(p.start).toEqual([]);
    expect(p.a).toEqual([{ split: 'start', kind: 'static', index: 0 }]);
    expect(p.b).toEqual([{ split: 'start', kind: 'static', index: 1 }]);
    expect(p.a1y).toEqual([{ split: 'start', kind: 'static', index: 0 }, { split: 'a', kind: 'static', index: 0 }, { split: 'a1', kind: 'static', index: 1 }]);
    expect(p.j3).toEqual([{ split: 'start', kind: 'static', index: 0 }, { split: 'a', kind: 'static', index: 0 }]);
    expect(p.j1).toEqual([]);
    expect(p.end).toEqual([]);
  });

  it('nested foreach and a branch inside a foreach', async () => {
    const f3 = enclosingSplits(await loadFlowGraph(fixture('foreach3.ts')));
    expect(f3.fc.map((e) => `${e.kind}:${e.split}`)).toEqual(['foreach:start', 'foreach:fa', 'foreach:fb']);
    expect(foreachDepth(f3.fc)).toBe(3);
    expect(foreachDepth(f3.jc)).toBe(2);
    expect(f3.ja).toEqual([]);
    const bf = enclosingSplits(await loadFlowGraph(fixture('branch_in_foreach.ts')));
    expect(bf.q).toEqual([{ split: 'start', kind: 'foreach' }, { split: 'body', kind: 'static', index: 1 }]);
    expect(foreachDepth(bf.q)).toBe(1);
    expect(bf.jpq).toEqual([{ split: 'start', kind: 'foreach' }]);
  });

  it('a switch opens no split: its cases share the switch step’s frames', async () => {
    const sw = enclosingSplits(await loadFlowGraph(fixture('switch.ts')));
    expect(sw.hi).toEqual([]);
    expect(sw.lo).toEqual([]);
    const mixed = enclosingSplits(await loadFlowGraph(fixture('argo_mixed.ts')));
    expect(mixed.ev).toEqual([{ split: 'start', kind: 'foreach' }]);
    expect(mixed.ay).toEqual([{ split: 'jx', kind: 'static', index: 0 }]);
  });
});

// ---- a pod plans what the local scheduler planned ----

const root = tempDir('flowbook-argo-plan-');
beforeAll(() => {
  setDatastoreRoot(root);
  namespace(null);
});

/** The foreach + branch indices in a scheduler key (`step/split:i/split:j`), outermost first. */
const keyIndices = (key: string) => key.split('/').slice(1).map((p) => Number(p.slice(p.lastIndexOf(':') + 1)));

/** Every done record of the flow's latest local run, by step, under its local and its Argo task id. */
async function localRun(flowName: string) {
  const run = (await Flow(flowName).latestRun)!;
  const byLocal = new Map<string, Map<string, TaskDone>>();
  const byArgo = new Map<string, Map<string, TaskDone>>();
  for (const s of await run.steps()) {
    byLocal.set(s.id, new Map());
    byArgo.set(s.id, new Map());
    for (const t of await s.tasks()) {
      // the whole done record (foreachCount, key) — the client only exposes parts of it
      const done: TaskDone = (t as any).record.done;
      expect(done, `${t.pathspec} is done`).toBeDefined();
      byLocal.get(s.id)!.set(t.id, done);
      byArgo.get(s.id)!.set(argoTaskId(keyIndices(done.key).map((index) => ({ index }))), done);
    }
  }
  return { runId: run.id, byLocal, byArgo };
}

const SHAPES: [string, string[]][] = [
  ['linear.ts', []],
  ['branch.ts', []],
  ['nested3.ts', []],
  ['foreach.ts', ['--xs', '[5,4,3,2,1]']],
  ['foreach.ts', ['--xs', '[]']],
  ['foreach3.ts', []],
  ['branch_in_foreach.ts', []],
  ['switch.ts', []],
  ['switch.ts', ['--mode', 'low']],
  ['argo_mixed.ts', []],
];

describe('planArgoTask plans what the local scheduler ran', () => {
  it.each(SHAPES)('%s %j', async (file, args) => {
    const r = flowbook(['run', fixture(file), '--quiet', ...args], { root });
    expect(r.code, r.stderr).toBe(0);
    const graph = await loadFlowGraph(fixture(file));
    const { runId, byLocal, byArgo } = await localRun(graph.flowName);
    // what a pod reads from the run's journals: the done record of a task by its Argo id
    const lookup: RecordLookup = { done: async (step, taskId) => byArgo.get(step)?.get(taskId) };
    const keyOfArgo = (pathspec: string) => {
      const [flow, run, step, id] = pathspec.split('/');
      expect([flow, run]).toEqual([graph.flowName, runId]);
      const d = byArgo.get(step)?.get(id);
      expect(d, `planned input ${pathspec} is a task that ran`).toBeDefined();
      return d!.key;
    };
    const keyOfLocal = (pathspec: string) => {
      const [, , step, id] = pathspec.split('/');
      return byLocal.get(step)!.get(id)!.key;
    };
    let checked = 0;
    for (const [step, tasks] of byLocal)
      for (const done of tasks.values()) {
        const indices = done.foreachStack.map((f) => f.index);
        const plan = await planArgoTask(graph, runId, step, indices, lookup);
        const what = `${step} ${done.key}`;
        expect(plan.key, what).toBe(done.key);
        expect(plan.taskId, what).toBe(argoTaskId(plan.frames));
        // the same foreach frames: the split tasks are the same local tasks, items and counts agree
        const planned = plan.frames.filter((f) => f.kind === 'foreach');
        expect(planned.map((f) => [f.step, f.index, f.count, f.field]), what).toEqual(done.foreachStack.map((f) => [f.step, f.index, f.count, f.field]));
        planned.forEach((f, i) => expect(byArgo.get(f.step)!.get(f.taskId)!.taskId, what).toBe(done.foreachStack[i].taskId));
        expect(plan.inputs.map(keyOfArgo), `${what}: inputs`).toEqual(done.inputs.map(keyOfLocal));
        checked++;
      }
    expect(checked).toBe([...byLocal.values()].reduce((n, m) => n + m.size, 0));
    expect(checked).toBeGreaterThan(0);
  });

  it('refuses indices that do not fit the step', async () => {
    const graph = await loadFlowGraph(fixture('foreach3.ts'));
    flowbook(['run', fixture('foreach3.ts'), '--quiet'], { root });
    const { runId, byArgo } = await localRun(graph.flowName);
    const lookup: RecordLookup = { done: async (step, taskId) => byArgo.get(step)?.get(taskId) };
    // too few or too many: refused before anything is read
    await expect(planArgoTask(graph, runId, 'fc', [0, 1], lookup)).rejects.toThrow(FlowUsageError);
    await expect(planArgoTask(graph, runId, 'fc', [0, 1], lookup)).rejects.toThrow(/got 2 foreach indices, expected 3/);
    await expect(planArgoTask(graph, runId, 'fc', [0, 1, 0, 0], lookup)).rejects.toThrow(/got 4 foreach indices, expected 3/);
    await expect(planArgoTask(graph, runId, 'fc', [0, 3, 0], lookup)).rejects.toThrow(/out of range for 'fa' \(3 items\)/);
    await expect(planArgoTask(graph, runId, 'start', [0], lookup)).rejects.toThrow(/expected 0/);
    await expect(planArgoTask(graph, runId, 'nope', [], lookup)).rejects.toThrow(/no step 'nope'/);
    // a body task before its split finished: nothing to plan from
    await expect(planArgoTask(graph, runId, 'fa', [0], { done: async () => undefined })).rejects.toThrow(/no completed record/);
  });
});
