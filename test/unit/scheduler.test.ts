// The scheduler makes a foreach's tasks as it dispatches them (one queue entry for the whole
// split, not one planned task per item), so a 30,000-way foreach costs the runner nothing per
// item before the item runs. What it runs must not change: the same tasks (ids, keys, inputs,
// frames) in the same order, with retries and slots, as when every task is planned at once — which
// is what it still does for a resume, whose task ids come from the origin run one by one.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { loadFlowGraph } from '../../src/flow/graph.js';
import type { FlowGraph } from '../../src/flow/graph-types.js';
import { Scheduler, type PlannedTask } from '../../src/runtime/scheduler.js';
import type { TaskResult } from '../../src/compute/task/spec.js';
import { fixture } from '../e2e/helpers.js';

interface Options {
  maxWorkers: number;
  /** plan every task at once, as a resume does (its ids come from taskIdFor) */
  eager: boolean;
  /** items of every foreach */
  items: number;
  /** the tasks of this step fail once (a retryable error), then succeed */
  flaky?: string;
  /** slots: this step holds 2 cores of a 3-core machine */
  big?: string;
}

/** Run a graph with made-up tasks; what each started task was, in the order they started. */
async function schedule(graph: FlowGraph, o: Options): Promise<{ started: string[]; counts: Scheduler['counts']; planned: number }> {
  const started: string[] = [];
  const failedOnce = new Set<string>();
  let tick = 0;
  const sched: Scheduler = new Scheduler(graph, {
    maxWorkers: o.maxWorkers,
    cores: 3,
    memoryMiB: 1000,
    slotsOf: (step) => ({ cpu: step === o.big ? 2 : 1, memory: 10 }),
    retriesOf: () => ({ times: 1, minutesBetweenRetries: 0 }),
    makeSpec: (task) => ({ step: task.step, taskId: task.taskId }) as any,
    execute: async (task: PlannedTask): Promise<TaskResult> => {
      started.push(`${task.step}/${task.taskId} key=${task.key} in=${task.inputs.join(',')} frames=${JSON.stringify(task.frames)} attempt=${task.attempt}`);
      // tasks finish out of order, deterministically
      await new Promise((r) => setTimeout(r, (tick++ * 7) % 5));
      const pathspec = `F/1/${task.step}/${task.taskId}`;
      if (task.step === o.flaky && !failedOnce.has(task.key)) {
        failedOnce.add(task.key);
        return { ok: false, pathspec, error: { type: 'WorkerDied', message: 'flaky' } };
      }
      const node = graph.nodes[task.step];
      return { ok: true, pathspec, ...(node.foreach ? { foreachCount: o.items } : {}), ...(node.condition ? { next: [node.out[0]] } : {}) };
    },
    onTaskEvent: () => {},
    ...(o.eager ? { taskIdFor: () => undefined } : {}),
  });
  // on a fake clock: a retry's timer and the tasks' waits fire in one order, whatever the machine's load
  const done = sched.run();
  await vi.runAllTimersAsync();
  await done;
  expect(sched.failure).toBeUndefined();
  expect(sched.endDone).toBe(true);
  return { started, counts: sched.counts, planned: sched.planned };
}

describe('scheduler: a foreach made as it is dispatched runs what planning it all at once runs', () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
  afterEach(() => vi.clearAllTimers());
  for (const flow of ['foreach.ts', 'foreach3.ts', 'branch_in_foreach.ts', 'nested3.ts', 'empty_foreach.ts', 'switch.ts']) {
    it(flow, async () => {
      const graph = await loadFlowGraph(fixture(flow));
      for (const o of [
        { maxWorkers: 1, items: 3 },
        { maxWorkers: 2, items: 4 },
        { maxWorkers: 3, items: 5, big: graph.order[1] },
        { maxWorkers: 2, items: 3, flaky: graph.order[1] },
        { maxWorkers: 3, items: 4, flaky: graph.order[2] },
        { maxWorkers: 2, items: 0 },
      ] as Omit<Options, 'eager'>[]) {
        const lazy = await schedule(graph, { ...o, eager: false });
        const eager = await schedule(graph, { ...o, eager: true });
        expect(lazy.started, JSON.stringify(o)).toEqual(eager.started);
        expect(lazy.counts).toEqual(eager.counts);
        expect(lazy.planned).toBe(eager.planned);
        // (a switch runs one of its branches: the flaky step may be the other)
        if (o.flaky && lazy.started.some((t) => t.startsWith(`${o.flaky}/`))) expect(lazy.counts.retried).toBeGreaterThan(0);
      }
    });
  }
});
