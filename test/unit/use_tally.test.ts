// The runner's closing resource notes come from sums it keeps as task records become durable
// (cards/usage/use-tally.ts), not from reading every record at the end: they must say what the
// stored records say — what `flowbook advise` judges — for the same run, step by step, in the same
// order, with the same advice. And a run whose tally cannot be wrong anywhere skips the judgement.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlowDatastore } from '../../src/datastore/store.js';
import { TaskJournal } from '../../src/datastore/journal.js';
import type { ResourceUse, TaskDone } from '../../src/datastore/metadata.js';
import { runStepUsage } from '../../src/cards/usage/run-usage.js';
import { judgeTally, stepUsage, type StepUsage } from '../../src/cards/usage/right-size.js';
import { UseTally, taskFigures } from '../../src/cards/usage/use-tally.js';

const MiB = 2 ** 20;
const ORDER = ['start', 'a', 'b', 'c', 'end'];
const runBase = { status: 'running' as const, createdAt: '', user: 'u', tags: [], systemTags: ['user:u'], params: {}, flowFile: 'f.ts', sourceSha: '', host: 'h', pid: 1 };

/** a small deterministic generator (mulberry32) */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The DONE records of a made-up run: local and pod tasks, clones, @cache hits, short and long tasks, start times that tie. */
function records(seed: number, runId: string): TaskDone[] {
  const r = rng(seed);
  const out: TaskDone[] = [];
  let id = 1;
  for (const step of ORDER) {
    const n = step === 'start' || step === 'end' ? 1 : 2 + Math.floor(r() * 6);
    // b mixes pods and local tasks (a resume across --with kubernetes): its pods are judged
    const podShare = step === 'b' ? 0.5 : step === 'c' ? 1 : 0;
    for (let i = 0; i < n; i++) {
      const taskId = String(id++);
      const pod = r() < podShare;
      const wall = r() < 0.3 ? 0.2 + r() * 0.5 : 1 + r() * 30;
      const cores = r() * 2.5;
      const resources: ResourceUse = {
        wallSeconds: wall,
        cpuUserSeconds: cores * wall * 0.8,
        cpuSystemSeconds: cores * wall * 0.2,
        peakRssBytes: Math.round((20 + r() * 900) * MiB),
        ...(pod ? { processPeakRssBytes: Math.round((80 + r() * 900) * MiB), childrenPeakRssBytes: Math.round(r() * 50 * MiB) } : { baselineRssBytes: Math.round((60 + r() * 40) * MiB) }),
        host: 'h',
        pid: 1,
        worker: pod ? `pod f-${runId}-${step}-${taskId}` : 'local-1',
        requested: pod ? { cpu: 2, memory: 2048 } : { cpu: 1, memory: step === 'a' ? 4096 : 0 },
        ...(r() < 0.5 ? { peakCores: cores * (1 + r()) } : {}),
        ...(pod ? {} : { localSlot: { declared: step === 'a' ? { cpu: 3, memory: 4096 } : {}, localResources: {} } }),
      };
      // start times in whole seconds: tasks of different steps often start in the same millisecond
      const startedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(r() * 8))).toISOString();
      const kind = r();
      out.push({
        pathspec: `F/${runId}/${step}/${taskId}`,
        step,
        taskId,
        attempt: 0,
        artifacts: {},
        foreachStack: [],
        inputs: [],
        startedAt,
        finishedAt: startedAt,
        key: `${step}/${i}`,
        ...(kind < 0.1 ? {} : { resources }),
        // a clone and a @cache hit did not run here: neither counts
        ...(kind > 0.9 ? { origin: `F/1/${step}/${taskId}` } : kind > 0.82 ? { origin: `F/1/${step}/${taskId}`, cachedFrom: `F/1/${step}/${taskId}` } : {}),
      });
    }
  }
  // the runner commits them as they finish: not in the order they started
  return out.map((d) => ({ d, k: r() })).sort((x, y) => x.k - y.k).map(({ d }) => d);
}

/** what the judgement says, less the CPU average (a sum in another order: the last digit may differ) */
const said = (u: StepUsage[]) => u.map(({ avgCores, ...rest }) => ({ ...rest, avgCores: Math.round(avgCores * 1e9) }));

describe('the runner’s usage tally', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`judges what the stored records say (made-up run ${seed})`, async () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-tally-'));
      const store = new FlowDatastore(root, 'F');
      const run = await store.createRun({ ...runBase, graph: { order: ORDER, nodes: Object.fromEntries(ORDER.map((s) => [s, { type: 'linear', out: [] }])) } });
      const journal = new TaskJournal(store, run.runId);
      const tally = new UseTally(ORDER);
      for (const done of records(seed, run.runId)) {
        await journal.commit(done.step, [{ kind: 'done', taskId: done.taskId, done }]);
        tally.addDone(done);
      }
      await journal.close();
      const stored = await runStepUsage(store, run.runId);
      expect(stored.length).toBeGreaterThan(2);
      expect(said(judgeTally(tally))).toEqual(said(stored));
    });
  }

  it('without a long task or a memory request no step can be wrong, and the judgement agrees', () => {
    const r = rng(42);
    for (let k = 0; k < 200; k++) {
      const tally = new UseTally();
      const uses = Array.from({ length: 1 + Math.floor(r() * 5) }, (_, i) => {
        const pod = r() < 0.3;
        const use: ResourceUse = {
          wallSeconds: r() * 0.99,
          cpuUserSeconds: r() * 3,
          cpuSystemSeconds: 0,
          peakRssBytes: r() * 4000 * MiB,
          host: 'h',
          pid: 1,
          worker: pod ? 'pod x' : 'local-1',
          requested: { cpu: 1 + Math.floor(r() * 4), memory: 0 },
        };
        return taskFigures(`F/1/s${i % 2}/${i}`, `s${i % 2}`, use);
      });
      for (const u of uses) tally.add(u);
      expect(tally.mayAdvise()).toBe(false);
      expect(judgeTally(tally).map((u) => u.verdict)).toEqual(judgeTally(tally).map(() => 'ok'));
    }
    // a memory request, or a task of a second or more, may be judged: the notes ask then
    const t = new UseTally();
    t.add(taskFigures('F/1/s/1', 's', { wallSeconds: 0.1, cpuUserSeconds: 0, cpuSystemSeconds: 0, peakRssBytes: MiB, host: 'h', pid: 1, worker: 'local-1', requested: { cpu: 1, memory: 4096 } }));
    expect(t.mayAdvise()).toBe(true);
    expect(judgeTally(t)[0].verdict).toBe('over-requested');
  });

  it('stepUsage over a list (advise, the resources card) keeps the order the tasks are listed in', () => {
    const use = (step: string) => ({ ...taskFigures(`F/1/${step}/1`, step, { wallSeconds: 2, cpuUserSeconds: 2, cpuSystemSeconds: 0, peakRssBytes: MiB, host: 'h', pid: 1, worker: 'local-1', requested: { cpu: 1, memory: 0 } }), warnings: [] });
    expect(stepUsage([use('b'), use('a'), use('b')]).map((u) => [u.step, u.tasks])).toEqual([['b', 2], ['a', 1]]);
  });
});
