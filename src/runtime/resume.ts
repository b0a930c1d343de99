// Resume: a new run that clones the DONE tasks of an origin run and runs the rest. Tasks are
// matched by their key (step + foreach/branch indices), which is the same in every run, and a
// cloned task keeps its task id. A step cloned whole is one reference record in the new run's
// journal (task-records.ts resolves it); a step mixing runs gets a record per cloned task. Blobs
// are shared, never copied.
import { loadFlowGraph } from '../flow/graph.js';
import { FlowDatastore, currentUser, resolveRoot } from '../datastore/store.js';
import { runIndexFor } from '../datastore/index-files.js';
import os from 'node:os';
import type { RunMeta, TaskDone } from '../datastore/metadata.js';
import { effectiveStatus, processAlive, readHeartbeatSync } from '../datastore/liveness.js';
import { FlowUsageError, NotFoundError } from '../errors.js';
import { foreachStack } from '../compute/task/placement.js';
import type { TaskResult } from '../compute/task/spec.js';
import { resumeNotes } from '../compute/executors.js';
import { runFlow } from './run.js';
import type { Cloner, RunContext, RunOptions, RunOutcome } from './run-types.js';

export interface ResumeOptions extends Omit<RunOptions, 'origin' | 'params'> {
  /** rerun from this step (it and everything after it run again) */
  step?: string;
  originRunId?: string;
}

/** A done task of a run in the origin chain, as resume needs it. */
interface Source {
  /** the run whose records hold it (a step reference there resolves to it) */
  runId: string;
  done: TaskDone;
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
 * The done tasks to clone, by key: the origin's, then those of the run it resumed, and so on
 * (a resume that crashed early still had most of its work in the run before it). A step a resume
 * re-ran from, and what follows it, is never taken from further back in the chain. Also returns,
 * per run and step, how many tasks were done there, and the highest task id seen.
 */
async function chainOfDoneTasks(store: FlowDatastore, graph: RunContext['graph'], origin: RunMeta) {
  const all = new Map<string, Source>();
  const doneIn = new Map<string, number>();
  let maxId = 0;
  const excluded = new Set<string>();
  const seen = new Set<string>();
  for (let run: RunMeta | undefined = origin; run && !seen.has(run.runId); ) {
    seen.add(run.runId);
    for (const step of await store.listSteps(run.runId)) {
      const records = await store.stepRecords(run.runId, step);
      // a task whose record cannot be read is not done: it runs again rather than blocking the resume
      for (const why of records.damaged) process.stderr.write(`warning: ${why}\n`);
      let n = 0;
      for (const rec of records.tasks.values()) {
        maxId = Math.max(maxId, Number(rec.taskId) || 0);
        if (!rec.done) continue;
        n++;
        if (!all.has(rec.done.key) && !excluded.has(step)) all.set(rec.done.key, { runId: run.runId, done: rec.done });
      }
      // a step with a damaged record is never referenced whole: its tasks are cloned one by one
      doneIn.set(`${run.runId}/${step}`, records.damaged.length ? -1 : n);
    }
    if (run.resumeStep && graph.nodes[run.resumeStep]) for (const s of downstream(graph, run.resumeStep)) excluded.add(s);
    run = run.originRunId ? await store.readRun(run.originRunId).catch(() => undefined) : undefined;
  }
  return { all, doneIn, maxId };
}

/** The user's newest run: the index's, or a newer one a kill left before it was indexed (a spin run, never indexed, is no run to resume). */
async function newestRun(store: FlowDatastore, flowName: string): Promise<string | undefined> {
  const user = currentUser();
  const indexed = await runIndexFor(store.backend, flowName).latest(`user:${user}`);
  const newer = (await store.listRunIds()).filter((id) => /^\d+$/.test(id) && (!indexed || Number(id) > Number(indexed))).sort((a, b) => Number(b) - Number(a));
  for (const id of newer) {
    const run = await store.readRun(id).catch(() => undefined);
    if (run?.user === user && !run.spinOf) return id;
  }
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

/**
 * The steps reused whole, with the run whose records they reference: a step whose clones all
 * come from one run and are all of that run's done tasks there (a 10,000-task step then costs one
 * `ref` line, not 10,000 records) — and only when every input of its tasks is cloned too, with the
 * same id. A task whose parent runs again (its record was damaged, say) is cloned on its own,
 * naming its new parent.
 */
function wholeSteps(origins: Map<string, Source>, doneIn: Map<string, number>, rerun: Set<string>): Map<string, string> {
  const byStep = new Map<string, { runs: Set<string>; n: number; inputsCloned: boolean }>();
  const cloned = new Set<string>();
  for (const src of origins.values()) if (!rerun.has(src.done.step)) cloned.add(`${src.done.step}/${src.done.taskId}`);
  for (const src of origins.values()) {
    if (rerun.has(src.done.step)) continue;
    const s = byStep.get(src.done.step) ?? { runs: new Set(), n: 0, inputsCloned: true };
    s.runs.add(src.runId);
    s.n++;
    // an input pathspec is Flow/run/step/task: the same step and task id in every run of the chain
    s.inputsCloned &&= src.done.inputs.every((p) => cloned.has(p.split('/').slice(2).join('/')));
    byStep.set(src.done.step, s);
  }
  const whole = new Map<string, string>();
  for (const [step, s] of byStep) {
    const [run] = s.runs;
    if (s.runs.size === 1 && doneIn.get(`${run}/${step}`) === s.n && s.inputsCloned) whole.set(step, run);
  }
  return whole;
}

/**
 * A resume runs where its origin ran: with the origin's `--with` set, unless it is given its own
 * (`--with none` for none). Says which, and says so when a step the origin ran elsewhere (a pod)
 * would now run here — never a silent move to this machine.
 */
async function resumeWith(opts: ResumeOptions, origin: RunMeta): Promise<string[]> {
  const inherited = origin.with ?? [];
  const given = opts.with ?? [];
  const say = (line: string) => {
    if (!opts.quiet) process.stderr.write(line + '\n');
  };
  const names = (w: string[]) => w.map((x) => x.split(':')[0]);
  let chosen: string[];
  if (!given.length) {
    chosen = inherited;
    if (inherited.length) say(`resume: --with ${inherited.join(' --with ')}, as run ${origin.flowName}/${origin.runId} ran`);
  } else {
    chosen = given.filter((w) => w !== 'none');
    if (given.includes('none') && given.length > 1) throw new FlowUsageError(`--with none resumes without decorators; it cannot be given with others (${given.filter((w) => w !== 'none').join(', ')})`);
    if (inherited.length || chosen.length) say(`resume: --with ${chosen.length ? chosen.join(' --with ') : 'none'} (run ${origin.flowName}/${origin.runId} ran with ${inherited.length ? `--with ${inherited.join(' --with ')}` : 'none'})`);
  }
  // a step the origin ran elsewhere that would now run here is said by the backend it ran on
  for (const line of await resumeNotes(origin, names(chosen))) say(line);
  return chosen;
}

export async function resumeFlow(opts: ResumeOptions): Promise<RunOutcome> {
  const graph = await loadFlowGraph(opts.file, opts.flowName);
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
  const { all: origins, doneIn, maxId } = await chainOfDoneTasks(store, graph, origin);
  const rerun = opts.step ? downstream(graph, opts.step) : new Set<string>();

  const whole = wholeSteps(origins, doneIn, rerun);

  const cloner = async (ctx: RunContext): Promise<Cloner> => {
    // the references are durable before any task of this run can read through them
    await Promise.all([...whole].map(([step, run]) => ctx.journal.commit(step, [{ kind: 'ref', run }])));
    const usable = (task: { step: string; key: string }) => (rerun.has(task.step) ? undefined : origins.get(task.key));
    return {
      firstTaskId: maxId + 1,
      taskIdFor: (step, key) => usable({ step, key })?.done.taskId,
      originOf: (task) => {
        const d = origins.get(task.key)?.done;
        return d && (d.origin ?? d.pathspec);
      },
      async clone(task) {
        const src = usable(task)?.done;
        if (!src || src.taskId !== task.taskId) return undefined;
        const pathspec = `${ctx.graph.flowName}/${ctx.run.runId}/${task.step}/${task.taskId}`;
        const result: TaskResult = { ok: true, pathspec, next: src.next, foreachCount: src.foreachCount, resources: src.resources };
        if (whole.has(task.step)) return result;
        // cloned one by one (the step mixes runs): its records go into this run's journal
        const done: TaskDone = { ...src, pathspec, attempt: 0, inputs: task.inputs, foreachStack: foreachStack(task.frames), origin: src.origin ?? src.pathspec };
        result.records = [{ kind: 'done', taskId: task.taskId, done }];
        return result;
      },
    };
  };

  return runFlow({ ...opts, with: await resumeWith(opts, origin), origin: { run: origin, cloner, step: opts.step }, onRunCreated: (run) => void claimed(run.runId).catch(() => {}) });
}
