// The client as a Metaflow user reaches for it: runs('tag'), snake_case names, printing run.data.
// Nothing may answer silently wrong: a filter not understood is an error, a Metaflow name throws
// with flowbook's, and inspecting `run.data` never looks up an artifact called `constructor`.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { inspect } from 'node:util';
import { flowbook, fixture, tempDir, REPO } from './helpers.js';
import { Flow, Run, Step, Task, DataArtifact, namespace, setDatastoreRoot } from '../../src/client/index.js';
import { current } from '../../src/flow/current.js';

const root = tempDir();
const run = (...args: string[]) => {
  const r = flowbook(['run', fixture('foreach.ts'), '--quiet', ...args], { root });
  expect(r.code, r.stderr).toBe(0);
};

beforeAll(() => {
  setDatastoreRoot(root);
  namespace(null);
  run('--tag', 'exp1', '--xs', '[1]');
  run('--tag', 'exp1', '--tag', 'best', '--xs', '[1,2]');
  run('--tag', 'exp2', '--xs', '[1,2,3]');
}, 120_000);

const lengths = async (runs: Promise<{ id: string }[]>) => (await runs).length;

describe("runs('tag', …) filters like Metaflow's runs(*tags)", () => {
  it('strings are tags a run must all carry; the options object still works', async () => {
    namespace(null);
    const flow = Flow('ForeachFlow');
    expect(await lengths(flow.runs())).toBe(3);
    expect(await lengths(flow.runs('exp1'))).toBe(2);
    expect(await lengths(flow.runs('exp1', 'best'))).toBe(1);
    expect(await lengths(flow.runs('exp2', 'best'))).toBe(0);
    expect(await lengths(flow.runs('nosuchtag'))).toBe(0);
    expect(await lengths(flow.runs({ tags: ['exp1'] }))).toBe(2);
    expect(await lengths(flow.runs('exp1', { status: 'succeeded' }))).toBe(2);
    expect(await lengths(flow.runs({ status: 'failed' }))).toBe(0);
    expect(await lengths(flow.runs(undefined as any))).toBe(3);
    expect((await flow.runsTable('exp2')).shape[0]).toBe(1);
  });

  it('anything not understood is an error, never every run', async () => {
    const flow = Flow('ForeachFlow') as any;
    await expect(flow.runs(42)).rejects.toThrow("Flow('ForeachFlow').runs(): a tag is a string and options an object { tags, status }; got 42 (number)");
    await expect(flow.runs(['exp1'])).rejects.toThrow('got exp1 (array)');
    await expect(flow.runs({ tag: 'exp1' })).rejects.toThrow("Flow('ForeachFlow').runs(): unknown option 'tag' (options: tags, status)");
    await expect(flow.runs({ tags: 'exp1' })).rejects.toThrow('tags is an array of strings; got "exp1" (string)');
    await expect(flow.runs({ status: 'done' })).rejects.toThrow('status "done" (string) is not one of running, succeeded, failed, killed');
  });
});

describe('Metaflow snake_case names throw, naming the camelCase one', () => {
  it('on Flow, Run, Step, Task, DataArtifact and current', async () => {
    namespace(null);
    const flow = Flow('ForeachFlow') as any;
    const r = (await flow.latestSuccessfulRun) as any;
    const step = Step(`${r.pathspec}/square`) as any;
    const task = Task((await step.tasks())[0].pathspec) as any;
    const art = DataArtifact(`${task.pathspec}/y`) as any;
    const cases: [() => unknown, string][] = [
      [() => flow.latest_successful_run, 'Flow.latest_successful_run is latestSuccessfulRun in flowbook'],
      [() => flow.latest_run, 'Flow.latest_run is latestRun in flowbook'],
      [() => r.run_id, 'Run.run_id is id in flowbook'],
      [() => r.finished_at, 'Run.finished_at is finishedAt in flowbook'],
      [() => r.created_at, 'Run.created_at is createdAt in flowbook'],
      [() => r.end_task, 'Run.end_task is endTask in flowbook'],
      [() => r.user_tags, 'Run.user_tags is userTags in flowbook'],
      [() => r.add_tag('x'), 'Run.add_tag is addTag in flowbook'],
      [() => step.step_name, 'Step.step_name is id in flowbook'],
      [() => task.task_id, 'Task.task_id is id in flowbook'],
      [() => task.step_name, 'Task.step_name is stepName in flowbook'],
      [() => task.parent_tasks, 'Task.parent_tasks is parentTasks in flowbook'],
      [() => task.child_tasks, 'Task.child_tasks is childTasks in flowbook'],
      [() => task.foreach_stack, 'Task.foreach_stack is foreachStack in flowbook'],
      [() => task.finished_at, 'Task.finished_at is (await task.metadata).finishedAt in flowbook'],
      [() => task.path_spec, 'Task.path_spec is pathspec in flowbook'],
      [() => art.flow_name, 'DataArtifact.flow_name is flowName in flowbook'],
      [() => (current as any).run_id, 'current.run_id is runId in flowbook'],
      [() => (current as any).step_name, 'current.step_name is stepName in flowbook'],
      [() => (current as any).task_id, 'current.task_id is taskId in flowbook'],
      [() => (current as any).flow_name, 'current.flow_name is flowName in flowbook'],
      [() => (current as any).retry_count, 'current.retry_count is retryCount in flowbook'],
    ];
    for (const [read, message] of cases) expect(read).toThrow(message);
  });

  it('the camelCase names still answer, and inspectors see ordinary objects', async () => {
    namespace(null);
    const r = (await Flow('ForeachFlow').latestSuccessfulRun)!;
    expect(r.finishedAt).toBeInstanceOf(Date);
    const task = (await r.step('square').tasks())[0];
    // what await, console.log, tslab and vitest probe
    for (const x of [Flow('ForeachFlow'), r, r.step('square'), task, DataArtifact(`${task.pathspec}/y`), current] as any[]) {
      for (const probe of ['then', 'toJSON', 'asymmetricMatch', 'nodeType', '$$typeof', 'inspect']) expect(x[probe]).toBeUndefined();
      expect(() => inspect(x, { getters: true })).not.toThrow();
      expect(Object.keys(x).some((k) => k.includes('_'))).toBe(false);
    }
    expect(await Promise.resolve(r)).toBe(r);
    expect(Object.keys(current)).toContain('runId');
    expect(current.runId).toBeUndefined(); // not in a task: no run, the camelCase name says so honestly
  });
});

describe('run.data prints its artifact names and ignores non-artifact keys', () => {
  it('inspect, keys and in; constructor/then/symbols are no lookups; a wrong name lists the right ones', async () => {
    namespace(null);
    const r = (await Flow('ForeachFlow').latestSuccessfulRun)!;
    const end = (await r.endTask)!;
    const data = r.data as any;
    expect(inspect(data)).toBe(`Data ${end.pathspec} { ${Object.keys(end.refs()).join(', ')} }`);
    expect(inspect(data)).toMatch(/\{ .*\bys\b.*\}/);
    expect(String(data)).toBe(inspect(data));
    expect(Object.keys(data)).toEqual(expect.arrayContaining(['xs', 'ys', 'idxs']));
    expect('ys' in data).toBe(true);
    expect('nope' in data).toBe(false);
    expect(await data.constructor).toBeUndefined();
    expect(await data.then).toBeUndefined();
    expect(data.toJSON).toBeUndefined();
    expect(data[Symbol.iterator]).toBeUndefined();
    expect(await Promise.resolve(data)).toBe(data); // awaiting the view itself is no lookup
    expect(await data.ys).toEqual([1, 4, 9]);
    await expect(data.nope).rejects.toThrow(`artifact 'nope' not found in ${end.pathspec} (it has: `);

    const task = (await r.step('square').tasks())[1] as any;
    expect(inspect(task.data)).toBe(`Data ${task.pathspec} { ${Object.keys(task.refs()).join(', ')} }`);
    expect(Object.keys(task.data)).toEqual(expect.arrayContaining(['y', 'idx']));
    expect(await task.data.constructor).toBeUndefined();
    expect(await task.data.y).toBe(4);
  });

  it('in plain JS (node, the built package): console.log(run.data) names the artifacts, current.run_id throws', () => {
    const script = `
      import { Flow, namespace, setDatastoreRoot, current } from ${JSON.stringify(path.join(REPO, 'dist/index.js'))};
      setDatastoreRoot(${JSON.stringify(root)});
      namespace(null);
      const run = await Flow('ForeachFlow').latestSuccessfulRun;
      console.log(run.data);
      console.log(await run.data.constructor);
      try { Flow('ForeachFlow').latest_successful_run; } catch (e) { console.log(e.name + ': ' + e.message); }
      try { current.run_id; } catch (e) { console.log(e.message); }
    `;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: REPO });
    expect(out.stderr).toBe('');
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Data ForeachFlow\/\d+\/end\/\d+ \{ .*\bys\b.* \}$/);
    expect(lines.slice(1)).toEqual(['undefined', 'FlowUsageError: Flow.latest_successful_run is latestSuccessfulRun in flowbook', 'current.run_id is runId in flowbook']);
  });

  it('a run with no finished end step says so', async () => {
    const r = flowbook(['run', fixture('foreach.ts'), '--quiet', '--xs', '"oops"'], { root });
    expect(r.code).toBe(1);
    namespace(null);
    const failed = (await Flow('ForeachFlow').latestRun)!;
    expect(failed.successful).toBe(false);
    expect(inspect(failed.data)).toBe(`Data ${failed.pathspec} (no finished end step): no artifacts`);
    expect(Object.keys(failed.data)).toEqual([]);
    await expect((failed.data as any).ys).rejects.toThrow('has no finished end step, so no data');
    expect(Run(failed.pathspec).pathspec).toBe(failed.pathspec);
  });
});
