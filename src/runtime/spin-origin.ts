// Which past task a spin replays, and whether what it read is still there: `--from Flow/RUN`
// (default: the user's latest successful run) or `--from Flow/RUN/STEP/TASK`, `--index N` among
// a foreach step's tasks; then the task's inputs — their DONE records and blobs — checked before
// any run record is made, so a spin that cannot read its inputs is one line and leaves nothing.
import PQueue from 'p-queue';
import type { FlowGraph } from '../flow/graph-types.js';
import type { FlowDatastore } from '../datastore/store.js';
import { currentUser } from '../datastore/store.js';
import { runIndexFor } from '../datastore/index-files.js';
import type { RunMeta, TaskDone } from '../datastore/metadata.js';
import { sortedTasks } from '../datastore/task-records.js';
import { FlowUsageError, NameError, NotFoundError } from '../errors.js';

/** The past task a spin replays, in the run that holds it. */
export interface SpinOrigin {
  run: RunMeta;
  done: TaskDone;
  /** a join of a foreach over zero items: the foreach task, whose artifacts reach the join */
  emptyForeach?: string;
}

/** `latest` / `latest-successful` / an id → a run id, in the user's namespace (as `resume` picks its origin). */
async function runIdOf(store: FlowDatastore, given: string | undefined, from: string | undefined): Promise<string> {
  if (given && given !== 'latest' && given !== 'latest-successful') return given;
  const index = runIndexFor(store.backend, store.flowName);
  const ns = `user:${currentUser()}`;
  const id = given === 'latest' ? await index.latest(ns) : await index.latestSuccessful(ns);
  if (!id) {
    const what = given === 'latest' ? 'run' : 'successful run';
    throw new NotFoundError(`${store.flowName} has no ${what} to spin from${from ? ` (--from ${from})` : ''}: run it first (flowbook run FILE), or name a run with --from ${store.flowName}/RUN_ID`, {
      pathspec: store.flowName,
    });
  }
  return id;
}

/** A foreach's tasks in the order of the list(s) iterated over (outermost first), then by id. */
function byPlace(a: TaskDone, b: TaskDone): number {
  const n = Math.max(a.foreachStack.length, b.foreachStack.length);
  for (let i = 0; i < n; i++) {
    const d = (a.foreachStack[i]?.index ?? -1) - (b.foreachStack[i]?.index ?? -1);
    if (d) return d;
  }
  return Number(a.taskId) - Number(b.taskId);
}

/**
 * The task to replay. `from`: `Flow/RUN` (`RUN` may be `latest` or `latest-successful`), or a
 * task of `step` (`Flow/RUN/STEP/TASK`); `index`: which of the step's finished tasks, in foreach
 * order (0 is the first). Every way of naming nothing is one clear error.
 */
export async function findOrigin(store: FlowDatastore, graph: FlowGraph, step: string, from?: string, index?: number): Promise<SpinOrigin> {
  const parts = from?.split('/') ?? [];
  if (from !== undefined) {
    if (parts.length < 2 || parts.length > 4 || parts.some((p) => !p)) throw new NameError(`--from takes a run (Flow/RUN) or a task of step ${step} (Flow/RUN/${step}/TASK), got ${JSON.stringify(from)}`);
    if (parts[0] !== graph.flowName) throw new FlowUsageError(`--from ${from} names flow ${parts[0]}, but ${graph.file} is flow ${graph.flowName}`);
    if (parts[2] !== undefined && parts[2] !== step) throw new FlowUsageError(`--from ${from} is in step ${parts[2]}, not in step ${step} (give the run, ${parts[0]}/${parts[1]}, or a task of ${step})`);
    if (parts[3] !== undefined && index !== undefined) throw new FlowUsageError(`--from ${from} names one task already; --index picks among a run's tasks (give --from ${parts[0]}/${parts[1]})`);
  }
  const run = await store.readRun(await runIdOf(store, parts[1], from));
  const runPath = `${graph.flowName}/${run.runId}`;
  const records = await store.stepRecords(run.runId, step);
  let done: TaskDone | undefined;
  if (parts[3] !== undefined) {
    const rec = records.tasks.get(parts[3]);
    if (!rec) throw new NotFoundError(`task not found: ${runPath}/${step}/${parts[3]} (its tasks: ${sortedTasks(records).map((r) => r.taskId).join(', ') || 'none'})`, { pathspec: from });
    done = rec.done;
    if (!done) throw new NotFoundError(`task ${runPath}/${step}/${parts[3]} did not finish, so it recorded no inputs to spin from (a failed task: flowbook resume re-runs it from its run's inputs)`, { pathspec: from });
  } else {
    const tasks = [...records.tasks.values()].flatMap((r) => (r.done ? [r.done] : [])).sort(byPlace);
    if (!tasks.length) {
      throw new NotFoundError(`run ${runPath} (${run.status}) has no finished task of step ${step} to spin from${from ? '' : ' (the latest successful run)'}: name another run with --from ${graph.flowName}/RUN_ID`, {
        pathspec: `${runPath}/${step}`,
      });
    }
    const i = index ?? 0;
    if (i >= tasks.length) throw new NameError(`--index ${i}: step ${step} of run ${runPath} has ${tasks.length} finished task${tasks.length === 1 ? '' : 's'} (--index 0${tasks.length > 1 ? ` to ${tasks.length - 1}` : ''})`);
    done = tasks[i];
  }
  // a join of a foreach over zero items read its foreach task (through mergeArtifacts), not its inputs
  const node = graph.nodes[step];
  let emptyForeach: string | undefined;
  if (node.isJoin && done.inputs.length === 0) {
    const split = Object.values(graph.nodes).find((n) => n.foreach && n.matchingJoin === step);
    const key = split && `${split.name}${done.key.slice(step.length)}`;
    const rec = split && [...(await store.stepRecords(run.runId, split.name)).tasks.values()].find((r) => r.done?.key === key);
    if (rec?.done) emptyForeach = rec.done.pathspec;
  }
  return { run, done, emptyForeach };
}

/**
 * Every task the replay reads — its inputs, the foreach tasks whose lists give `this.input`, an
 * empty foreach's task — has its DONE record, and every blob of theirs is in the store. What is
 * gone is named: `cannot spin …: its input … is gone (…)`.
 */
export async function checkInputs(store: FlowDatastore, origin: SpinOrigin): Promise<void> {
  const { done, run } = origin;
  const read = [
    ...done.inputs.map((p) => ({ p, what: 'its input' })),
    ...done.foreachStack.map((f) => ({ p: `${run.flowName}/${run.runId}/${f.step}/${f.taskId}`, what: `the foreach task whose ${f.field} gives this.input,` })),
    ...(origin.emptyForeach ? [{ p: origin.emptyForeach, what: 'the foreach task it merges' }] : []),
  ];
  const seen = new Set<string>();
  // a join of 1,000 tasks: its records come from one journal read, its blobs are checked 16 at a time
  const queue = new PQueue({ concurrency: 16 });
  const check = async ({ p, what }: { p: string; what: string }) => {
    const [, runId, step, taskId] = p.split('/');
    const gone = (why: string) => new NotFoundError(`cannot spin ${done.pathspec}: ${what} ${p} is gone (${why})`, { pathspec: p });
    const input = await store.readDone(runId, step, taskId).catch((err) => {
      throw gone(`its record cannot be read: ${err?.message ?? err}`);
    });
    if (!input) throw gone('it has no DONE record');
    const blobs = Object.entries(input.artifacts).filter(([, ref]) => ref.inline === undefined && !seen.has(ref.sha));
    for (const [, ref] of blobs) seen.add(ref.sha);
    await Promise.all(
      blobs.map(([name, ref]) =>
        queue.add(async () => {
          if (!(await store.backend.exists(store.blobKey(ref.sha, ref.encoding)))) throw gone(`the blob ${ref.sha} of its artifact '${name}' is missing`);
        }),
      ),
    );
  };
  // in order, so the first input that is gone is the one named
  for (const r of read) await check(r);
}
