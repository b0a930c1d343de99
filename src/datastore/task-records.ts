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
import fs from 'node:fs';
import { isAscii } from 'node:buffer';
import path from 'node:path';
import type { AttemptMeta, TaskDone } from './metadata.js';
import type { StorageBackend } from './backend.js';
import { NotFoundError } from '../errors.js';

export interface TaskLogs {
  stdout?: string;
  stderr?: string;
}

export type JournalEntry =
  | { kind: 'attempt'; taskId: string; attempt: AttemptMeta; logs?: TaskLogs }
  | { kind: 'done'; taskId: string; done: TaskDone; logs?: TaskLogs }
  | { kind: 'ref'; run: string };

/** Everything recorded about one task. */
export interface TaskRecord {
  taskId: string;
  done?: TaskDone;
  /** attempts in order (the latest record of each attempt number) */
  attempts: AttemptMeta[];
  /** small logs carried in the journal (S3), by attempt */
  logs?: Record<number, TaskLogs>;
  /** a record of this task could not be read (why, naming the file and line): it is not done */
  damaged?: string;
}

export interface StepRecords {
  /** by task id; iterate with sortedTasks() */
  tasks: Map<string, TaskRecord>;
  /** one line per journal entry that could not be read */
  damaged: string[];
}

interface Cached {
  /** local: bytes consumed; S3: the last batch read (batches are numbered in order) */
  offset: number;
  own: Map<string, TaskRecord>;
  refs: string[];
  damaged: string[];
  /** complete lines read (local), for messages */
  lines: number;
  /** the last bytes read (local): a file rewritten in place, not appended to, is read afresh */
  tail: Buffer;
  /** a read in flight: concurrent readers of the step (a join opening its inputs) share it */
  reading?: Promise<void>;
  /** the resolved view and what it was built from */
  view?: StepRecords;
  stamp?: string;
}

const cache = new Map<string, Cached>();

export function journalKey(stepKey: string, kind: StorageBackend['kind']): string {
  return kind === 'local' ? `${stepKey}/tasks.jsonl` : `${stepKey}/tasks`;
}

/** Apply one entry to a step's own records. */
function apply(c: Cached, e: JournalEntry): void {
  if (e.kind === 'ref') {
    if (!c.refs.includes(e.run)) c.refs.push(e.run);
    return;
  }
  let rec = c.own.get(e.taskId);
  if (!rec) c.own.set(e.taskId, (rec = { taskId: e.taskId, attempts: [] }));
  if (e.kind === 'done') {
    rec.done = e.done;
    // a completed attempt has no record of its own: its DONE record says it all
    const d = e.done;
    const has = rec.attempts.find((a) => a.attempt === d.attempt);
    if (!has || has.status === 'running') {
      setAttempt(rec, { pathspec: d.pathspec, attempt: d.attempt, status: 'done', startedAt: d.startedAt, finishedAt: d.finishedAt, ...(d.resources ? { resources: d.resources } : {}) });
    }
    if (e.logs) (rec.logs ??= {})[d.attempt] = e.logs;
    return;
  }
  setAttempt(rec, e.attempt);
  if (e.logs) (rec.logs ??= {})[e.attempt.attempt] = e.logs;
}

function setAttempt(rec: TaskRecord, a: AttemptMeta): void {
  const i = rec.attempts.findIndex((x) => x.attempt === a.attempt);
  if (i >= 0) rec.attempts[i] = a;
  else {
    rec.attempts.push(a);
    if (rec.attempts.length > 1 && rec.attempts[rec.attempts.length - 2].attempt > a.attempt) rec.attempts.sort((x, y) => x.attempt - y.attempt);
  }
}

const isEntry = (v: any): v is JournalEntry =>
  v !== null &&
  typeof v === 'object' &&
  ((v.kind === 'ref' && typeof v.run === 'string') ||
    (v.kind === 'done' && typeof v.taskId === 'string' && typeof v.done?.key === 'string' && typeof v.done?.artifacts === 'object') ||
    (v.kind === 'attempt' && typeof v.taskId === 'string' && typeof v.attempt?.attempt === 'number'));

/** Parse complete lines of `text`; returns how many characters were consumed (up to the last newline). */
function consume(c: Cached, text: string, where: string, firstLine: number): number {
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n');
  lines.pop();
  c.lines += lines.length;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      const why = `${where}:${firstLine + i}: a task record is damaged (${(err as Error).message})`;
      c.damaged.push(`${why}; that task counts as not done`);
      // whose record it was, when that much survived: the task is listed, as not done
      const taskId = /"taskId":"(\d+)"/.exec(line)?.[1];
      if (taskId) {
        if (!c.own.has(taskId)) c.own.set(taskId, { taskId, attempts: [] });
        c.own.get(taskId)!.damaged = why;
      }
      return;
    }
    if (isEntry(v)) apply(c, v);
    else c.damaged.push(`${where}:${firstLine + i}: not a flowbook task record; skipped`);
  });
  return end;
}

function fresh(): Cached {
  return { offset: 0, own: new Map(), refs: [], damaged: [], lines: 0, tail: Buffer.alloc(0) };
}

/**
 * S3 batch names: `<seq>.jsonl` (8 digits, written in order by the run's one writer), and
 * `upto-<seq>.jsonl`, the compacted batches 1..seq (journal.ts writes it when the run ends and
 * then deletes those batches). Returns what to read, in order, to catch up from batch `have`.
 */
export function batchesToRead(names: string[], have: number): { names: string[]; from: number } {
  const seqOf = (n: string) => Number(/(\d{8})\.jsonl$/.exec(n)?.[1] ?? NaN);
  const upto = names.filter((n) => /^upto-\d{8}\.jsonl$/.test(n)).sort().at(-1);
  const base = upto && seqOf(upto) > have ? seqOf(upto) : have;
  const batches = names.filter((n) => /^\d{8}\.jsonl$/.test(n) && seqOf(n) > base).sort();
  // a compacted object that covers more than was read replaces what was read
  return upto && base > have ? { names: [upto, ...batches], from: 0 } : { names: batches, from: have };
}

export const batchSeq = (name: string): number => Number(/(\d{8})\.jsonl$/.exec(name)?.[1] ?? 0);

/** Read what was appended since the last read (local: from the byte offset; S3: new batches). */
async function refresh(backend: StorageBackend, key: string, c: Cached, where: (k: string) => string, retried = false): Promise<void> {
  if (backend.kind === 'local') return refreshLocal(backend, key, c, where);
  const plan = batchesToRead(await backend.list(key), c.offset);
  const bodies = await Promise.all(plan.names.map((n) => backend.get(`${key}/${n}`).catch((e) => (e instanceof NotFoundError ? undefined : Promise.reject(e)))));
  // a batch deleted between the listing and the read was compacted meanwhile: list again
  if (bodies.some((b) => !b) && !retried) return refresh(backend, key, c, where, true);
  if (plan.from === 0 && c.offset > 0) Object.assign(c, fresh(), { view: undefined, stamp: undefined });
  plan.names.forEach((n, i) => {
    const body = bodies[i];
    if (!body) return;
    consume(c, body.toString('utf8'), where(`${key}/${n}`), 1);
    c.offset = Math.max(c.offset, batchSeq(n));
  });
}

function refreshLocal(backend: StorageBackend, key: string, c: Cached, where: (k: string) => string): void {
  const file = path.join(backend.location, key);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err: any) {
    if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return;
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size < c.offset || !sameTail(fd, c)) Object.assign(c, fresh(), { view: undefined, stamp: undefined });
    if (size === c.offset) return;
    const buf = Buffer.allocUnsafe(size - c.offset);
    const n = fs.readSync(fd, buf, 0, buf.length, c.offset);
    // only whole lines: the rest is a batch being written, or torn by a crash
    const end = buf.subarray(0, n).lastIndexOf(0x0a) + 1;
    if (!end) return;
    const bytes = buf.subarray(0, end);
    // records are nearly always ASCII, which decodes several times faster as latin1
    consume(c, bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8'), where(key), c.lines + 1);
    c.offset += end;
    c.tail = Buffer.from(buf.subarray(Math.max(0, end - 64), end));
  } finally {
    fs.closeSync(fd);
  }
}

/** Are the bytes before the offset still the ones read? (a journal is only ever appended to) */
function sameTail(fd: number, c: Cached): boolean {
  if (!c.tail.length) return true;
  const now = Buffer.alloc(c.tail.length);
  fs.readSync(fd, now, 0, now.length, c.offset - c.tail.length);
  return now.equals(c.tail);
}

function refreshSync(backend: StorageBackend, key: string, c: Cached, where: (k: string) => string, retried = false): void {
  if (backend.kind === 'local') return refreshLocal(backend, key, c, where);
  const plan = batchesToRead(backend.listSync(key), c.offset);
  const bodies = plan.names.map((n) => {
    try {
      return backend.getSync(`${key}/${n}`);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  });
  if (bodies.some((b) => !b) && !retried) return refreshSync(backend, key, c, where, true);
  if (plan.from === 0 && c.offset > 0) Object.assign(c, fresh(), { view: undefined, stamp: undefined });
  plan.names.forEach((n, i) => {
    const body = bodies[i];
    if (!body) return;
    consume(c, body.toString('utf8'), where(`${key}/${n}`), 1);
    c.offset = Math.max(c.offset, batchSeq(n));
  });
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

/** A task of run `from` seen through a step reference of run `to`: the same task, cloned. */
function cloneThrough(rec: TaskRecord, flow: string, to: string): TaskRecord {
  const d = rec.done!;
  const swap = (p: string) => p.replace(/^([^/]+)\/[^/]+\//, `$1/${to}/`);
  const pathspec = `${flow}/${to}/${d.step}/${d.taskId}`;
  const done: TaskDone = { ...d, pathspec, attempt: 0, inputs: d.inputs.map(swap), foreachStack: d.foreachStack, origin: d.origin ?? d.pathspec };
  return { taskId: rec.taskId, done, attempts: [{ pathspec, attempt: 0, status: 'done', startedAt: d.startedAt, finishedAt: d.finishedAt }] };
}

/** The step's records with its references resolved; rebuilt only when something was read since. */
function resolve(src: RecordSource, runId: string, c: Cached, get: (run: string) => StepRecords & { stamp?: string }): StepRecords {
  if (!c.refs.length) return (c.view = { tasks: c.own, damaged: c.damaged });
  const from = c.refs.map((run) => get(run));
  const stamp = `${c.offset}:${c.lines}|${from.map((f) => f.stamp ?? '?').join('|')}`;
  if (c.view && c.stamp === stamp) return c.view;
  c.stamp = stamp;
  return (c.view = build(src, runId, c, from));
}

function build(src: RecordSource, runId: string, c: Cached, refs: StepRecords[]): StepRecords {
  const tasks = new Map<string, TaskRecord>();
  const damaged = [...c.damaged];
  for (const from of refs) {
    damaged.push(...from.damaged);
    for (const rec of from.tasks.values()) if (rec.done) tasks.set(rec.taskId, cloneThrough(rec, src.flowName, runId));
  }
  // this run's own records (tasks run again, or cloned one by one) come after the reference
  for (const [id, rec] of c.own) tasks.set(id, rec.done || !tasks.get(id)?.done ? rec : tasks.get(id)!);
  return { tasks, damaged };
}

const stamped = (c: Cached, view: StepRecords) => Object.assign({}, view, { stamp: `${c.offset}:${c.lines}:${c.stamp ?? ''}` });

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
 * One task's record. Records never change once committed, so a task already in the cache is
 * answered without reading the journal again (a worker opening its inputs, task after task).
 */
export async function taskRecord(src: RecordSource, runId: string, step: string, taskId: string): Promise<TaskRecord | undefined> {
  const hit = cached(src, runId, step).c.view?.tasks.get(taskId);
  if (hit?.done) return hit;
  // twice: the first read may have been one already in flight, started before this record was committed
  const first = (await stepRecords(src, runId, step)).tasks.get(taskId);
  return first?.done ? first : (await stepRecords(src, runId, step)).tasks.get(taskId);
}

export function taskRecordSync(src: RecordSource, runId: string, step: string, taskId: string): TaskRecord | undefined {
  const hit = cached(src, runId, step).c.view?.tasks.get(taskId);
  if (hit?.done) return hit;
  return stepRecordsSync(src, runId, step).tasks.get(taskId);
}

/** Task ids in numeric order. */
export function sortedTasks(r: StepRecords): TaskRecord[] {
  return [...r.tasks.values()].sort((a, b) => Number(a.taskId) - Number(b.taskId));
}

/** Forget cached records (tests that rewrite a journal in place). */
export function clearRecordCache(): void {
  cache.clear();
}
