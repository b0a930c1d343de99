// Resume: a new run that clones the DONE tasks of an origin run by reference (the DONE record
// is rewritten for the new run; blobs are shared, never copied) and runs the rest. Tasks are
// matched by their key (step + foreach/branch indices), which is the same in every run.
import { loadFlowGraph } from '../flow/graph.js';
import { FlowDatastore, currentUser, resolveRoot } from '../datastore/store.js';
import { runIndexFor } from '../datastore/index-files.js';
import os from 'node:os';
import type { RunMeta, TaskDone } from '../datastore/metadata.js';
import { effectiveStatus, processAlive, readHeartbeatSync } from '../datastore/liveness.js';
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

/**
 * The done tasks to clone, by key: the origin's, then those of the run it resumed, and so on
 * (a resume that crashed early still had most of its work in the run before it). A step a resume
 * re-ran from, and what follows it, is never taken from further back in the chain.
 */
async function chainOfDoneTasks(store: FlowDatastore, graph: RunContext['graph'], origin: RunMeta): Promise<Map<string, TaskDone>> {
  const all = new Map<string, TaskDone>();
  const excluded = new Set<string>();
  const seen = new Set<string>();
  for (let run: RunMeta | undefined = origin; run && !seen.has(run.runId); ) {
    seen.add(run.runId);
    for (const [key, done] of await doneTasks(store, run.runId)) if (!all.has(key) && !excluded.has(done.step)) all.set(key, done);
    if (run.resumeStep && graph.nodes[run.resumeStep]) for (const s of downstream(graph, run.resumeStep)) excluded.add(s);
    run = run.originRunId ? await store.readRun(run.originRunId).catch(() => undefined) : undefined;
  }
  return all;
}

/** The user's newest run: the index's, or a newer one a kill left before it was indexed. */
async function newestRun(store: FlowDatastore, flowName: string): Promise<string | undefined> {
  const user = currentUser();
  const indexed = await runIndexFor(store.backend, flowName).latest(`user:${user}`);
  const newer = (await store.listRunIds()).filter((id) => /^\d+$/.test(id) && (!indexed || Number(id) > Number(indexed))).sort((a, b) => Number(b) - Number(a));
  for (const id of newer) if ((await store.readRun(id).catch(() => undefined))?.user === user) return id;
  return indexed;
}

/**
 * One resume of a run at a time: a marker beside the origin names the resume that holds it; a
 * second resume is refused while that one's runner lives. (On S3 the check and the write are not
 * atomic: two resumes started in the same instant on two machines could both proceed.)
 */
async function claimOrigin(store: FlowDatastore, origin: RunMeta): Promise<(runId: string) => Promise<void>> {
  const key = `${store.runKey(origin.runId)}/resumed-by.json`;
  const me = { host: os.hostname(), pid: process.pid };
  await store.backend.withLock(key, async () => {
    const prev: { runId?: string; host: string; pid: number; at: string } | undefined = await store.backend
      .get(key)
      .then((b) => JSON.parse(b.toString('utf8')))
      .catch(() => undefined);
    if (prev && !(prev.host === me.host && prev.pid === me.pid)) {
      const beat = prev.runId ? readHeartbeatSync(store.backend, store.runKey(prev.runId)) : undefined;
      const running = prev.runId ? (await store.readRun(prev.runId).catch(() => undefined))?.status === 'running' : true;
      if (running && processAlive(beat?.host ?? prev.host, beat?.pid ?? prev.pid, beat?.at ?? prev.at)) {
        throw new FlowUsageError(
          `run ${store.flowName}/${origin.runId} is already being resumed by ${prev.runId ? `run ${store.flowName}/${prev.runId}` : 'another runner'} (pid ${prev.pid} on ${prev.host})`,
        );
      }
    }
    await store.backend.put(key, JSON.stringify({ ...me, at: new Date().toISOString() }));
  });
  return (runId) => store.backend.put(key, JSON.stringify({ ...me, runId, at: new Date().toISOString() }));
}

export async function resumeFlow(opts: ResumeOptions): Promise<RunOutcome> {
  const graph = await loadFlowGraph(opts.file);
  if (opts.step && !graph.nodes[opts.step]) {
    throw new FlowUsageError(`cannot resume from step '${opts.step}': ${graph.flowName} has no such step (steps: ${graph.order.join(', ')})`);
  }
  const store = new FlowDatastore(resolveRoot(opts.root), graph.flowName);
  const originId = opts.originRunId ?? (await newestRun(store, graph.flowName));
  if (!originId) throw new NotFoundError(`no earlier run of ${graph.flowName} to resume (run it first: flowbook run ${opts.file})`);
  const origin = await store.readRun(originId);
  if (origin.status === 'running') {
    const status = effectiveStatus(origin, readHeartbeatSync(store.backend, store.runKey(originId)));
    if (status === 'running') throw new FlowUsageError(`run ${graph.flowName}/${originId} is still running (pid ${origin.pid} on ${origin.host}): wait for it, or stop it, before resuming it`);
  }
  const claimed = await claimOrigin(store, origin);
  const origins = await chainOfDoneTasks(store, graph, origin);
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

  return runFlow({ ...opts, origin: { run: origin, cloner, step: opts.step }, onRunCreated: (run) => void claimed(run.runId).catch(() => {}) });
}
