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
  own: Map<string, JournalRecord>;
  refs: string[];
  damaged: string[];
  /** complete lines read (local), for messages */
  lines: number;
  /** the last bytes read (local): a file rewritten in place, not appended to, is read afresh */
  tail: Buffer;
  /** the step was looked for in the layout before journals (once per process) */
  legacyRead?: boolean;
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

/**
 * A task's record as read from the journal. Its lines are parsed on first use: listing the
 * 10,000 tasks of a step costs a scan of the lines' prefixes, not 10,000 JSON parses. Its
 * attempts are merged then too: a completed attempt has no line of its own (its DONE record says
 * it all).
 */
class JournalRecord implements TaskRecord {
  private parsed: { done?: TaskDone; logs?: Record<number, TaskLogs>; damaged?: string } = {};
  private unparsed: { line: string; where: string }[] = [];
  private recorded: AttemptMeta[] = [];
  private merged?: AttemptMeta[];

  constructor(
    readonly taskId: string,
    private c: Cached,
  ) {}

  get done(): TaskDone | undefined {
    return this.parse().done;
  }
  get logs(): Record<number, TaskLogs> | undefined {
    return this.parse().logs;
  }
  get damaged(): string | undefined {
    return this.parse().damaged;
  }

  get attempts(): AttemptMeta[] {
    this.parse();
    if (this.merged) return this.merged;
    const list = [...this.recorded];
    const d = this.parsed.done;
    const has = d ? list.findIndex((a) => a.attempt === d.attempt) : -1;
    if (d && (has === -1 || list[has].status === 'running')) {
      const a: AttemptMeta = { pathspec: d.pathspec, attempt: d.attempt, status: 'done', startedAt: d.startedAt, finishedAt: d.finishedAt, ...(d.resources ? { resources: d.resources } : {}) };
      if (has === -1) list.push(a);
      else list[has] = a;
    }
    return (this.merged = list.sort((x, y) => x.attempt - y.attempt));
  }

  /** a DONE line was seen (parsed or not): the task is listed as cloned through a reference */
  hasDoneLine = false;

  defer(line: string, where: string, isDone: boolean): void {
    this.unparsed.push({ line, where });
    this.hasDoneLine ||= isDone;
  }

  markDamaged(why: string): void {
    this.parsed.damaged = why;
  }

  apply(e: Exclude<JournalEntry, { kind: 'ref' }>): void {
    this.merged = undefined;
    if (e.kind === 'done') {
      this.hasDoneLine = true;
      this.parsed.done = e.done;
      if (e.logs) (this.parsed.logs ??= {})[e.done.attempt] = e.logs;
      return;
    }
    const i = this.recorded.findIndex((x) => x.attempt === e.attempt.attempt);
    if (i >= 0) this.recorded[i] = e.attempt;
    else this.recorded.push(e.attempt);
    if (e.logs) (this.parsed.logs ??= {})[e.attempt.attempt] = e.logs;
  }

  private parse() {
    if (this.unparsed.length) {
      const lines = this.unparsed;
      this.unparsed = [];
      for (const { line, where } of lines) parseLine(this.c, line, where);
    }
    return this.parsed;
  }

  /** parse now (callers about to report damaged lines) */
  settle(): void {
    this.parse();
  }
}

function recordOf(c: Cached, taskId: string): JournalRecord {
  let rec = c.own.get(taskId);
  if (!rec) c.own.set(taskId, (rec = new JournalRecord(taskId, c)));
  return rec;
}

/** Apply one entry to a step's own records. */
function apply(c: Cached, e: JournalEntry): void {
  if (e.kind === 'ref') {
    if (!c.refs.includes(e.run)) c.refs.push(e.run);
    return;
  }
  recordOf(c, e.taskId).apply(e);
}

const isEntry = (v: any): v is JournalEntry =>
  v !== null &&
  typeof v === 'object' &&
  ((v.kind === 'ref' && typeof v.run === 'string') ||
    (v.kind === 'done' && typeof v.taskId === 'string' && typeof v.done?.key === 'string' && typeof v.done?.artifacts === 'object') ||
    (v.kind === 'attempt' && typeof v.taskId === 'string' && typeof v.attempt?.attempt === 'number'));

/** One journal line (`where` is file:line): applied, or reported damaged. */
function parseLine(c: Cached, line: string, where: string): void {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    const why = `${where}: a task record is damaged (${(err as Error).message})`;
    c.damaged.push(`${why}; that task counts as not done`);
    // whose record it was, when that much survived: the task is listed, as not done
    const taskId = /"taskId":"(\d+)"/.exec(line)?.[1];
    if (taskId) recordOf(c, taskId).markDamaged(why);
    return;
  }
  if (isEntry(v)) apply(c, v);
  else c.damaged.push(`${where}: not a flowbook task record; skipped`);
}

/** The shape JSON.stringify gives every task line: its kind and task come first. */
const TASK_LINE = /^\{"kind":"(attempt|done)","taskId":"(\d+)",/;

/** Take the complete lines of `text` (task lines are parsed when first used); returns the characters consumed. */
function consume(c: Cached, text: string, where: string, firstLine: number): number {
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n');
  lines.pop();
  c.lines += lines.length;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const task = TASK_LINE.exec(line);
    if (task) recordOf(c, task[2]).defer(line, `${where}:${firstLine + i}`, task[1] === 'done');
    else parseLine(c, line, `${where}:${firstLine + i}`);
  });
  return end;
}

/** Parse every deferred line of a step: its damaged lines are then all known. */
function settle(c: Cached): string[] {
  for (const rec of c.own.values()) rec.settle();
  // in the journal's order (lines parsed late were reported late)
  const at = (m: string) => /^(.*?):(\d+): /.exec(m) ?? ['', m, '0'];
  return c.damaged.sort((a, b) => {
    const [, fa, la] = at(a);
    const [, fb, lb] = at(b);
    return fa < fb ? -1 : fa > fb ? 1 : Number(la) - Number(lb);
  });
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
  if (!plan.names.length && !c.offset) return readLegacy(backend, key, c, where);
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
    if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return readLegacy(backend, key, c, where);
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

/**
 * A step written before task journals existed (flowbook before issue 07): a folder per task with
 * attempt-<n>.json and DONE.json. Read once, as journal lines, so those runs stay readable.
 */
function readLegacy(backend: StorageBackend, key: string, c: Cached, where: (k: string) => string): void {
  if (c.legacyRead) return;
  c.legacyRead = true;
  const stepKey = key.replace(/\/tasks(\.jsonl)?$/, '');
  for (const id of backend.listSync(stepKey).filter((n) => /^\d+$/.test(n))) {
    const names = backend.listSync(`${stepKey}/${id}`);
    const files = [...names.filter((n) => /^attempt-\d+\.json$/.test(n)).sort(), ...(names.includes('DONE.json') ? ['DONE.json'] : [])];
    for (const n of files) {
      let body: string;
      try {
        body = backend.getSync(`${stepKey}/${id}/${n}`).toString('utf8');
      } catch (err) {
        if (err instanceof NotFoundError) continue;
        throw err;
      }
      const line = n === 'DONE.json' ? `{"kind":"done","taskId":"${id}","done":${body}}` : `{"kind":"attempt","taskId":"${id}","attempt":${body}}`;
      parseLine(c, line, where(`${stepKey}/${id}/${n}`));
    }
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
  if (!plan.names.length && !c.offset) return readLegacy(backend, key, c, where);
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
  const stamp = `${c.offset}:${c.lines}|${from.map((f) => f.stamp ?? '?').join('|')}`;
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
  stamp: `${c.offset}:${c.lines}:${c.stamp ?? ''}`,
});

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
