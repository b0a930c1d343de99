// Graph shapes run end to end through the CLI; the values reaching each join and `end` are checked
// through the client.
import { describe, it, expect, beforeAll } from 'vitest';
import { flowbook, fixture, tempDir } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';

const root = tempDir();
beforeAll(() => {
  setDatastoreRoot(root);
  namespace(null);
});

function run(file: string, ...args: string[]) {
  const r = flowbook(['run', fixture(file), '--quiet', ...args], { root });
  expect(r.stderr + r.stdout).toContain('succeeded');
  expect(r.code).toBe(0);
  return r;
}

describe('graph shapes', () => {
  it('linear: artifacts flow step to step, in-place mutations are kept', async () => {
    run('linear.ts');
    const r = (await Flow('LinearFlow').latestSuccessfulRun)!;
    expect(await r.data.x).toBe(20);
    expect(await r.data.trail).toEqual(['start', 'a', 'b', 'end']);
    expect((await r.steps()).map((s) => s.id).sort()).toEqual(['a', 'b', 'end', 'start']);
  });

  it('static branch: the join sees both branches by name and in order', async () => {
    run('branch.ts');
    const r = (await Flow('BranchFlow').latestSuccessfulRun)!;
    expect(await r.data.seen).toEqual(['a', 'b']);
    expect(await r.data.va).toBe('from a');
    expect(await r.data.vb).toBe('from b');
    expect(await r.data.base).toBe(7);
  });

  it('branches nested three deep join innermost first', async () => {
    run('nested3.ts');
    const r = (await Flow('Nested3Flow').latestSuccessfulRun)!;
    expect(await r.data.leaves).toEqual(['a1x', 'a1y', 'a2', 'b']);
    const j3 = (await r.step('j3').tasks())[0];
    expect(await j3.data.leaves).toEqual(['a1x', 'a1y']);
  });

  it('foreach: one task per item, the join gets them in index order', async () => {
    run('foreach.ts', '--xs', '[5,4,3,2,1]');
    const r = (await Flow('ForeachFlow').latestSuccessfulRun)!;
    expect(await r.data.ys).toEqual([25, 16, 9, 4, 1]);
    expect(await r.data.idxs).toEqual([0, 1, 2, 3, 4]);
    const tasks = await r.step('square').tasks();
    expect(tasks).toHaveLength(5);
    expect(tasks.map((t) => t.index).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('foreach nested three deep: 12 leaves, nested in order', async () => {
    run('foreach3.ts', '--max-workers', '2');
    const r = (await Flow('Foreach3Flow').latestSuccessfulRun)!;
    const vs = await r.data.vs;
    expect(vs).toEqual([1, 2].map((a) => [10, 20, 30].map((b) => [100, 200].map((c) => a + b + c))));
    const leaves = await r.step('fc').tasks();
    expect(leaves).toHaveLength(12);
    const paths = await Promise.all(leaves.map((t) => t.data.path));
    expect(new Set(paths.map((p: number[]) => p.join('.'))).size).toBe(12);
    expect(leaves[0].foreachStack.map((f) => f.step)).toEqual(['start', 'fa', 'fb']);
  });

  it('a branch inside a foreach', async () => {
    run('branch_in_foreach.ts');
    const r = (await Flow('BranchInForeachFlow').latestSuccessfulRun)!;
    expect(await r.data.rs).toEqual([5, 10]);
    expect(await r.step('p').tasks()).toHaveLength(2);
  });

  it('switch: the condition picks one branch', async () => {
    run('switch.ts');
    let r = (await Flow('SwitchFlow').latestSuccessfulRun)!;
    expect(await r.data.out).toBe('H');
    expect((await r.steps()).map((s) => s.id).sort()).toEqual(['end', 'hi', 'start']);
    run('switch.ts', '--mode', 'low');
    r = (await Flow('SwitchFlow').latestSuccessfulRun)!;
    expect(await r.data.out).toBe('L');
  });

  it('--isolation process runs each task in a fresh process', async () => {
    run('foreach.ts', '--isolation', 'process');
    const r = (await Flow('ForeachFlow').latestSuccessfulRun)!;
    const pids = await Promise.all((await r.step('square').tasks()).map(async (t) => (await t.metadata).resources?.pid));
    expect(new Set(pids).size).toBe(3);
  });
});
