// Task records: what a step's tasks did (attempts, the DONE commit record, small logs), kept
// in one journal per step instead of several small files per task. The runner is the journal's
// only writer (see journal.ts); this module reads it.
//
//   local: <run>/<step>/tasks.jsonl          one file, appended to, fsynced once per batch
//   S3:    <run>/<step>/tasks/<seq>.jsonl    S3 has no append: a batch is one object; when
//                                            the run ends they are compacted into one
//                                            tasks/upto-<seq>.jsonl
//
// Each line is one JournalEntry. A resume that clones a whole step writes one `ref` entry (the
// run whose step it reuses) instead of one record per task; reading resolves it, so a cloned
// task looks like any other with `origin` naming where it ran.
//
// A line without its newline is a batch torn by a crash (power loss, full disk): it was never
// reported durable, so it is ignored. A complete line that does not parse is reported (damaged)
// and skipped: the task it described counts as not done, and resume runs it again.
import type { StorageBackend } from './backend.js';
import type { TaskDone, AttemptMeta } from './metadata.js';
import { JournalRecord, settle, fresh, readsRecords, type Cached, type StepRecords, type TaskRecord } from './journal-lines.js';
import { refresh, refreshSync } from './journal-read.js';

export type { JournalEntry, TaskLogs, TaskRecord, StepRecords } from './journal-lines.js';

const cache = new Map<string, Cached>();

export function journalKey(stepKey: string, kind: StorageBackend['kind']): string {
  return kind === 'local' ? `${stepKey}/tasks.jsonl` : `${stepKey}/tasks`;
}

export interface RecordSource {
  backend: StorageBackend;
  flowName: string;
  stepKey(runId: string, step: string): string;
  displayPath(key: string): string;
}

function cached(src: RecordSource, runId: string, step: string): { key: string; c: Cached } {
  const key = journalKey(src.stepKey(runId, step), src.backend.kind);
  const id = `${src.backend.location}\0${key}`;
  let c = cache.get(id);
  if (!c) cache.set(id, (c = fresh()));
  return { key, c };
}

/**
 * A task of another run seen through a step reference of run `to`: the same task, cloned (its
 * pathspec and inputs in `to`, `origin` naming where it ran), made when first used.
 */
class ClonedRecord implements TaskRecord {
  private made?: { done?: TaskDone; attempts: AttemptMeta[] };
  constructor(
    private src: TaskRecord,
    private flow: string,
    private to: string,
  ) {}
  get taskId(): string {
    return this.src.taskId;
  }
  get damaged(): string | undefined {
    return this.src.damaged;
  }
  get done(): TaskDone | undefined {
    return this.make().done;
  }
  get attempts(): AttemptMeta[] {
    return this.make().attempts;
  }
  private make() {
    if (this.made) return this.made;
    const d = this.src.done;
    if (!d) return (this.made = { attempts: [] });
    const swap = (p: string) => p.replace(/^([^/]+)\/[^/]+\//, `$1/${this.to}/`);
    const pathspec = `${this.flow}/${this.to}/${d.step}/${d.taskId}`;
    const done: TaskDone = { ...d, pathspec, attempt: 0, inputs: d.inputs.map(swap), origin: d.origin ?? d.pathspec };
    return (this.made = { done, attempts: [{ pathspec, attempt: 0, status: 'done', startedAt: d.startedAt, finishedAt: d.finishedAt }] });
  }
}

/** Whether a record may be a finished task, without parsing it if it can be helped. */
const mayBeDone = (r: TaskRecord): boolean => (r instanceof JournalRecord ? r.hasDoneLine : r instanceof ClonedRecord ? true : !!r.done);

/** The step's records with its references resolved; rebuilt only when something was read since. */
function resolve(src: RecordSource, runId: string, c: Cached, get: (run: string) => StepRecords & { stamp?: string }): StepRecords {
  if (!c.refs.length) {
    return (c.view = {
      tasks: c.own,
      get damaged() {
        return settle(c);
      },
    });
  }
  const from = c.refs.map((run) => get(run));
  const stamp = `${readMark(c)}|${from.map((f) => f.stamp ?? '?').join('|')}`;
  if (c.view && c.stamp === stamp) return c.view;
  c.stamp = stamp;
  return (c.view = build(src, runId, c, from));
}

function build(src: RecordSource, runId: string, c: Cached, refs: StepRecords[]): StepRecords {
  const tasks = new Map<string, TaskRecord>();
  for (const from of refs) {
    for (const rec of from.tasks.values()) if (mayBeDone(rec)) tasks.set(rec.taskId, new ClonedRecord(rec, src.flowName, runId));
  }
  // this run's own records (tasks run again, or cloned one by one) come after the reference
  for (const [id, rec] of c.own) tasks.set(id, rec.done || !tasks.get(id)?.done ? rec : tasks.get(id)!);
  return {
    tasks,
    get damaged() {
      return [...settle(c), ...refs.flatMap((r) => r.damaged)];
    },
  };
}

/** The view with what it was built from, for the views that reference it (getters kept lazy). */
const stamped = (c: Cached, view: StepRecords): StepRecords & { stamp: string } => ({
  tasks: view.tasks,
  get damaged() {
    return view.damaged;
  },
  stamp: `${readMark(c)}:${c.stamp ?? ''}`,
});

/** How far a step's journal has been read: a view built at another mark is stale. */
const readMark = (c: Cached): string => `${c.offset}:${c.lines}:${c.pods?.size ?? 0}`;

/** Every task record of a step, read up to date. */
export async function stepRecords(src: RecordSource, runId: string, step: string, seen = new Set<string>()): Promise<StepRecords> {
  const { key, c } = cached(src, runId, step);
  if (!c.reading) {
    c.reading = refresh(src.backend, key, c, (k) => src.displayPath(k)).finally(() => (c.reading = undefined));
  }
  await c.reading;
  seen.add(runId);
  const refs = new Map<string, StepRecords & { stamp?: string }>();
  for (const run of c.refs) if (!seen.has(run)) refs.set(run, await stampedRecords(src, run, step, seen));
  return resolve(src, runId, c, (run) => refs.get(run) ?? { tasks: new Map(), damaged: [] });
}

async function stampedRecords(src: RecordSource, runId: string, step: string, seen: Set<string>) {
  const view = await stepRecords(src, runId, step, seen);
  return stamped(cached(src, runId, step).c, view);
}

export function stepRecordsSync(src: RecordSource, runId: string, step: string, seen = new Set<string>()): StepRecords {
  const { key, c } = cached(src, runId, step);
  refreshSync(src.backend, key, c, (k) => src.displayPath(k));
  seen.add(runId);
  return resolve(src, runId, c, (run) =>
    seen.has(run) ? { tasks: new Map(), damaged: [] } : stamped(cached(src, run, step).c, stepRecordsSync(src, run, step, seen)),
  );
}

/**
 * A finished task's record if this process has read it already: no I/O. Records never change
 * once committed, so a task in the cache is answered without reading the journal again (a worker
 * opening its inputs, task after task: a join's thousands of inputs are all in the first read).
 */
export function knownTaskRecord(src: RecordSource, runId: string, step: string, taskId: string): TaskRecord | undefined {
  const c = cached(src, runId, step).c;
  // without references the view is the step's own records; read ones are there before any view is built
  const hit = c.view?.tasks.get(taskId) ?? (c.refs.length ? undefined : c.own.get(taskId));
  return hit?.done ? hit : undefined;
}

/** What a reader of task records will do with the step's other records. */
export interface RecordUse {
  /** it reads most of them, content and all (a join opening its inputs): parse lines as they are read */
  readsStep?: boolean;
}

/** One task's record, read up to date unless already known. */
export async function taskRecord(src: RecordSource, runId: string, step: string, taskId: string, use: RecordUse = {}): Promise<TaskRecord | undefined> {
  const hit = knownTaskRecord(src, runId, step, taskId);
  if (hit) return hit;
  if (use.readsStep) readsRecords(cached(src, runId, step).c);
  // twice: the first read may have been one already in flight, started before this record was committed
  const first = (await stepRecords(src, runId, step)).tasks.get(taskId);
  return first?.done ? first : (await stepRecords(src, runId, step)).tasks.get(taskId);
}

export function taskRecordSync(src: RecordSource, runId: string, step: string, taskId: string): TaskRecord | undefined {
  const hit = knownTaskRecord(src, runId, step, taskId);
  if (hit) return hit;
  return stepRecordsSync(src, runId, step).tasks.get(taskId);
}

/** Task ids in numeric order. */
export function sortedTasks(r: StepRecords): TaskRecord[] {
  return [...r.tasks.values()].sort((a, b) => Number(a.taskId) - Number(b.taskId));
}

/**
 * Let go of what was read of a step's records (a reader done with them, such as the runner once a
 * cached join has keyed its inputs): the next read of the step starts afresh.
 */
export function forgetRecords(src: RecordSource, runId: string, step: string): void {
  cache.delete(`${src.backend.location}\0${journalKey(src.stepKey(runId, step), src.backend.kind)}`);
}

/** Forget cached records (tests that rewrite a journal in place). */
export function clearRecordCache(): void {
  cache.clear();
}

