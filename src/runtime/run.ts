// A run from start to end: graph, parameters, run record, workers, scheduler, indexes.
// `resume` is a run whose scheduler clones DONE tasks of an origin run (see resume.ts).
import os from 'node:os';
import path from 'node:path';
import { loadFlowGraph } from '../flow/graph.js';
import { loadFlow, type LoadedFlow } from '../flow/load.js';
import { resolveParams, resolveSecretsAgain, storableParams } from '../flow/params.js';
import { flagValues } from '../flow/param-flags.js';
import type { FlowGraph, GraphNode } from '../flow/graph-types.js';
import { FlowDatastore, currentUser, resolveRoot } from '../datastore/store.js';
import { runIndexFor } from '../datastore/index-files.js';
import { LocalBackend } from '../datastore/backend.js';
import type { ErrorInfo, RunMeta } from '../datastore/metadata.js';
import { FlowUsageError, ParamError, TaskFailedError } from '../errors.js';
import { WorkerPool } from './pool.js';
import { RunConsole } from './console.js';
import { Scheduler, graphPlace, type PlannedTask } from './scheduler.js';
import { pathspecOf, type TaskResult } from './task-spec.js';
import type { Cloner } from './resume.js';
import { recordLostTask } from './task.js';
import { notRetriedNote, retryLine, retryStartLine } from './retry.js';
import { kubernetesFor, type ResolvedKubernetes } from '../compute/kubernetes/options.js';
import { flowWith, parseWith } from './with.js';
import type { KubernetesExecutor } from '../compute/kubernetes/executor.js';
import { k8sApi, loadKubeConfig } from '../compute/kubernetes/client.js';
import { uploadCodePackage, type CodePackageRef } from './code-package.js';
import { startHeartbeat } from './heartbeat.js';
import { checkUserTag } from '../datastore/names.js';
import { TaskJournal } from '../datastore/journal.js';
import { describeSchedule, scheduleOf } from '../compute/argo/schedule.js';

export interface RunOptions {
  file: string;
  /** the flow class, when the file has several (`--flow NAME`) */
  flowName?: string;
  root?: string;
  /** parameter values as given on the command line (text), by parameter name */
  params?: Record<string, unknown>;
  tags?: string[];
  maxWorkers?: number;
  maxNumSplits?: number;
  isolation?: 'worker' | 'process';
  /** `--with retry`, `--with kubernetes:cpu=4` ...: decorators applied to every step */
  with?: string[];
  quiet?: boolean;
  /** set by resume */
  origin?: { run: RunMeta; cloner: (ctx: RunContext) => Promise<Cloner>; step?: string };
  /** called once the run record and its index entry exist */
  onRunCreated?: (run: RunMeta) => void;
}

export interface RunContext {
  graph: FlowGraph;
  flow: LoadedFlow;
  store: FlowDatastore;
  run: RunMeta;
  /** the run's task records, committed in batches */
  journal: TaskJournal;
}

export interface RunOutcome {
  run: RunMeta;
  ok: boolean;
  tasks: { done: number; cloned: number; failed: number; retried: number };
  seconds: number;
  /** the first LISTED cloned and run tasks, for the report (their counts are in `tasks`) */
  clonedTasks: string[];
  ranTasks: string[];
  /** task-record batches made durable, and the records in them */
  journal: { batches: number; entries: number };
  /** the error of the task that failed the run, as it recorded it (type, message, where); absent when none did */
  taskError?: ErrorInfo;
}

/** a task running longer than this gets a "running" record before it finishes */
const RUNNING_RECORD_MS = 1000;

/** how many cloned / run tasks a run's outcome names (a 10,000-task run reports counts) */
export const LISTED = 20;

/** `Type: message`, without saying the type twice when the message starts with it (`OOMKilled: …`) */
const typed = (e?: { type?: string; message?: string }) => (e?.type && !e.message?.startsWith(`${e.type}:`) ? `${e.type}: ${e.message}` : `${e?.message}`);

export const SYSTEM_TAGS = (user: string) => [`user:${user}`, 'runtime:node', `flowbook_version:0.1.0`];

/** The graph's shape as run.json keeps it (for the default card's picture). */
export function graphShape(graph: FlowGraph): NonNullable<RunMeta['graph']> {
  return {
    order: graph.order,
    nodes: Object.fromEntries(
      graph.order.map((n) => {
        const { type, out, foreach, condition } = graph.nodes[n];
        return [n, { type, out, ...(foreach ? { foreach } : {}), ...(condition ? { condition } : {}) }];
      }),
    ),
  };
}

// `--with NAME[:k=v,…]` for every step decorator: with.ts
export { parseWith } from './with.js';

type LocalUse = { cpu?: number; memory?: number };

/**
 * What a step uses when it runs on this machine, as its flow says before the task starts:
 * `static localResources = { transcribe: (params) => ({ cpu: 1, memory: 512 }) }` on the flow
 * class (from the run's parameters: the model decides the engine and its threads). A local slot
 * is the smaller of this and the step's @resources; a pod still requests @resources. Asked once
 * per step; a hook that throws is reported and the request is used.
 */
function localResources(flow: LoadedFlow, params: Record<string, unknown>, warn: (line: string) => void): (step: string) => LocalUse {
  const hooks = (flow.cls as unknown as { localResources?: Record<string, (p: Record<string, unknown>) => LocalUse | undefined> }).localResources;
  const cache = new Map<string, LocalUse>();
  return (step) => {
    let use = cache.get(step);
    if (use) return use;
    use = {};
    const hook = hooks?.[step];
    if (typeof hook === 'function') {
      try {
        const r = hook({ ...params });
        for (const k of ['cpu', 'memory'] as const) if (typeof r?.[k] === 'number' && r[k]! > 0) use[k] = r[k];
      } catch (err: any) {
        warn(`note: ${flow.name}.localResources.${step} failed (${err?.message ?? err}); its tasks hold what @resources requests`);
      }
    }
    cache.set(step, use);
    return use;
  };
}

/** Steps that run as pods need a datastore the pods can reach. */
function checkRemote(remoteSteps: string[], store: FlowDatastore): void {
  if (remoteSteps.length && store.backend.kind !== 's3') {
    throw new FlowUsageError(
      `step${remoteSteps.length > 1 ? 's' : ''} ${remoteSteps.join(', ')} run${remoteSteps.length > 1 ? '' : 's'} on Kubernetes, whose pods cannot see the local datastore ${store.backend.location}: ` +
        'use S3 (FLOWBOOK_DATASTORE=s3 FLOWBOOK_S3_ROOT=s3://bucket/prefix, or --datastore s3 --datastore-root s3://…)',
    );
  }
}

export async function runFlow(opts: RunOptions): Promise<RunOutcome> {
  const t0 = performance.now();
  const ui = new RunConsole(opts.quiet);
  const graph = await loadFlowGraph(opts.file, opts.flowName);
  const withDecos = parseWith(opts.with);
  // FLOWBOOK_CORES pretends the machine has that many cores (to plan slots as on a smaller or bigger host)
  const cores = Number(process.env.FLOWBOOK_CORES) || os.availableParallelism();
  const maxWorkers = Math.max(1, opts.maxWorkers ?? cores);
  const isolation = opts.isolation ?? 'worker';
  const pool = new WorkerPool(isolation, (s, c) => ui.output(s, c), path.resolve(opts.file), graph.flowName);
  // workers boot while this process loads the flow and writes the run record
  pool.prestart(Math.min(maxWorkers, 2));
  try {
    // --with card, retry, timeout…: added to every step without its own
    const flow = flowWith(await loadFlow(opts.file, graph.flowName), withDecos);
    const schedule = scheduleOf(flow.cls); // checked here too: a bad schedule is found before deploying
    const user = currentUser();
    // secrets are not in the origin's record: a resume reads them again from their env variables
    const params = opts.origin ? resolveSecretsAgain(flow.params, opts.origin.run.params, 'resume') : resolveParams(flow.params, flagValues(flow.params, opts.params ?? {}));
    const storedParams = storableParams(flow.params, params);
    const store = new FlowDatastore(resolveRoot(opts.root), graph.flowName);
    // which steps run as pods: decided (and checked) before anything runs, never silently local
    const remote = new Map<string, ResolvedKubernetes>();
    for (const step of graph.order) {
      const k = kubernetesFor(flow.steps.get(step), withDecos.kubernetes);
      if (k) remote.set(step, k);
    }
    checkRemote([...remote.keys()], store);
    // a pod reads a secret from its own environment (a Kubernetes Secret): one given on this
    // command line would silently be another value there, so it is refused
    if (remote.size) {
      for (const spec of flow.params.filter((p) => p.options.secret && opts.params?.[p.name] !== undefined)) {
        const env = spec.options.env;
        throw new ParamError(
          `secret parameter --${spec.name} was given on the command line, but ${[...remote.keys()].join(', ')} run${remote.size === 1 ? 's' : ''} as pods, which cannot receive it (a pod's spec is readable in the Kubernetes API): ${env ? `put it in a Kubernetes Secret under the key ${env}, name the Secret with --with kubernetes:secrets=NAME (or FLOWBOOK_KUBERNETES_SECRETS), and run without --${spec.name}` : `give the parameter an env: option, put it in a Kubernetes Secret under that key and name the Secret with --with kubernetes:secrets=NAME`}`,
        );
      }
    }
    // no cluster configured, or the code cannot be stored: refuse before the run record exists
    let code: (CodePackageRef & { uploadedBytes: number; files: number }) | undefined;
    if (remote.size) {
      loadKubeConfig(await k8sApi());
      code = await uploadCodePackage(store, opts.file);
    }
    const tags = [...new Set(opts.tags ?? [])];
    for (const t of tags) checkUserTag(t); // a bad tag is refused before the run exists
    const systemTags = SYSTEM_TAGS(user);
    const run = await store.createRun({
      status: 'running',
      createdAt: new Date().toISOString(),
      user,
      tags,
      systemTags,
      params: storedParams,
      flowFile: path.resolve(opts.file),
      sourceSha: graph.sourceSha,
      host: os.hostname(),
      pid: process.pid,
      originRunId: opts.origin?.run.runId,
      ...(opts.origin?.step ? { resumeStep: opts.origin.step } : {}),
      ...(opts.with?.length ? { with: opts.with } : {}),
      graph: graphShape(graph),
    });
    const stopHeartbeat = await startHeartbeat(store, run.runId);
    // half-written files of runners and workers killed before: never read, but they take space
    if (store.backend instanceof LocalBackend) {
      const swept = (await store.backend.sweepTemps(`${graph.flowName}/data`, 2)) + (opts.origin ? await store.backend.sweepTemps(store.runKey(opts.origin.run.runId), 4) : 0);
      if (swept) ui.info(`removed ${swept} temp file(s) left by killed writers`);
    }
    const index = runIndexFor(store.backend, graph.flowName);
    await index.runStarted(run.runId, [...systemTags, ...tags]);
    opts.onRunCreated?.(run);
    ui.info(`${opts.origin ? 'Resuming' : 'Running'} ${graph.flowName}/${run.runId} (${maxWorkers} workers, datastore ${store.backend.location})`);
    if (schedule) ui.info(`note: @schedule (${describeSchedule(schedule)}) applies only when deployed: flowbook argo-workflows create ${opts.file}`);
    const journal = new TaskJournal(store, run.runId);
    const ctx: RunContext = { graph, flow, store, run, journal };
    const cloner = opts.origin ? await opts.origin.cloner(ctx) : undefined;
    let kube: KubernetesExecutor | undefined;
    if (code) {
      const { KubernetesExecutor } = await import('../compute/kubernetes/executor.js');
      kube = await KubernetesExecutor.connect(run.runId, store, (s, c) => ui.output(s, c));
      ui.info(`Kubernetes ${kube.server}: ${[...remote.keys()].join(', ')} run as pods; code package ${code.sha.slice(0, 12)} (${code.files} files, ${code.uploadedBytes} bytes uploaded)`);
    }

    const memoryMiB = Math.floor(os.totalmem() / 2 ** 20);
    const local = localResources(flow, params, (m) => ui.info(m));
    // what the step's @resources / @kubernetes declare
    const declaredOf = (step: string) => {
      const m = flow.steps.get(step);
      return { ...m?.resources, ...m?.kubernetes };
    };
    const slots = (step: string) => {
      // a pod holds no local cores or memory (--max-workers still caps how many run at once)
      if (remote.has(step)) return { cpu: 0, memory: 0, gpu: 0 };
      const r = declaredOf(step);
      // locally a task holds no more than it can use: a single-threaded engine, one core
      const use = local(step);
      return { cpu: Math.min(r.cpu ?? 1, use.cpu ?? Infinity, cores), memory: Math.min(r.memory ?? 0, use.memory ?? Infinity, memoryMiB), gpu: r.gpu ?? 0 };
    };
    // what the slot was made from, for advice: a pod request is judged only where the slot was it
    const localSlotOf = (step: string) => {
      const r = declaredOf(step);
      const declared = { ...(r.cpu !== undefined ? { cpu: r.cpu } : {}), ...(r.memory !== undefined ? { memory: r.memory } : {}) };
      return { declared, localResources: local(step) };
    };
    // --with retry is in flow.steps already (flowWith)
    const retriesOf = (step: string) => flow.steps.get(step)?.retry ?? { times: 0, minutesBetweenRetries: 0 };
    const clonedTasks: string[] = [];
    const ranTasks: string[] = [];
    let interrupted = false;
    const sched: Scheduler = new Scheduler(graph, {
      maxWorkers,
      cores,
      memoryMiB,
      slotsOf: slots,
      retriesOf,
      makeSpec: (task: PlannedTask, node: GraphNode) => {
        const m = flow.steps.get(task.step);
        const s = slots(task.step);
        const retry = retriesOf(task.step);
        return {
          root: store.root,
          flowFile: path.resolve(opts.file),
          flowName: graph.flowName,
          runId: run.runId,
          ...graphPlace(task, node),
          attempt: task.attempt,
          lastAttempt: task.attempt >= retry.times,
          maxNumSplits: opts.maxNumSplits ?? 100,
          resources: remote.has(task.step)
            ? { cpu: remote.get(task.step)!.cpu, memory: remote.get(task.step)!.memory, gpu: remote.get(task.step)!.gpu }
            : { cpu: Math.max(1, Math.floor(s.cpu)), memory: s.memory, gpu: s.gpu },
          ...(remote.has(task.step) ? {} : { localSlot: localSlotOf(task.step) }),
          tags: [...systemTags, ...tags],
          user,
          // a pod's spec is readable in the Kubernetes API: it gets no secret, the pod reads it from its env
          params: remote.has(task.step) ? storedParams : params,
          // --with card's cards: a worker reads only the step's own @card from the flow module
          ...(withDecos.cards && m?.cards === withDecos.cards ? { cards: m.cards } : {}),
          catchVar: m?.catch?.var ?? (m?.catch ? 'caughtError' : undefined),
          catchPrint: m?.catch?.printException,
          echo: !opts.quiet,
          ...(remote.has(task.step) && code ? { codePackage: { sha: code.sha, flowPath: code.flowPath } } : {}),
        };
      },
      execute: async (task, spec) => {
        const startedAt = new Date().toISOString();
        // a task still running after a second is recorded as running (the client, the cards and
        // a killed run show it); the many short ones are recorded once, when they finish
        const pathspec = pathspecOf(spec);
        const running = setTimeout(() => {
          journal.commit(task.step, [{ kind: 'attempt', taskId: task.taskId, attempt: { pathspec, attempt: task.attempt, status: 'running', startedAt } }]).catch(() => {});
        }, RUNNING_RECORD_MS);
        const timeout = flow.steps.get(task.step)?.timeout?.seconds;
        const k = remote.get(task.step);
        try {
          const r = k && kube ? await kube.run(spec, k, timeout) : await pool.run(spec, timeout);
          return r.lost ? await recordLostTask({ ...spec, worker: '' }, r, startedAt) : r;
        } finally {
          clearTimeout(running);
        }
      },
      commit: async (task, result) => {
        const records = result.records;
        delete result.records; // the runner keeps no record once it is stored
        if (records) await journal.commit(task.step, records);
      },
      clone: cloner ? (task) => cloner.clone(task) : undefined,
      taskIdFor: cloner ? (step, key) => cloner.taskIdFor(step, key) : undefined,
      firstTaskId: cloner?.firstTaskId,
      onTaskEvent: (kind, task, result?: TaskResult) => {
        const ps = `${graph.flowName}/${run.runId}/${task.step}/${task.taskId}`;
        if (kind === 'cloned' && clonedTasks.length < LISTED) clonedTasks.push(`${ps} (from ${cloner?.originOf(task)})`);
        if (kind === 'done' && ranTasks.length < LISTED) ranTasks.push(ps);
        if (kind === 'retry') {
          const r = retriesOf(task.step);
          ui.info(retryLine(ps, task.attempt, r.times, r.minutesBetweenRetries, result?.error?.message));
        }
        // after a wait, the retry's start is a sign of life
        if (kind === 'start' && task.attempt > 0 && retriesOf(task.step).minutesBetweenRetries > 0) ui.info(retryStartLine(ps, task.attempt, retriesOf(task.step).times));
        if (kind === 'done' && result?.caught) ui.info(`${ps}: failed but caught by @catchErrors: ${result.error?.message}`);
        if (kind === 'failed' && !sched.failure) {
          ui.info(`${ps} failed: ${typed(result?.error)}${result?.error?.where ? ` (at ${result.error.where})` : ''}${notRetriedNote(task.attempt, retriesOf(task.step).times, result?.error)}`);
          // a task that failed because the datastore could not be reached has no stored log to point at
          if (result?.error?.type === 'DatastoreError') ui.info(`  its log may not have reached the datastore (it could not be reached); what it printed is above`);
          else ui.info(`  see its log: flowbook logs ${ps}`);
          if (sched.runningCount > 0) ui.info(`  stopping ${sched.runningCount} running task(s)`);
          queueMicrotask(() => {
            pool.killAll();
            void kube?.killAll();
          });
        }
        ui.progress({ done: sched.counts.done, cloned: sched.counts.cloned, failed: sched.counts.failed, running: sched.runningCount, total: sched.planned });
      },
    });
    const onSignal = () => {
      interrupted = true;
      sched.abort();
      pool.killAll();
      // the run's Jobs are deleted before the runner exits (the scheduler waits for them)
      void kube?.killAll();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      ui.started();
      await sched.run();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      kube?.close();
      // every record reported so far is durable before the run's status is
      await journal.close();
      stopHeartbeat();
      ui.end();
    }

    const ok = !sched.failure && sched.endDone && !interrupted;
    run.status = ok ? 'succeeded' : 'failed';
    run.finishedAt = new Date().toISOString();
    if (sched.failure) {
      const f = sched.failure;
      run.failure = { pathspec: `${graph.flowName}/${run.runId}/${f.task.step}/${f.task.taskId}`, message: f.result.error?.message ?? 'failed' };
    } else if (interrupted) run.failure = { pathspec: `${graph.flowName}/${run.runId}`, message: 'interrupted' };
    await store.writeRun(run);
    if (ok) await index.runSucceeded(run.runId, [...systemTags, ...tags]);
    return { run, ok, tasks: { ...sched.counts }, seconds: (performance.now() - t0) / 1000, clonedTasks, ranTasks, journal: { ...journal.stats }, taskError: sched.failure?.result.error };
  } finally {
    pool.close();
  }
}

/** Throw the run's failure as one clear line (for the CLI). */
export function assertSucceeded(o: RunOutcome): void {
  if (!o.ok) {
    const f = o.run.failure;
    throw new TaskFailedError(`run ${o.run.flowName}/${o.run.runId} failed${f ? ` at ${f.pathspec}: ${f.message}` : ''}`, { pathspec: f?.pathspec ?? `${o.run.flowName}/${o.run.runId}`, step: f?.pathspec.split('/')[2], run: `${o.run.flowName}/${o.run.runId}`, cause: o.taskError });
  }
}
