// Reading a step's journal from where it is kept: a local file read on from the last byte read; S3
// batch objects read on from the last batch (or the compacted object that replaced them); and the
// layout from before journals. See task-records.ts for the layout.
import fs from 'node:fs';
import path from 'node:path';
import type { StorageBackend } from './backend.js';
import { NotFoundError } from '../errors.js';
import { consume, parseLine, reset, type Cached } from './journal-lines.js';

/**
 * S3 batch names: `<seq>.jsonl` (8 digits, written in order by the run's one writer), and
 * `upto-<seq>.jsonl`, the compacted batches 1..seq (journal.ts writes it when the run ends and
 * then deletes those batches).
 */
export const batchName = (seq: number): string => `${String(seq).padStart(8, '0')}.jsonl`;
export const compactedName = (seq: number): string => `upto-${batchName(seq)}`;
const batchSeq = (name: string): number => Number(/(\d{8})\.jsonl$/.exec(name)?.[1] ?? 0);

/**
 * Under Argo there is no runner to batch records: each pod writes its attempt's records as an
 * object of its own, `pod-<taskId>-<attempt>.jsonl`, beside any batches.
 */
export const podRecordName = (taskId: string, attempt: number): string => `pod-${taskId}-${String(attempt).padStart(3, '0')}.jsonl`;
const POD_RECORD = /^pod-\d+-\d{3}\.jsonl$/;

/** Pod objects not read yet, in order (a task's attempts in attempt order). */
function podsToRead(names: string[], c: Cached): string[] {
  return names.filter((n) => POD_RECORD.test(n) && !c.pods?.has(n)).sort();
}

/** What to read, in order, to catch up from batch `have`. */
function batchesToRead(names: string[], have: number): { names: string[]; from: number } {
  const upto = names.filter((n) => /^upto-\d{8}\.jsonl$/.test(n)).sort().at(-1);
  const base = upto && batchSeq(upto) > have ? batchSeq(upto) : have;
  const batches = names.filter((n) => /^\d{8}\.jsonl$/.test(n) && batchSeq(n) > base).sort();
  // a compacted object that covers more than was read replaces what was read
  return upto && base > have ? { names: [upto, ...batches], from: 0 } : { names: batches, from: have };
}

/** Read what was appended since the last read (local: from the byte offset; S3: new batches). */
export async function refresh(backend: StorageBackend, key: string, c: Cached, where: (k: string) => string, retried = false): Promise<void> {
  if (backend.kind === 'local') return refreshLocal(backend, key, c, where);
  const names = await backend.list(key);
  const plan = batchesToRead(names, c.offset);
  const pods = podsToRead(names, c);
  if (!plan.names.length && !pods.length && !c.offset && !c.pods) return readLegacy(backend, key, c, where);
  const get = (n: string) => backend.get(`${key}/${n}`).catch((e) => (e instanceof NotFoundError ? undefined : Promise.reject(e)));
  const [bodies, podBodies] = await Promise.all([Promise.all(plan.names.map(get)), Promise.all(pods.map(get))]);
  // a batch deleted between the listing and the read was compacted meanwhile: list again
  if (bodies.some((b) => !b) && !retried) return refresh(backend, key, c, where, true);
  takeBatches(c, key, plan, bodies, where);
  takePods(c, key, pods, podBodies, where);
}

function takePods(c: Cached, key: string, names: string[], bodies: (Buffer | undefined)[], where: (k: string) => string): void {
  names.forEach((n, i) => {
    const body = bodies[i];
    if (!body) return;
    (c.pods ??= new Set()).add(n);
    consume(c, body, where(`${key}/${n}`), 1);
  });
}

/** Apply the batches just fetched (a compacted object read from the start replaces what was read). */
function takeBatches(c: Cached, key: string, plan: { names: string[]; from: number }, bodies: (Buffer | undefined)[], where: (k: string) => string): void {
  if (plan.from === 0 && c.offset > 0) reset(c);
  plan.names.forEach((n, i) => {
    const body = bodies[i];
    if (!body) return;
    consume(c, body, where(`${key}/${n}`), 1);
    c.offset = Math.max(c.offset, batchSeq(n));
  });
}

/** Bytes read from a local journal at a time: a reader never holds a big journal whole. */
const CHUNK = 2 ** 20;

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
    if (size < c.offset || !sameTail(fd, c)) reset(c);
    if (size === c.offset) return;
    const shown = where(key);
    let buf = Buffer.allocUnsafe(Math.min(CHUNK, size - c.offset));
    while (c.offset < size) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - c.offset), c.offset);
      if (n <= 0) return;
      const bytes = buf.subarray(0, n);
      // only whole lines: the rest is a batch being written, or torn by a crash
      const end = bytes.lastIndexOf(0x0a) + 1;
      if (!end) {
        if (c.offset + n >= size) return;
        // a line longer than the buffer: read it again whole
        buf = Buffer.allocUnsafe(buf.length * 2);
        continue;
      }
      consume(c, bytes.subarray(0, end), shown, c.lines + 1);
      c.offset += end;
      c.tail = Buffer.from(bytes.subarray(Math.max(0, end - 64), end));
    }
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

export function refreshSync(backend: StorageBackend, key: string, c: Cached, where: (k: string) => string, retried = false): void {
  if (backend.kind === 'local') return refreshLocal(backend, key, c, where);
  const names = backend.listSync(key);
  const plan = batchesToRead(names, c.offset);
  const pods = podsToRead(names, c);
  if (!plan.names.length && !pods.length && !c.offset && !c.pods) return readLegacy(backend, key, c, where);
  const get = (n: string) => {
    try {
      return backend.getSync(`${key}/${n}`);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  };
  const bodies = plan.names.map(get);
  if (bodies.some((b) => !b) && !retried) return refreshSync(backend, key, c, where, true);
  takeBatches(c, key, plan, bodies, where);
  takePods(c, key, pods, pods.map(get), where);
}
