// Resume: a new run that clones the DONE tasks of an origin run by reference (the DONE record
// is rewritten for the new run; blobs are shared, never copied) and runs the rest. Tasks are
// matched by their key (step + foreach/branch indices), which is the same in every run.
import { loadFlowGraph } from '../flow/graph.js';
import { FlowDatastore, currentUser, resolveRoot } from '../datastore/store.js';
import { runIndexFor } from '../datastore/index-files.js';
import type { TaskDone } from '../datastore/metadata.js';
import { FlowUsageError, IntegrityError, NotFoundError } from '../errors.js';
import { runFlow, type RunContext, type RunOptions, type RunOutcome } from './run.js';
import { foreachStack, type PlannedTask } from './scheduler.js';
import type { TaskResult } from './task-spec.js';

export interface Cloner {
  clone(task: PlannedTask): Promise<TaskResult | undefined>;
  originOf(task: PlannedTask): string | undefined;
}

export interface ResumeOptions extends Omit<RunOptions, 'origin' | 'params'> {
  /** rerun from this step (it and everything after it run again) */
  step?: string;
  originRunId?: string;
}

/** Steps that run again: `step` and everything reachable from it. */
function downstream(graph: RunContext['graph'], step: string): Set<string> {
  const seen = new Set<string>();
  const todo = [step];
  while (todo.length) {
    const s = todo.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    todo.push(...graph.nodes[s].out);
  }
  return seen;
}

/**
 * The origin's committed tasks by key. A task whose DONE.json cannot be read (truncated by a
 * full disk, garbled) is treated as not done: it runs again rather than blocking the resume.
 */
async function doneTasks(store: FlowDatastore, runId: string): Promise<Map<string, TaskDone>> {
  const byKey = new Map<string, TaskDone>();
  for (const step of await store.listSteps(runId)) {
    const ids = await store.listTasks(runId, step);
    const dones = await Promise.all(
      ids.map((id) =>
        store.readDone(runId, step, id).catch((err) => {
          if (!(err instanceof IntegrityError)) throw err;
          process.stderr.write(`warning: ${err.message}; task ${store.flowName}/${runId}/${step}/${id} runs again\n`);
          return undefined;
        }),
      ),
    );
    for (const d of dones) if (d) byKey.set(d.key, d);
  }
  return byKey;
}

export async function resumeFlow(opts: ResumeOptions): Promise<RunOutcome> {
  const graph = await loadFlowGraph(opts.file);
  if (opts.step && !graph.nodes[opts.step]) {
    throw new FlowUsageError(`cannot resume from step '${opts.step}': ${graph.flowName} has no such step (steps: ${graph.order.join(', ')})`);
  }
  const store = new FlowDatastore(resolveRoot(opts.root), graph.flowName);
  let originId = opts.originRunId;
  if (!originId) {
    originId = await runIndexFor(store.backend, graph.flowName).latest(`user:${currentUser()}`);
    if (!originId) throw new NotFoundError(`no earlier run of ${graph.flowName} to resume (run it first: flowbook run ${opts.file})`);
  }
  const origin = await store.readRun(originId);
  const origins = await doneTasks(store, originId);
  const rerun = opts.step ? downstream(graph, opts.step) : new Set<string>();

  const cloner = (ctx: RunContext): Cloner => ({
    originOf: (task) => origins.get(task.key)?.pathspec,
    async clone(task) {
      const src = origins.get(task.key);
      if (!src || rerun.has(task.step)) return undefined;
      const pathspec = `${ctx.graph.flowName}/${ctx.run.runId}/${task.step}/${task.taskId}`;
      const now = new Date().toISOString();
      await ctx.store.writeAttempt(ctx.run.runId, task.step, task.taskId, { pathspec, attempt: 0, status: 'done', startedAt: now, finishedAt: now });
      await ctx.store.writeDone(ctx.run.runId, {
        ...src,
        pathspec,
        taskId: task.taskId,
        attempt: 0,
        inputs: task.inputs,
        foreachStack: foreachStack(task.frames),
        origin: src.origin ?? src.pathspec,
      });
      return { ok: true, pathspec, next: src.next, foreachCount: src.foreachCount, resources: src.resources };
    },
  });

  return runFlow({ ...opts, origin: { run: origin, cloner } });
}
