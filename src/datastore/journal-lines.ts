// Journal lines, parsed: a step's records as read so far (Cached) and the records of its tasks.
// Task lines are kept as text until first used; see task-records.ts for the layout.
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
  /** the resolved view and what it was built from */
  view?: StepRecords;
  stamp?: string;
}

/**
 * A task's record as read from the journal. Its lines are parsed on first use: listing the
 * 10,000 tasks of a step costs a scan of the lines' prefixes, not 10,000 JSON parses. Its
 * attempts are merged then too: a completed attempt has no line of its own (its DONE record says
 * it all).
 */
export class JournalRecord implements TaskRecord {
  private parsed: { done?: TaskDone; logs?: Record<number, TaskLogs>; damaged?: string } = {};
  private unparsed: { line: string; where: string }[] = [];
  private recorded: AttemptMeta[] = [];
  private merged?: AttemptMeta[];

  constructor(
    readonly taskId: string,
    private c: Cached,
  ) {}

  get done(): TaskDone | undefined {
    return this.settle().done;
  }
  get logs(): Record<number, TaskLogs> | undefined {
    return this.settle().logs;
  }
  get damaged(): string | undefined {
    return this.settle().damaged;
  }

  get attempts(): AttemptMeta[] {
    this.settle();
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

  /** Parse the lines not parsed yet (callers about to report damaged lines call it for all). */
  settle() {
    if (this.unparsed.length) {
      const lines = this.unparsed;
      this.unparsed = [];
      for (const { line, where } of lines) parseLine(this.c, line, where);
    }
    return this.parsed;
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

/** Take the complete lines of `text` (task lines are parsed when first used). */
export function consume(c: Cached, text: string, where: string, firstLine: number): void {
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

export function fresh(): Cached {
  return { offset: 0, own: new Map(), refs: [], damaged: [], lines: 0, tail: Buffer.alloc(0) };
}

/** Forget what was read of a journal that was replaced (rewritten in place, or compacted on S3). */
export function reset(c: Cached): void {
  Object.assign(c, fresh(), { view: undefined, stamp: undefined, pods: undefined });
}
