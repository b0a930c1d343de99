// Journal lines, parsed: a step's records as read so far (Cached) and the records of its tasks.
// Task lines are kept as text until first used; see task-records.ts for the layout.
import { isAscii } from 'node:buffer';
import type { AttemptMeta, TaskDone } from './metadata.js';

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


export interface Cached {
  /** local: bytes consumed; S3: the last batch read (batches are numbered in order) */
  offset: number;
  own: Map<string, JournalRecord>;
  refs: string[];
  damaged: string[];
  /** complete lines read (local), for messages */
  lines: number;
  /** the last bytes read (local): a file rewritten in place, not appended to, is read afresh */
  tail: Buffer;
  /** S3: the per-task objects of Argo pods already read (journal-read.ts) */
  pods?: Set<string>;
  /** the step was looked for in the layout before journals (once per process) */
  legacyRead?: boolean;
  /** a read in flight: concurrent readers of the step (a join opening its inputs) share it */
  reading?: Promise<void>;
  /**
   * a reader in this process reads the records themselves, most of them (a join opening its
   * inputs): lines are parsed as they are read, so no text is kept (see readsRecords)
   */
  parseAsRead?: boolean;
  /** the last records parsed, whose values the next ones share (see shareWith) */
  lastDone?: TaskDone;
  lastAttempt?: AttemptMeta;
  /** the resolved view and what it was built from */
  view?: StepRecords;
  stamp?: string;
}

/** A line kept as text until its record is first used, and where it was read (file:line). */
interface Deferred {
  line: string;
  where: string;
}

/**
 * A task's record as read from the journal. Its lines are parsed on first use: listing the
 * 10,000 tasks of a step costs a scan of the lines' prefixes, not 10,000 JSON parses. Its
 * attempts are merged then too: a completed attempt has no line of its own (its DONE record says
 * it all). A step holds one per task, so a field is only set when it has something.
 */
export class JournalRecord implements TaskRecord {
  private doneEntry?: TaskDone;
  private logsByAttempt?: Record<number, TaskLogs>;
  private damagedWhy?: string;
  private unparsed?: Deferred[];
  /** attempts with lines of their own (the latest line of each attempt number) */
  private recorded?: AttemptMeta[];
  private merged?: AttemptMeta[];

  constructor(
    readonly taskId: string,
    private c: Cached,
  ) {}

  get done(): TaskDone | undefined {
    this.settle();
    return this.doneEntry;
  }
  get logs(): Record<number, TaskLogs> | undefined {
    this.settle();
    return this.logsByAttempt;
  }
  get damaged(): string | undefined {
    this.settle();
    return this.damagedWhy;
  }

  get attempts(): AttemptMeta[] {
    this.settle();
    if (this.merged) return this.merged;
    const list = [...(this.recorded ?? [])];
    const d = this.doneEntry;
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
    if (this.unparsed) this.unparsed.push({ line, where });
    else this.unparsed = [{ line, where }];
    this.hasDoneLine ||= isDone;
  }

  markDamaged(why: string): void {
    this.damagedWhy = why;
  }

  apply(e: Exclude<JournalEntry, { kind: 'ref' }>): void {
    this.merged = undefined;
    if (e.kind === 'done') {
      this.hasDoneLine = true;
      this.doneEntry = this.c.lastDone = shareWith(e.done, this.c.lastDone);
      if (e.logs) (this.logsByAttempt ??= {})[e.done.attempt] = e.logs;
      return;
    }
    const attempt = (this.c.lastAttempt = shareWith(e.attempt, this.c.lastAttempt));
    const list = (this.recorded ??= []);
    const i = list.findIndex((x) => x.attempt === attempt.attempt);
    if (i >= 0) list[i] = attempt;
    else list.push(attempt);
    if (e.logs) (this.logsByAttempt ??= {})[attempt.attempt] = e.logs;
  }

  /** Parse the lines not parsed yet (callers about to report damaged lines call it for all). */
  settle(): void {
    const lines = this.unparsed;
    if (!lines) return;
    this.unparsed = undefined;
    for (const { line, where } of lines) parseLine(this.c, line, where);
  }
}

/**
 * The records of a step repeat most of what they hold: the references of the artifacts every task
 * inherits, their inputs, their successors, their resource requests. A value equal to the one at
 * the same place in the step's last record read is replaced by that one (objects when all their
 * fields are, strings by value), so 10,000 records keep one copy of what they share. `v` is a
 * record just parsed, changed in place; records are never changed once read.
 */
export function shareWith<T>(v: T, prev: unknown): T {
  if (typeof v === 'string') return (v === prev ? prev : v) as T;
  if (typeof v !== 'object' || v === null || typeof prev !== 'object' || prev === null || Array.isArray(v) !== Array.isArray(prev)) return v;
  const o = v as any;
  const p = prev as any;
  let same = true;
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const s = shareWith(o[i], p[i]);
      if (s !== o[i]) o[i] = s;
      same &&= s === p[i];
    }
    return (same && o.length === p.length ? p : o) as T;
  }
  for (const k in o) {
    const s = shareWith(o[k], p[k]);
    if (s !== o[k]) o[k] = s;
    same &&= s === p[k];
  }
  if (!same) return v;
  // equal only with the same names in the same order: the order is what Object.keys (and so a
  // join's input view) lists
  const names = Object.keys(o);
  let i = 0;
  for (const k in p) if (names[i++] !== k) return v;
  return (i === names.length ? p : v) as T;
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
export function parseLine(c: Cached, line: string, where: string): void {
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

/**
 * Take the complete lines of `bytes` (task lines are parsed when first used); returns how many
 * bytes that was. Each line is decoded on its own: a line kept for later holds its own text, not
 * the chunk it was read in, so a reader never holds a whole journal as text.
 */
export function consume(c: Cached, bytes: Buffer, where: string, firstLine: number): number {
  // records are nearly always ASCII, which decodes several times faster as latin1
  const encoding = isAscii(bytes) ? 'latin1' : 'utf8';
  let start = 0;
  for (let nl = bytes.indexOf(0x0a), at = firstLine; nl !== -1; start = nl + 1, nl = bytes.indexOf(0x0a, start), at++) {
    c.lines++;
    const line = bytes.toString(encoding, start, nl);
    if (!line.trim()) continue;
    const task = TASK_LINE.exec(line);
    if (task && !c.parseAsRead) recordOf(c, task[2]).defer(line, `${where}:${at}`, task[1] === 'done');
    else parseLine(c, line, `${where}:${at}`);
  }
  return start;
}

/** Parse every deferred line of a step: its damaged lines are then all known. */
export function settle(c: Cached): string[] {
  for (const rec of c.own.values()) rec.settle();
  // in the journal's order (lines parsed late were reported late)
  const at = (m: string) => /^(.*?):(\d+): /.exec(m) ?? ['', m, '0'];
  return c.damaged.sort((a, b) => {
    const [, fa, la] = at(a);
    const [, fb, lb] = at(b);
    return fa < fb ? -1 : fa > fb ? 1 : Number(la) - Number(lb);
  });
}

/**
 * From now on parse the step's lines as they are read. Lines kept as text make listing a big step
 * cheap, but a reader of every record holds the whole journal as text until it has parsed them
 * all: 10,000 lines of a join's inputs are 12 MB of text beside their records.
 */
export function readsRecords(c: Cached): void {
  if (c.parseAsRead) return;
  // the lines kept so far first: a task's lines apply in the journal's order
  for (const rec of c.own.values()) rec.settle();
  c.parseAsRead = true;
}

export function fresh(): Cached {
  return { offset: 0, own: new Map(), refs: [], damaged: [], lines: 0, tail: Buffer.alloc(0) };
}

/** Forget what was read of a journal that was replaced (rewritten in place, or compacted on S3). */
export function reset(c: Cached): void {
  Object.assign(c, fresh(), { view: undefined, stamp: undefined, pods: undefined, lastDone: undefined, lastAttempt: undefined });
}
