// Runtime behaviour beyond graph shapes: slots, parameters, current, logs/dump, the step entry.
import { describe, it, expect } from 'vitest';
import { flowbook, fixture, tempDir, errorLine } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';
import { FlowDatastore } from '../../src/datastore/store.js';
import type { TaskSpec } from '../../src/compute/task/spec.js';

const root = tempDir();
setDatastoreRoot(root);
namespace(null);

describe('runtime', () => {
  it('a cpu=2 task on a 2-core machine runs alone, and is told it has 2 cpus', async () => {
    const r = flowbook(['run', fixture('slots.ts'), '--quiet', '--max-workers', '4'], { root, env: { FLOWBOOK_CORES: '2' } });
    expect(r.code, r.stderr).toBe(0);
    const run = (await Flow('SlotsFlow').latestSuccessfulRun)!;
    const spans = ((await run.data.spans) as [number, number][]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    const heavy = await run.step('heavy').tasks();
    expect(await heavy[0].data.cpus).toBe(2);
    expect(heavy[0].resources!.requested).toEqual({ cpu: 2, memory: 256, gpu: 0 });
  });

  it('parameters: typed, defaults, env fallback, required, kebab-case names', async () => {
    const missing = flowbook(['run', fixture('params.ts')], { root });
    expect(errorLine(missing)).toBe("error: missing required parameter '--name'");
    const badInt = flowbook(['run', fixture('params.ts'), '--name', 'x', '--count', '2.5'], { root });
    expect(errorLine(badInt)).toBe('error: parameter \'count\' (--count) must be an integer, got "2.5"');
    const badBool = flowbook(['run', fixture('params.ts'), '--name', 'x', '--loud', 'maybe'], { root });
    expect(errorLine(badBool)).toBe('error: parameter \'loud\' (--loud) must be true or false, got "maybe"');
    const ok = flowbook(
      ['run', fixture('params.ts'), '--quiet', '--name', 'Ada', '--count=7', '--ratio', '0.25', '--loud', '--opts', '{"k":3}', '--min-ct', '4', '--tag', 'p1'],
      { root, env: { DEFAULT_MODEL_TYPE: 'base.en' } },
    );
    expect(ok.code, ok.stderr).toBe(0);
    const run = (await Flow('ParamsFlow').latestSuccessfulRun)!;
    expect(await run.data.seen).toEqual({ name: 'Ada', count: 7, ratio: 0.25, loud: true, opts: { k: 3 }, model: 'base.en', minCt: 4 });
    expect(run.params).toEqual({ name: 'Ada', count: 7, ratio: 0.25, loud: true, opts: { k: 3 }, model: 'base.en', 'min-ct': 4 });
    expect(await run.data.minCt).toBe(4);
    const ctx = (await (await run.step('start').task)!.data.ctx) as any;
    expect(ctx).toMatchObject({ flowName: 'ParamsFlow', stepName: 'start', taskId: '1', retryCount: 0, pathspec: `${run.pathspec}/start/1` });
    expect(ctx.tags).toEqual(expect.arrayContaining(['p1', 'runtime:node']));
  });

  it('logs and dump read a run back; dump --json is JSON', async () => {
    const r = flowbook(['run', fixture('foreach.ts'), '--quiet'], { root });
    expect(r.code).toBe(0);
    const run = (await Flow('ForeachFlow').latestSuccessfulRun)!;
    const end = (await run.endTask)!;
    const dump = flowbook(['dump', end.pathspec, '--json'], { root });
    expect(dump.code).toBe(0);
    expect(JSON.parse(dump.stdout)).toMatchObject({ ys: [9, 1, 4], xs: [3, 1, 2] });
    const whole = flowbook(['dump', run.pathspec, '--json'], { root });
    expect(JSON.parse(whole.stdout).ys).toEqual([9, 1, 4]);
    expect(r.stderr).toContain(`artifacts: npx flowbook dump ${run.pathspec}`);
    const one = flowbook(['dump', `${end.pathspec}/ys`], { root });
    expect(one.stdout.trim()).toBe('[ 9, 1, 4 ]');
    const bad = flowbook(['dump', `${run.pathspec}/end/999`], { root });
    expect(bad.code).toBe(1);
    expect(errorLine(bad)).toBe(`error: task not found: ${run.pathspec}/end/999`);
    const trav = flowbook(['logs', 'ForeachFlow/../start/1'], { root });
    expect(trav.code).toBe(1);
    expect(errorLine(trav)).toBe('error: invalid run id ".."');
  });

  it('`flowbook step --task-spec` runs one task in this process: the entry pods use', async () => {
    const store = new FlowDatastore(root, 'LinearFlow');
    const run = await store.createRun({ status: 'running', createdAt: new Date().toISOString(), user: 'u', tags: [], systemTags: ['user:u'], params: {}, flowFile: fixture('linear.ts'), sourceSha: '', host: 'h', pid: 1 });
    const spec: TaskSpec = {
      root, flowFile: fixture('linear.ts'), flowName: 'LinearFlow', runId: run.runId, step: 'start', taskId: '1', attempt: 0, lastAttempt: true,
      inputs: [], isJoin: false, foreachStack: [], key: 'start', nodeType: 'start', transition: 'linear', graphOut: ['a'], maxNumSplits: 100,
      resources: { cpu: 1, memory: 0, gpu: 0 }, tags: ['user:u'], user: 'u', params: {}, worker: 'pod-1', echo: true,
    };
    const r = flowbook(['step', '--task-spec', JSON.stringify(spec)], { root });
    expect(r.code, r.stderr).toBe(0);
    // the task reports its outcome (its records) for the runner, which commits them to the journal
    const outcome = JSON.parse((await store.backend.get(store.outcomeKey(run.runId, 'start', '1', 0))).toString());
    expect(outcome).toMatchObject({ ok: true, next: ['a'], resources: { worker: 'pod-1' } });
    const done = outcome.records.find((e: any) => e.kind === 'done').done;
    expect(await store.getArtifact('x', done.artifacts.x)).toBe(1);
    const wrong = flowbook(['step', '--task-spec', JSON.stringify({ ...spec, taskId: '2', graphOut: ['b'] })], { root });
    expect(wrong.code).toBe(1);
    expect(errorLine(wrong)).toBe(`error: LinearFlow/${run.runId}/start/2 failed: FlowUsageError: step 'start' called next(a) but its source says next(b)`);
  });
});
