// The client against runs made by the CLI: namespaces, tags, lookups, dataframes, typed data.
import { describe, it, expect, beforeAll } from 'vitest';
import { flowbook, fixture, tempDir } from './helpers.js';
import { Flow, Run, Task, DataArtifact, namespace, getNamespace, defaultNamespace, setDatastoreRoot } from '../../src/client/index.js';
import type { ForeachFlow } from '../fixtures/flows/foreach.js';

const root = tempDir();
const as = (user: string, ...args: string[]) => {
  const r = flowbook(['run', fixture('foreach.ts'), '--quiet', ...args], { root, env: { FLOWBOOK_USER: user } });
  expect(r.code, r.stderr).toBe(0);
};

beforeAll(() => {
  setDatastoreRoot(root);
  as('alice', '--tag', 'exp1', '--xs', '[1]');
  as('alice', '--tag', 'exp2', '--xs', '[1,2]');
  as('bob', '--tag', 'exp1', '--xs', '[1,2,3]');
  // a failed run by alice, newest of all
  const r = flowbook(['run', fixture('foreach.ts'), '--quiet', '--xs', '"oops"'], { root, env: { FLOWBOOK_USER: 'alice' } });
  expect(r.code).toBe(1);
});

describe('client', () => {
  it('namespaces hide other users runs; null sees all', async () => {
    namespace('user:alice');
    expect(getNamespace()).toBe('user:alice');
    const runs = await Flow('ForeachFlow').runs();
    expect(runs).toHaveLength(3);
    const latest = (await Flow('ForeachFlow').latestRun)!;
    expect(latest.successful).toBe(false);
    const ok = (await Flow<ForeachFlow>('ForeachFlow').latestSuccessfulRun)!;
    const ys: number[] = await ok.data.ys; // typed from the class
    expect(ys).toEqual([1, 4]);
    namespace('user:bob');
    expect(await (await Flow('ForeachFlow').latestSuccessfulRun)!.data.ys).toEqual([1, 4, 9]);
    expect(() => Run(ok.pathspec)).toThrow(`run ${ok.pathspec} is not in namespace user:bob; namespace(null) sees every run`);
    namespace(null);
    expect(await Flow('ForeachFlow').runs()).toHaveLength(4);
    expect(defaultNamespace()).toMatch(/^user:/);
    namespace(null);
  });

  it('runs by tag, addTag and runsTable', async () => {
    namespace(null);
    const exp1 = await Flow('ForeachFlow').runs({ tags: ['exp1'] });
    expect(exp1.map((r) => r.user).sort()).toEqual(['alice', 'bob']);
    const [first] = await Flow('ForeachFlow').runs({ tags: ['exp2'] });
    await first.addTag('best');
    expect((await Flow('ForeachFlow').runs({ tags: ['best'] })).map((r) => r.id)).toEqual([first.id]);
    expect(Run(first.pathspec).tags).toContain('best');
    const table = await Flow('ForeachFlow').runsTable();
    expect(table.shape[0]).toBe(4);
    expect(table.columns).toEqual(expect.arrayContaining(['id', 'status', 'durationSeconds', 'param_xs']));
    expect(table.column('status').values.filter((s: string) => s === 'failed')).toHaveLength(1);
  }, 30_000);

  it('steps, tasks, stdout, metadata and resource use', async () => {
    namespace(null);
    const run = (await Flow('ForeachFlow').runs({ tags: ['exp1'] })).find((r) => r.user === 'bob')!;
    const tasks = await run.step('square').tasks();
    expect(tasks.map((t) => t.index)).toEqual([0, 1, 2]);
    const t = Task(tasks[1].pathspec);
    expect(await t.data.y).toBe(4);
    const meta = await t.metadata;
    expect(meta.resources!.cpuUserSeconds).toBeGreaterThanOrEqual(0);
    // the task's own rise, and the process's peak (a Node process: tens of MB) beside it
    expect(meta.resources!.peakRssBytes).toBeGreaterThanOrEqual(0);
    expect(meta.resources!.processPeakRssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(meta.resources!.peakRssBytes).toBeLessThan(meta.resources!.processPeakRssBytes!);
    expect(meta.resources!.requested.cpu).toBe(1);
    const art = DataArtifact(`${tasks[1].pathspec}/y`);
    expect(art.sha).toMatch(/^[0-9a-f]{64}$/);
    expect(await art.data()).toBe(4);
    const df = await run.step('square').toDataFrame(['y', 'idx']);
    expect(df.column('y').values).toEqual([1, 4, 9]);
    const arrowTable = await run.step('square').toArrow(['y']);
    expect(arrowTable.numRows).toBe(3);
    await expect(t.artifact('nope')).rejects.toThrow(`artifact 'nope' not found in ${t.pathspec} (it has: `);
    expect(() => Task(`${run.pathspec}/square/999`)).toThrow(`task not found: ${run.pathspec}/square/999`);
    await expect(run.step('nostep').tasks()).rejects.toThrow(`step not found: ${run.pathspec}/nostep`);
  }, 30_000);

  it('Arrow tables and DataFrames as artifacts, read in a step and in the client', async () => {
    const r = flowbook(['run', fixture('tables.ts'), '--quiet'], { root });
    expect(r.code, r.stderr).toBe(0);
    namespace(null);
    const run = (await Flow('TablesFlow').latestSuccessfulRun)!;
    expect(await run.data.seen).toEqual({ tableRows: 3, frameCols: ['title', 'rtf'] });
    const table = await run.data.table;
    expect(table.numRows).toBe(3);
    const frame = await run.data.frame;
    expect(frame.columns).toEqual(['title', 'rtf']);
    const end = (await run.endTask)!;
    const rowsDf = await (await end.artifact('rows')).toDataFrame();
    expect(rowsDf.column('wer').values).toEqual([0.1, 0.3]);
    const tableDf = await (await end.artifact('table')).toDataFrame();
    expect(tableDf.shape).toEqual([3, 2]);
  }, 60_000);
});
