// Group commit of task records: the runner appends what finished tasks report to their step's
// journal and makes a whole batch durable at once (one write + one fdatasync locally, one PUT on
// S3) instead of several fsynced files per task. A task counts only once its batch is durable:
// commit() resolves then, and the scheduler starts its successors only after that.
//
// Batching is natural: records that arrive while a batch is being made durable form the next
// one, so the batch grows with the load and a lone task waits for one fdatasync (or one PUT).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DatastoreError } from '../errors.js';
import { S3Backend } from './s3/backend.js';
import type { FlowDatastore } from './store.js';
import { journalKey, type JournalEntry } from './task-records.js';
import { batchName, compactedName } from './journal-read.js';

const COMMIT_PAUSE_MS = Number(process.env.FLOWBOOK_FAULT_COMMIT_PAUSE_MS) || 0;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

class StepJournal {
  private pending: string[] = [];
  private waiters: Waiter[] = [];
  private flushing?: Promise<void>;
  private scheduled = false;
  private fh?: fsp.FileHandle;
  /** bytes known durable in the local file: a failed write is cut back to it */
  private size = 0;
  private seq = 0;

  constructor(
    private store: FlowDatastore,
    private key: string,
    private stats: { batches: number; entries: number },
  ) {}

  add(entries: JournalEntry[]): Promise<void> {
    for (const e of entries) this.pending.push(JSON.stringify(e) + '\n');
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.scheduled && !this.flushing) {
      this.scheduled = true;
      // records reported in the same turn of the event loop share the batch
      setImmediate(() => {
        this.scheduled = false;
        this.flushing = this.flushAll();
      });
    }
    return done;
  }

  private async flushAll(): Promise<void> {
    while (this.pending.length) {
      const lines = this.pending;
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        await this.write(lines.join(''));
        this.stats.batches++;
        this.stats.entries += lines.length;
        for (const w of waiters) w.resolve();
      } catch (err: any) {
        const e = new DatastoreError(`cannot record ${lines.length} task record(s) in ${this.store.displayPath(this.key)}: ${err?.message ?? err}`, { cause: err });
        for (const w of waiters) w.reject(e);
      }
    }
    this.flushing = undefined;
  }

  private async write(text: string): Promise<void> {
    const backend = this.store.backend;
    if (backend.kind !== 'local') {
      // S3 has no append: each batch is its own object, named in order
      await backend.put(`${this.key}/${batchName(++this.seq)}`, text);
      return;
    }
    const file = path.join(backend.location, this.key);
    if (!this.fh) {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      this.fh = await fsp.open(file, 'a');
      this.size = (await this.fh.stat()).size;
      // the file's name must be durable too, not only its bytes
      const dir = await fsp.open(path.dirname(file), 'r');
      await dir.sync().finally(() => dir.close());
    }
    const buf = Buffer.from(text);
    try {
      // crash tests (FLOWBOOK_FAULT_COMMIT_PAUSE_MS): the batch goes in two halves with a pause
      // between, so a kill -9 can be placed inside a batch commit
      const half = COMMIT_PAUSE_MS ? buf.length >> 1 : buf.length;
      let written = (await this.fh.write(buf, 0, half)).bytesWritten;
      if (half < buf.length) {
        await new Promise((r) => setTimeout(r, COMMIT_PAUSE_MS));
        written += (await this.fh.write(buf, half, buf.length - half)).bytesWritten;
      }
      if (written !== buf.length) throw new Error(`short write (${written} of ${buf.length} bytes)`);
      await this.fh.datasync();
      this.size += buf.length;
    } catch (err) {
      // a full disk may have taken part of the batch: cut it off, so the next batch starts on a
      // line of its own and readers never see half a record
      await this.fh.truncate(this.size).catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    while (this.flushing || this.scheduled) await (this.flushing ?? new Promise((r) => setImmediate(r)));
    await this.fh?.close();
    this.fh = undefined;
    if (this.seq > 1) await this.compact().catch(() => {}); // the batches stay readable as they are
  }

  /**
   * S3, when the run ends: the step's batches become one object, so a reader of a 10,000-task
   * step reads one object, not hundreds. The compacted object is written before any batch is
   * deleted, and readers prefer it (task-records.ts), so every record stays readable throughout.
   */
  private async compact(): Promise<void> {
    const backend = this.store.backend;
    if (!(backend instanceof S3Backend)) return;
    const names = Array.from({ length: this.seq }, (_, i) => `${this.key}/${batchName(i + 1)}`);
    // (loaded here: a local run never compacts)
    const { default: PQueue } = await import('p-queue');
    const queue = new PQueue({ concurrency: 16 });
    const bodies = await Promise.all(names.map((n) => queue.add(() => backend.get(n), { throwOnTimeout: true })));
    await backend.put(`${this.key}/${compactedName(this.seq)}`, Buffer.concat(bodies));
    await backend.removeAll(names);
  }
}

export class TaskJournal {
  private steps = new Map<string, StepJournal>();
  readonly stats = { batches: 0, entries: 0 };

  constructor(
    private store: FlowDatastore,
    private runId: string,
  ) {}

  private step(step: string): StepJournal {
    let j = this.steps.get(step);
    if (!j) this.steps.set(step, (j = new StepJournal(this.store, journalKey(this.store.stepKey(this.runId, step), this.store.backend.kind), this.stats)));
    return j;
  }

  /** Append records of `step`; resolves once they are durable. */
  commit(step: string, entries: JournalEntry[]): Promise<void> {
    return entries.length ? this.step(step).add(entries) : Promise.resolve();
  }

  /** Wait for every batch in flight, then close the files. */
  async close(): Promise<void> {
    await Promise.all([...this.steps.values()].map((j) => j.close()));
  }
}

/** Where a step's journal is (a file, or the S3 prefix of its batches), for people and tests. */
export const journalFile = (store: FlowDatastore, runId: string, step: string): string =>
  store.backend.kind === 'local' ? path.join(store.backend.location, journalKey(store.stepKey(runId, step), 'local')) : store.displayPath(journalKey(store.stepKey(runId, step), 's3'));
