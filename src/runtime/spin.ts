// Spin: run ONE task of a step again, with the inputs of a past task and the step's current code,
// without running the rest of the flow (Metaflow 2.19's `spin`) — the fast loop for a card or an
// analysis step. It runs through the normal machinery (buildTaskSpec, runTask in a local worker,
// the journal) in a "spin run" of its own: a run record marked `spin` with `spinOf` naming the
// task it replays, which is never entered in the run indexes, so it never becomes `latest` or
// `latestSuccessful` and `resume` never picks it. The steps before the task are referenced from
// the origin run (one `ref` line each, as resume does: no copies), so the spin task's inputs are
// tasks of the spin run and the client walks them as in any run.
import os from 'node:os';
import path from 'node:path';
import { loadFlowGraph } from '../flow/graph.js';
import { graphShape } from '../flow/graph-shape.js';
import { loadFlow } from '../flow/load.js';
import { prepareFlow } from '../flow/prepare.js';
import { resolveSecretsAgain } from '../flow/params.js';
import type { FlowGraph } from '../flow/graph-types.js';
import { FlowDatastore, currentUser, resolveRoot } from '../datastore/store.js';
import type { RunMeta } from '../datastore/metadata.js';
import { newRunRecord } from '../datastore/run-record.js';
import { TaskJournal } from '../datastore/journal.js';
import { FlowUsageError } from '../errors.js';
import { LocalExecutor } from '../compute/local/executor.js';
import { thisMachine } from '../compute/local/slots.js';
import { buildTaskSpec, pathspecOf, type TaskResult } from '../compute/task/spec.js';
import type { TaskPlace } from '../compute/task/placement.js';
import { recordLostTask } from '../compute/task/records.js';
import { RunConsole } from './console.js';
import { startHeartbeat } from './heartbeat.js';
import { checkInputs, findOrigin, type SpinOrigin } from './spin-origin.js';

export interface SpinOptions {
  /** the flow file: its current code runs */
  file: string;
  step: string;
  /** `Flow/RUN` (RUN may be `latest` or `latest-successful`) or `Flow/RUN/STEP/TASK`; default: your latest successful run */
  from?: string;
  /** which finished task of the step, in foreach order (0: the first); default 0 */
  index?: number;
  /** the flow class, when the file has several */
  flowName?: string;
  /** the datastore root; default as for a run */
  root?: string;
  /** print no task output, only notes and errors; default false */
  quiet?: boolean;
}

export interface SpinOutcome {
  /** the spin run's record (its status says how the task ended) */
  run: RunMeta;
  /** the spin task: `Flow/SPIN_RUN/step/task` */
  pathspec: string;
  /** the task it replayed */
  origin: string;
  ok: boolean;
  result: TaskResult;
  seconds: number;
}

/** Steps from which `step` can be reached: what the task's inputs were made from. */
function upstream(graph: FlowGraph, step: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...graph.nodes[step].in];
  while (todo.length) {
    const s = todo.pop()!;
    if (seen.has(s) || !graph.nodes[s]) continue;
    seen.add(s);
    todo.push(...graph.nodes[s].in);
  }
  return seen;
}

/** A past task's place, in the spin run: its id, key and foreach stack; its inputs seen through the spin run. */
function spinPlace(origin: SpinOrigin, spinRunId: string): TaskPlace {
  const d = origin.done;
  const here = (p: string) => p.replace(/^([^/]+)\/[^/]+\//, `$1/${spinRunId}/`);
  return {
    step: d.step,
    taskId: d.taskId,
    inputs: d.inputs.map(here),
    // a TaskSpec keeps only the foreach frames of a task's place (placement.ts foreachStack)
    frames: d.foreachStack.map((f) => ({ kind: 'foreach', ...f })),
    key: d.key,
    ...(origin.emptyForeach ? { emptyForeach: here(origin.emptyForeach) } : {}),
  };
}

/** The step's shape must be the one the past task ran in: a linear step that became a join has no such inputs. */
function checkShape(graph: FlowGraph, origin: SpinOrigin): void {
  const was = origin.run.graph?.nodes[origin.done.step]?.type;
  const now = graph.nodes[origin.done.step].type;
  if (was && was !== now) {
    throw new FlowUsageError(`step ${origin.done.step} was a ${was} step in run ${origin.run.flowName}/${origin.run.runId} and is a ${now} step now: its past inputs do not fit; run the flow (flowbook run ${graph.file})`);
  }
}

export async function spinStep(opts: SpinOptions): Promise<SpinOutcome> {
  const t0 = performance.now();
  const ui = new RunConsole(opts.quiet);
  const graph = await loadFlowGraph(opts.file, opts.flowName);
  const node = graph.nodes[opts.step];
  if (!node) throw new FlowUsageError(`cannot spin step '${opts.step}': ${graph.flowName} has no such step (steps: ${graph.order.join(', ')})`);
  const store = new FlowDatastore(resolveRoot(opts.root), graph.flowName);
  const origin = await findOrigin(store, graph, opts.step, opts.from, opts.index);
  checkShape(graph, origin);
  await checkInputs(store, origin);
  // the step's current code; the origin run's parameters (secrets read again from their env)
  const local = new LocalExecutor({ isolation: 'worker', sink: (s, c) => ui.output(s, c), ...thisMachine() });
  local.prestart(1); // the worker boots while the flow is prepared and the run record written
  try {
    const prepared = await prepareFlow(opts.file);
    local.load({ ...prepared, name: graph.flowName });
    const flow = await loadFlow(opts.file, graph.flowName, prepared.module);
    const params = resolveSecretsAgain(flow.params, origin.run.params, 'spin');
    local.plan(flow, params, (m) => ui.info(m));
    const user = currentUser();
    const run = await store.createRun(
      newRunRecord({
        user,
        tags: [],
        moreSystemTags: ['spin'],
        spinOf: origin.done.pathspec,
        params: origin.run.params,
        flowFile: path.resolve(opts.file),
        sourceSha: graph.sourceSha,
        host: os.hostname(),
        pid: process.pid,
        graph: graphShape(graph),
      }),
    );
    const stopHeartbeat = await startHeartbeat(store, run.runId);
    const journal = new TaskJournal(store, run.runId);
    let result: TaskResult;
    const onSignal = () => local.killAll();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      // what the task reads, referenced from the origin run: durable before the task reads through them
      const readSteps = new Set([...upstream(graph, opts.step), ...[...origin.done.inputs, ...(origin.emptyForeach ? [origin.emptyForeach] : [])].map((p) => p.split('/')[2]), ...origin.done.foreachStack.map((f) => f.step)]);
      const has = new Set(await store.listSteps(origin.run.runId));
      await Promise.all([...readSteps].filter((s) => has.has(s)).map((s) => journal.commit(s, [{ kind: 'ref', run: origin.run.runId }])));
      const where = local.terms(opts.step);
      const m = flow.steps.get(opts.step);
      const spec = buildTaskSpec({
        root: store.root,
        flowFile: path.resolve(opts.file),
        flowName: graph.flowName,
        runId: run.runId,
        place: spinPlace(origin, run.runId),
        node,
        attempt: 0,
        retries: 0, // one attempt: a spin is watched, not left to retry
        meta: m,
        resources: where.resources,
        localSlot: where.localSlot,
        tags: [...run.systemTags],
        user,
        params,
        echo: !opts.quiet,
      });
      const ran = origin.done.resources;
      if (ran && ran.host !== os.hostname()) ui.info(`note: ${origin.done.pathspec} ran on ${ran.host} (${ran.worker}); this spin runs it on this machine`);
      ui.info(`Spinning ${pathspecOf(spec)} from ${origin.done.pathspec} (the step's current code; a spin run: never latest)`);
      const startedAt = new Date().toISOString();
      const r = await local.run(spec, m?.timeout?.seconds);
      result = r.lost ? await recordLostTask({ ...spec, worker: '' }, r, startedAt) : r;
      const records = result.records;
      delete result.records;
      if (records) await journal.commit(opts.step, records);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await journal.close();
      stopHeartbeat();
    }
    run.status = result.ok ? 'succeeded' : 'failed';
    run.finishedAt = new Date().toISOString();
    if (!result.ok) run.failure = { pathspec: result.pathspec, message: result.error?.message ?? 'failed' };
    // never in the indexes: a spin run is not the flow's latest, nor its latest success
    await store.writeRun(run);
    return { run, pathspec: result.pathspec, origin: origin.done.pathspec, ok: result.ok, result, seconds: (performance.now() - t0) / 1000 };
  } finally {
    local.close();
  }
}

