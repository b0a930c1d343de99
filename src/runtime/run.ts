// A run from start to end: the graph and parameters, the executors each step runs on (compute/
// decides which; this file names no backend), the run record, the scheduler, the indexes.
// `resume` is a run whose scheduler clones DONE tasks of an origin run (see resume.ts).
import os from 'node:os';
import path from 'node:path';
import { loadFlowGraph } from '../flow/graph.js';
import { graphShape } from '../flow/graph-shape.js';
import { loadFlow, type LoadedFlow } from '../flow/load.js';
import { prepareFlow, type PreparedFlow } from '../flow/prepare.js';
import { resolveParams, resolveSecretsAgain, storableParams } from '../flow/params.js';
import { flagValues } from '../flow/param-flags.js';
import { scheduleNote } from '../flow/schedule.js';
import { flowWith, parseWith, type WithDecorators } from '../flow/with.js';
import { cachedSteps } from '../flow/decorators.js';
import type { FlowGraph } from '../flow/graph-types.js';
import { FlowDatastore, currentUser, resolveRoot } from '../datastore/store.js';
import { runIndexFor } from '../datastore/index-files.js';
import { LocalBackend } from '../datastore/backend.js';
import type { RunMeta } from '../datastore/metadata.js';
import { newRunRecord } from '../datastore/run-record.js';
import { checkUserTag } from '../datastore/names.js';
import { TaskJournal } from '../datastore/journal.js';
import { FlowUsageError, TaskFailedError } from '../errors.js';
import { Executors } from '../compute/executors.js';
import { thisMachine } from '../compute/local/slots.js';
import { buildTaskSpec, pathspecOf } from '../compute/task/spec.js';
import { recordLostTask } from '../compute/task/records.js';
import { UseTally } from '../cards/usage/use-tally.js';
import { RunConsole } from './console.js';
import { Scheduler } from './scheduler.js';
import { startHeartbeat } from './heartbeat.js';
import { runEvents } from './run-events.js';
import type { RunContext, RunOptions, RunOutcome } from './run-types.js';

export type { RunContext, RunOptions, RunOutcome } from './run-types.js';

/** a task running longer than this gets a "running" record before it finishes */
const RUNNING_RECORD_MS = 1000;

/** What a run is set up with before its record exists: every refusal happens while making it. */
interface RunSetup {
  flow: LoadedFlow;
  params: Record<string, unknown>;
  storedParams: Record<string, unknown>;
  store: FlowDatastore;
  user: string;
  tags: string[];
  withDecos: WithDecorators;
  /** a line to print once the run has started (@schedule applies only when deployed) */
  scheduleNote?: string;
}

/**
 * The flow (with --with's decorators), its parameters, the datastore, the tags, and the executor
 * of each step. A bad parameter, tag, schedule or a place a step cannot run is refused here,
 * before the run record exists.
 */
async function setUp(opts: RunOptions, graph: FlowGraph, prepared: PreparedFlow, compute: Executors, ui: RunConsole): Promise<RunSetup> {
  const withDecos = parseWith(opts.with);
  // --with card, retry, timeout…: added to every step without its own
  const flow = flowWith(await loadFlow(opts.file, graph.flowName, prepared.module), withDecos);
  const note = scheduleNote(flow.cls, opts.file); // checked here too: a bad schedule is found before deploying
  // secrets are not in the origin's record: a resume reads them again from their env variables
  const params = opts.origin ? resolveSecretsAgain(flow.params, opts.origin.run.params, 'resume') : resolveParams(flow.params, flagValues(flow.params, opts.params ?? {}));
  const store = new FlowDatastore(resolveRoot(opts.root), graph.flowName);
  // where each step runs: decided (and checked) before anything runs, never silently elsewhere
  await compute.claim({ graph, flow, withDecos, store, file: opts.file, givenParams: opts.params ?? {}, sink: (s, c) => ui.output(s, c) }, params, (m) => ui.info(m));
  const tags = [...new Set(opts.tags ?? [])];
  for (const t of tags) checkUserTag(t);
  checkRecompute(opts, flow);
  return { flow, params, storedParams: storableParams(flow.params, params), store, user: currentUser(), tags, withDecos, scheduleNote: note };
}

/** `--recompute` names steps with @cache, and is not given with `--no-cache` (which already reruns everything). */
function checkRecompute(opts: RunOptions, flow: LoadedFlow): void {
  const names = opts.recompute ?? [];
  if (!names.length) return;
  if (opts.noCache) throw new FlowUsageError('--recompute and --no-cache: give one (--no-cache already runs every step)');
  const cached = cachedSteps(flow);
  for (const s of names) {
    if (!flow.steps.has(s)) throw new FlowUsageError(`--recompute: ${flow.name} has no step '${s}' (steps: ${[...flow.steps.keys()].join(', ')})`);
    if (!cached.includes(s)) throw new FlowUsageError(`--recompute: step '${s}' has no @cache, so it runs anyway (cached steps: ${cached.join(', ') || 'none'})`);
  }
}

/** The run record, its heartbeat and its index entry. */
async function startRun(opts: RunOptions, graph: FlowGraph, s: RunSetup, ui: RunConsole): Promise<{ run: RunMeta; stopHeartbeat: () => void }> {
  const { store } = s;
  const run = await store.createRun(
    newRunRecord({
      user: s.user,
      tags: s.tags,
      params: s.storedParams,
      flowFile: path.resolve(opts.file),
      sourceSha: graph.sourceSha,
      host: os.hostname(),
      pid: process.pid,
      originRunId: opts.origin?.run.runId,
      resumeStep: opts.origin?.step,
      with: opts.with,
      graph: graphShape(graph),
    }),
  );
  // the heartbeat, the sweep and the index entry are independent: their writes overlap
  const local = store.backend instanceof LocalBackend ? store.backend : undefined;
  const [stopHeartbeat, swept] = await Promise.all([
    startHeartbeat(store, run.runId),
    // half-written files of runners and workers killed before: never read, but they take space
    local ? Promise.all([local.sweepTemps(`${graph.flowName}/data`, 2), opts.origin ? local.sweepTemps(store.runKey(opts.origin.run.runId), 4) : 0]).then(([a, b]) => a + b) : 0,
    runIndexFor(store.backend, graph.flowName).runStarted(run.runId, [...run.systemTags, ...run.tags]),
  ]);
  if (swept) ui.info(`removed ${swept} temp file(s) left by killed writers`);
  opts.onRunCreated?.(run);
  return { run, stopHeartbeat };
}

/** How the run ended, in its record and (when it succeeded) the index. */
async function finishRun(store: FlowDatastore, run: RunMeta, sched: Scheduler, interrupted: boolean): Promise<boolean> {
  const ok = !sched.failure && sched.endDone && !interrupted;
  run.status = ok ? 'succeeded' : 'failed';
  run.finishedAt = new Date().toISOString();
  if (sched.failure) {
    const f = sched.failure;
    run.failure = { pathspec: `${run.flowName}/${run.runId}/${f.task.step}/${f.task.taskId}`, message: f.result.error?.message ?? 'failed' };
  } else if (interrupted) run.failure = { pathspec: `${run.flowName}/${run.runId}`, message: 'interrupted' };
  await store.writeRun(run);
  if (ok) await runIndexFor(store.backend, run.flowName).runSucceeded(run.runId, [...run.systemTags, ...run.tags]);
  return ok;
}

export async function runFlow(opts: RunOptions): Promise<RunOutcome> {
  const t0 = performance.now();
  const ui = new RunConsole(opts.quiet);
  const { cores, memoryMiB } = thisMachine();
  const maxWorkers = Math.max(1, opts.maxWorkers ?? cores);
  // local workers boot while this process reads the graph, prepares the flow and writes the run record
  const compute = new Executors({ isolation: opts.isolation ?? 'worker', sink: (s, c) => ui.output(s, c), cores, memoryMiB, prestart: Math.min(maxWorkers, 2) });
  try {
    const graph = await loadFlowGraph(opts.file, opts.flowName);
    const prepared = await prepareFlow(opts.file);
    compute.load({ ...prepared, name: graph.flowName });
    const setup = await setUp(opts, graph, prepared, compute, ui);
    if (prepared.why) ui.info(`note: ${prepared.why}; its tasks load the flow's source with the TypeScript hooks`);
    const { flow, store } = setup;
    const { run, stopHeartbeat } = await startRun(opts, graph, setup, ui);
    ui.info(`${opts.origin ? 'Resuming' : 'Running'} ${graph.flowName}/${run.runId} (${maxWorkers} workers, datastore ${store.backend.location})`);
    if (setup.scheduleNote) ui.info(setup.scheduleNote);
    const journal = new TaskJournal(store, run.runId);
    const ctx: RunContext = { graph, flow, store, run, journal };
    const cloner = opts.origin ? await opts.origin.cloner(ctx) : undefined;
    for (const line of await compute.prepare(run)) ui.info(line);
    // @cache: looked up here, before a task reaches its executor (--no-cache: neither read nor written);
    // its code loads only for a run with a cached step
    const cache = !opts.noCache && cachedSteps(flow).length ? new (await import('./cache/run-cache.js')).RunCache({ graph, flow, store, run, params: setup.params, storedParams: setup.storedParams, recompute: new Set(opts.recompute ?? []), note: (l) => ui.info(l) }) : undefined;

    // --with retry is in flow.steps already (flowWith)
    const retriesOf = (step: string) => flow.steps.get(step)?.retry ?? { times: 0, minutesBetweenRetries: 0 };
    const tags = [...run.systemTags, ...run.tags];
    // what each task that ran used, summed per step as its record becomes durable (no record is kept)
    const usage = new UseTally(graph.order);
    let interrupted = false;
    const events = runEvents({ runPathspec: `${graph.flowName}/${run.runId}`, ui, retriesOf, cloner, scheduler: () => sched, killAll: () => void compute.killAll() });
    const sched: Scheduler = new Scheduler(graph, {
      maxWorkers,
      cores,
      memoryMiB,
      slotsOf: (step) => compute.of(step).terms(step).slot,
      retriesOf,
      makeSpec: (task, node) => {
        const m = flow.steps.get(task.step);
        const where = compute.of(task.step).terms(task.step);
        return buildTaskSpec({
          root: store.root,
          flowFile: path.resolve(opts.file),
          flowName: graph.flowName,
          runId: run.runId,
          place: task,
          node,
          attempt: task.attempt,
          retries: retriesOf(task.step).times,
          maxNumSplits: opts.maxNumSplits,
          meta: m,
          resources: where.resources,
          localSlot: where.localSlot,
          tags,
          user: setup.user,
          // a pod's spec is readable in the Kubernetes API: it gets no secret, the pod reads it from its env
          params: where.secretsInSpec ? setup.params : setup.storedParams,
          // --with card's cards: a worker reads only the step's own @card from the flow module
          cards: setup.withDecos.cards && m?.cards === setup.withDecos.cards ? m.cards : undefined,
          echo: !opts.quiet,
          codePackage: where.codePackage,
        });
      },
      execute: async (task, spec) => {
        const startedAt = new Date().toISOString();
        // a task still running after a second is recorded as running (the client, the cards and
        // a killed run show it); the many short ones are recorded once, when they finish
        const pathspec = pathspecOf(spec);
        const running = setTimeout(() => {
          journal.commit(task.step, [{ kind: 'attempt', taskId: task.taskId, attempt: { pathspec, attempt: task.attempt, status: 'running', startedAt } }]).catch(() => {});
        }, RUNNING_RECORD_MS);
        try {
          const r = await compute.of(task.step).run(spec, flow.steps.get(task.step)?.timeout?.seconds);
          return r.lost ? await recordLostTask({ ...spec, worker: '' }, r, startedAt) : r;
        } finally {
          clearTimeout(running);
        }
      },
      commit: async (task, result) => {
        const records = result.records;
        delete result.records; // the runner keeps no record once it is stored
        if (records) await journal.commit(task.step, records);
        for (const r of records ?? []) if (r.kind === 'done') usage.addDone(r.done);
        cache?.committed(task, result, records);
      },
      fromCache: cache ? (task) => cache.lookup(task) : undefined,
      clone: cloner ? (task) => cloner.clone(task) : undefined,
      taskIdFor: cloner ? (step, key) => cloner.taskIdFor(step, key) : undefined,
      firstTaskId: cloner?.firstTaskId,
      onTaskEvent: events.onTaskEvent,
    });
    const onSignal = () => {
      interrupted = true;
      sched.abort();
      // tasks elsewhere (pods) are deleted before the runner exits (the scheduler waits for them)
      void compute.killAll();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      ui.started();
      await sched.run();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // every record reported so far is durable before the run's status is
      await journal.close();
      await cache?.flush();
      stopHeartbeat();
      ui.end();
    }
    const ok = await finishRun(store, run, sched, interrupted);
    return { run, ok, tasks: { ...sched.counts }, seconds: (performance.now() - t0) / 1000, clonedTasks: events.clonedTasks, ranTasks: events.ranTasks, cachedTasks: events.cachedTasks, journal: { ...journal.stats }, taskError: sched.failure?.result.error, usage };
  } finally {
    compute.close();
  }
}

/** Throw the run's failure as one clear line (for the CLI). */
export function assertSucceeded(o: RunOutcome): void {
  if (!o.ok) {
    const f = o.run.failure;
    throw new TaskFailedError(`run ${o.run.flowName}/${o.run.runId} failed${f ? ` at ${f.pathspec}: ${f.message}` : ''}`, { pathspec: f?.pathspec ?? `${o.run.flowName}/${o.run.runId}`, step: f?.pathspec.split('/')[2], run: `${o.run.flowName}/${o.run.runId}`, cause: o.taskError });
  }
}
