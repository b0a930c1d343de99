// FlowDatastore: everything one flow stores — artifact blobs, run/task metadata, logs, indexes.
// Writers: the runner owns run.json, the indexes and the steps' task journals (journal.ts); a
// task (in its worker or pod) owns its blobs, logs and cards, and hands its records to the
// runner. A task counts only once its DONE record is durable in its step's journal.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatastoreError, IntegrityError, NameError, NotFoundError } from '../errors.js';
import { LocalBackend, type StorageBackend } from './backend.js';
import { verifiedBlobs } from './blob-cache.js';
import { S3Backend } from './s3/backend.js';
import { checkName, checkRunId, checkTaskId } from './names.js';
import type { ArtifactRef, RunMeta, TaskDone } from './metadata.js';
import { forgetRecords, knownTaskRecord, sortedTasks, stepRecords, stepRecordsSync, taskRecord, taskRecordSync, type RecordUse, type StepRecords, type TaskLogs, type TaskRecord } from './task-records.js';
import {
  compressIfItPays,
  decompress,
  deserialize,
  deserializeSync,
  serializeAsync,
} from './serializers.js';

// where the datastore lives (kept importable from here, where callers have always found it)
export { resolveRoot } from './root.js';

const LARGE_BLOB = 16 * 2 ** 20;
/**
 * Artifacts this small (serialized) travel inside the task's record instead of a blob file of
 * their own: a trivial task then writes no file at all, and reading one small artifact of every
 * task of a step reads the step's journal only. Kept small because an inherited artifact's
 * reference (and so its bytes) is repeated in every descendant's record.
 */
export const INLINE_MAX = 512;
/** logs up to this size travel in the task's record on S3 */
const INLINE_LOG = 64 * 1024;
/** run ids (ms) tried on S3 before the endpoint is taken to answer every HEAD as found */
const MAX_RUN_ID_TRIES = 50;
/** an existing blob up to this size is re-read and hashed before a write skips it; above, its size is checked */
const VERIFY_ON_WRITE = 16 * 2 ** 20;

function checkSha(name: string, ref: ArtifactRef, sha: string): void {
  if (sha !== ref.sha) throw new IntegrityError(`artifact '${name}' is corrupted: blob ${ref.sha} has sha256 ${sha}`);
}

const isObject = (v: any) => typeof v === 'object' && v !== null && !Array.isArray(v);

const backends = new Map<string, StorageBackend>();
export function backendFor(root: string): StorageBackend {
  const id = root.startsWith('s3://') ? root.replace(/\/+$/, '') : path.resolve(root);
  let b = backends.get(id);
  if (!b) backends.set(id, (b = id.startsWith('s3://') ? new S3Backend(id) : new LocalBackend(id)));
  return b;
}

/** The flows that have runs in a datastore, sorted. */
export async function listFlowNames(root: string): Promise<string[]> {
  const backend = backendFor(root);
  const names = (await backend.list('')).filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n)).sort();
  const has = await Promise.all(names.map(async (n) => (await backend.exists(`${n}/flow.json`)) || (await backend.exists(`${n}/runs`))));
  return names.filter((_, i) => has[i]);
}

export class FlowDatastore {
  readonly backend: StorageBackend;

  constructor(
    readonly root: string,
    readonly flowName: string,
  ) {
    checkName('flow', flowName);
    this.backend = backendFor(root);
  }

  // ---- keys --------------------------------------------------------------------------------
  runKey(runId: string): string {
    return `${this.flowName}/runs/${checkRunId(runId)}`;
  }
  stepKey(runId: string, step: string): string {
    return `${this.runKey(runId)}/${checkName('step', step)}`;
  }
  taskKey(runId: string, step: string, taskId: string): string {
    return `${this.stepKey(runId, step)}/${checkTaskId(taskId)}`;
  }
  blobKey(sha: string, encoding: 'none' | 'gzip'): string {
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new IntegrityError(`invalid blob id ${JSON.stringify(sha)}`);
    return `${this.flowName}/data/${sha.slice(0, 2)}/${sha}${encoding === 'gzip' ? '.gz' : ''}`;
  }
  /** where a key is, for people: a local path, or s3://bucket/prefix/key */
  displayPath(key: string): string {
    return this.backend.kind === 'local' ? path.join(this.backend.location, key) : `${this.backend.location}/${key}`;
  }

  // ---- artifacts ---------------------------------------------------------------------------
  /** Serialize, hash and store a value; identical values are stored once. */
  async putArtifact(name: string, value: unknown): Promise<ArtifactRef> {
    const s = await serializeAsync(value, name);
    return this.putSerialized(s.bytes, s.serializer, s.type);
  }

  async putSerialized(bytes: Buffer, serializer: ArtifactRef['serializer'], type: string): Promise<ArtifactRef> {
    const hash = () => crypto.createHash('sha256').update(bytes).digest('hex');
    if (bytes.length <= INLINE_MAX) {
      return { sha: hash(), size: bytes.length, stored: bytes.length, serializer, type, encoding: 'none', inline: bytes.toString('base64') };
    }
    const { data, encoding } = compressIfItPays(bytes);
    let sha: string;
    if (data.length >= LARGE_BLOB && this.backend instanceof LocalBackend) {
      // large and incompressible: hash while the bytes are being written (≈ 20% faster at 100 MB)
      const tmpDir = `${this.flowName}/data`;
      const { key } = await this.backend.putHashingWhileWriting(tmpDir, data, () => this.blobKey(hash(), encoding));
      sha = key.slice(key.lastIndexOf('/') + 1).replace(/\.gz$/, '');
    } else {
      sha = hash();
      await this.putBlob(this.blobKey(sha, encoding), { sha, encoding }, data);
    }
    return { sha, size: bytes.length, stored: data.length, serializer, type, encoding };
  }

  /**
   * Write a blob unless a sound copy is already there. An existing blob is not trusted blindly:
   * one corrupted copy would otherwise poison every later run that produces the same bytes. Its
   * size is checked (stat / HEAD), and its content too when it is small or the size differs (a
   * gzip from another zlib may differ in size yet be sound); a corrupt one is replaced whole
   * (temp+rename locally, one PUT on S3), so readers never see a mix.
   */
  private async putBlob(key: string, ref: Pick<ArtifactRef, 'sha' | 'encoding'>, data: Buffer): Promise<void> {
    const st = await this.backend.stat(key);
    if (!st) {
      await this.backend.putIfAbsent(key, data);
      return;
    }
    if (st.size === data.length && data.length > VERIFY_ON_WRITE) return;
    if ((await this.checkBlob({ ...ref, stored: st.size })).status !== 'ok') await this.backend.put(key, data);
  }

  /** Read a blob and verify it exactly as reads do (decompress, sha256): ok, corrupt or missing. */
  async checkBlob(ref: Pick<ArtifactRef, 'sha' | 'encoding' | 'stored'>): Promise<{ status: 'ok' } | { status: 'missing' } | { status: 'corrupt'; why: string }> {
    try {
      await this.getArtifactBytes('', { ...ref, size: 0, serializer: 'json', type: '' }, true);
      return { status: 'ok' };
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      if (err.cause instanceof NotFoundError) return { status: 'missing' };
      return { status: 'corrupt', why: /: blob [0-9a-f]+ (.*)$/.exec(err.message)?.[1] ?? err.message };
    }
  }

  /** Remove a blob (verify --repair): the next write of the same bytes stores them afresh. */
  async removeBlob(ref: Pick<ArtifactRef, 'sha' | 'encoding'>): Promise<void> {
    await this.backend.remove(this.blobKey(ref.sha, ref.encoding));
  }

  private verified(name: string, ref: ArtifactRef, stored: Buffer): Buffer {
    let bytes: Buffer;
    try {
      bytes = decompress(stored, ref.encoding);
    } catch (err) {
      throw new IntegrityError(`artifact '${name}' is corrupted: blob ${ref.sha} does not decompress`, { cause: err });
    }
    checkSha(name, ref, crypto.createHash('sha256').update(bytes).digest('hex'));
    return bytes;
  }

  /** a small artifact's bytes, kept in its task's record, verified like a blob's */
  private inlineBytes(name: string, inline: string, ref: ArtifactRef): Buffer {
    return this.verified(name, ref, Buffer.from(inline, 'base64'));
  }

  private missingBlob(name: string, ref: ArtifactRef, err: unknown): never {
    throw new IntegrityError(`artifact '${name}' is missing its blob ${ref.sha}`, { cause: err });
  }

  /**
   * Raw serialized bytes of an artifact, verified against its sha256. `fresh`: read the store
   * even when this process has the bytes (checks of what is stored: verify, verify-on-write).
   */
  async getArtifactBytes(name: string, ref: ArtifactRef, fresh = false): Promise<Buffer> {
    if (ref.inline !== undefined) return this.inlineBytes(name, ref.inline, ref);
    const known = fresh ? undefined : verifiedBlobs.get(ref.sha);
    if (known) return known;
    const bytes = await this.readBlob(name, ref);
    verifiedBlobs.set(ref.sha, bytes);
    return bytes;
  }

  private async readBlob(name: string, ref: ArtifactRef): Promise<Buffer> {
    if (ref.encoding === 'none' && ref.stored >= LARGE_BLOB && this.backend instanceof LocalBackend) {
      // large: hash while reading instead of after
      let got: { data: Buffer; digest: string };
      try {
        got = await this.backend.getHashing(this.blobKey(ref.sha, ref.encoding));
      } catch (err) {
        if (err instanceof NotFoundError) this.missingBlob(name, ref, err);
        throw err;
      }
      checkSha(name, ref, got.digest);
      return got.data;
    }
    let stored: Buffer;
    try {
      stored = await this.backend.get(this.blobKey(ref.sha, ref.encoding));
    } catch (err) {
      if (err instanceof NotFoundError) this.missingBlob(name, ref, err);
      throw err;
    }
    return this.verified(name, ref, stored);
  }

  async getArtifact(name: string, ref: ArtifactRef): Promise<unknown> {
    return deserialize(await this.getArtifactBytes(name, ref), ref.serializer, ref.type);
  }

  getArtifactSync(name: string, ref: ArtifactRef): unknown {
    let bytes = ref.inline !== undefined ? this.inlineBytes(name, ref.inline, ref) : verifiedBlobs.get(ref.sha);
    if (!bytes) {
      let stored: Buffer;
      try {
        stored = this.backend.getSync(this.blobKey(ref.sha, ref.encoding));
      } catch (err) {
        if (err instanceof NotFoundError) this.missingBlob(name, ref, err);
        throw err;
      }
      bytes = this.verified(name, ref, stored);
      verifiedBlobs.set(ref.sha, bytes);
    }
    return deserializeSync(bytes, ref.serializer, ref.type);
  }

  // ---- runs --------------------------------------------------------------------------------
  /** Allocate a run id (milliseconds since the epoch; bumped on collision) and write run.json. */
  async createRun(meta: Omit<RunMeta, 'runId' | 'flowName'>): Promise<RunMeta> {
    let id = Date.now();
    const runWith = (runId: number): RunMeta => ({ ...meta, flowName: this.flowName, runId: String(runId) });
    // a flow's own marker: lets a datastore list its flows with one shallow listing
    await this.backend.putIfAbsent(`${this.flowName}/flow.json`, Buffer.from(JSON.stringify({ flowName: this.flowName })));
    if (this.backend.kind === 'local') {
      // mkdir is atomic: two runners starting in the same millisecond get different ids
      const runsDir = this.displayPath(`${this.flowName}/runs`);
      fs.mkdirSync(runsDir, { recursive: true });
      for (;; id++) {
        try {
          fs.mkdirSync(path.join(runsDir, String(id)));
          break;
        } catch (err: any) {
          if (err?.code !== 'EEXIST') throw err;
        }
      }
      const run = runWith(id);
      await this.writeRun(run);
      return run;
    }
    // S3: skip ids already taken (one HEAD), then create run.json with a conditional PUT, so two
    // runners on servers that honour it never share an id. Ids are milliseconds: more than a few
    // taken in a row means the server answers every HEAD as found, and asking on would not end.
    for (let tries = 0; tries < MAX_RUN_ID_TRIES; tries++, id++) {
      const key = `${this.runKey(String(id))}/run.json`;
      if (await this.backend.stat(key)) continue;
      const run = runWith(id);
      if (await this.backend.createExclusive!(key, JSON.stringify(run, null, 1))) return run;
    }
    throw new DatastoreError(
      `datastore ${this.backend.location}: run ids ${id - MAX_RUN_ID_TRIES} to ${id - 1} of ${this.flowName} are all taken — does the S3 endpoint answer every request as found?`,
    );
  }

  async writeRun(run: RunMeta): Promise<void> {
    await this.backend.put(`${this.runKey(run.runId)}/run.json`, JSON.stringify(run, null, 1));
  }

  async readRun(runId: string): Promise<RunMeta> {
    const key = `${this.runKey(runId)}/run.json`;
    try {
      return this.parseMetadata(key, await this.backend.get(key));
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`run not found: ${this.flowName}/${runId} in datastore ${this.backend.location}`, { cause: err, pathspec: `${this.flowName}/${runId}` });
      throw err;
    }
  }

  async listRunIds(): Promise<string[]> {
    return (await this.backend.list(`${this.flowName}/runs`)).filter((n) => /^[A-Za-z0-9_-]+$/.test(n));
  }

  /**
   * The steps of a run that have tasks. The run record's graph names them, so no folder listing
   * of the run is needed (on S3 that would walk every object; s3rver also omits folders that hold
   * only folders).
   */
  async listSteps(runId: string): Promise<string[]> {
    const order = (await this.readRun(runId).catch(() => undefined))?.graph?.order;
    if (!order) return (await this.backend.list(this.runKey(runId))).filter((n) => n !== 'run.json' && !n.includes('.') && n !== 'code');
    // the step's folder: its journal, or (runs from before journals) its tasks' folders
    const has = await Promise.all(order.map((step) => this.backend.exists(this.stepKey(runId, step))));
    return order.filter((_, i) => has[i]);
  }

  // ---- tasks ----------------------------------------------------------------------------
  // Task records live in one journal per step (task-records.ts), written by the runner in
  // batches (journal.ts). These read them.

  /** Every task of a step with what was recorded about it (resume references resolved). */
  stepRecords(runId: string, step: string): Promise<StepRecords> {
    return stepRecords(this, runId, step);
  }

  stepRecordsSync(runId: string, step: string): StepRecords {
    return stepRecordsSync(this, runId, step);
  }

  /** Let go of a step's records read so far in this process (see forgetRecords). */
  forgetStepRecords(runId: string, step: string): void {
    forgetRecords(this, runId, step);
  }

  async taskRecord(runId: string, step: string, taskId: string, use?: RecordUse): Promise<TaskRecord | undefined> {
    return taskRecord(this, checkRunId(runId), checkName('step', step), checkTaskId(taskId), use);
  }

  taskRecordSync(runId: string, step: string, taskId: string): TaskRecord | undefined {
    return taskRecordSync(this, checkRunId(runId), checkName('step', step), checkTaskId(taskId));
  }

  async listTasks(runId: string, step: string): Promise<string[]> {
    return sortedTasks(await this.stepRecords(runId, step)).map((t) => t.taskId);
  }

  /** A task's commit record; undefined when the task has not committed. */
  async readDone(runId: string, step: string, taskId: string, use?: RecordUse): Promise<TaskDone | undefined> {
    return (await this.taskRecord(runId, step, taskId, use))?.done;
  }

  readDoneSync(runId: string, step: string, taskId: string): TaskDone | undefined {
    return this.taskRecordSync(runId, step, taskId)?.done;
  }

  /** A task's commit record if this process has read it already (no I/O); undefined when not, or not a task's name. */
  knownDone(runId: string, step: string, taskId: string): TaskDone | undefined {
    try {
      return knownTaskRecord(this, checkRunId(runId), checkName('step', step), checkTaskId(taskId))?.done;
    } catch (err) {
      if (err instanceof NameError) return undefined;
      throw err;
    }
  }

  /** Parse a metadata file; a truncated or garbled one is one line that names the file. */
  parseMetadata<T>(key: string, bytes: Buffer, valid: (v: any) => boolean = isObject): T {
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new IntegrityError(`cannot read ${this.displayPath(key)}: truncated or not JSON (${(err as Error).message})`, { cause: err });
    }
    if (!valid(value)) throw new IntegrityError(`cannot read ${this.displayPath(key)}: not a flowbook record`);
    return value as T;
  }

  /** what a task that ran in a pod reports to the runner: its TaskResult with its records */
  outcomeKey(runId: string, step: string, taskId: string, attempt: number): string {
    return `${this.taskKey(runId, step, taskId)}/attempt-${attempt}.outcome.json`;
  }

  logKey(runId: string, step: string, taskId: string, attempt: number, stream: 'stdout' | 'stderr'): string {
    return `${this.taskKey(runId, step, taskId)}/attempt-${attempt}.${stream}`;
  }

  /**
   * The local files a task's output goes to while it runs: the datastore's own files when it is
   * local; on S3 a temp folder, uploaded by saveLogs() when the task ends.
   */
  logFiles(runId: string, step: string, taskId: string, attempt: number): Record<'stdout' | 'stderr', string> {
    const file = (stream: 'stdout' | 'stderr') => {
      const key = this.logKey(runId, step, taskId, attempt, stream);
      return this.backend.kind === 'local' ? path.join(this.backend.location, key) : path.join(os.tmpdir(), 'flowbook-logs', key);
    };
    return { stdout: file('stdout'), stderr: file('stderr') };
  }

  /**
   * A finished attempt's logs. Locally they are already in the datastore. On S3 a small log
   * travels in the task's record (no object of its own); a larger one is uploaded here.
   */
  async saveLogs(runId: string, step: string, taskId: string, attempt: number): Promise<TaskLogs | undefined> {
    if (this.backend.kind === 'local') return undefined;
    const files = this.logFiles(runId, step, taskId, attempt);
    const inline: TaskLogs = {};
    for (const stream of ['stdout', 'stderr'] as const) {
      const text = fs.existsSync(files[stream]) ? fs.readFileSync(files[stream]) : Buffer.alloc(0);
      // most tasks print nothing: an absent log reads as empty
      if (text.length > INLINE_LOG) await this.backend.put(this.logKey(runId, step, taskId, attempt, stream), text);
      else if (text.length) inline[stream] = text.toString('utf8');
      fs.rmSync(files[stream], { force: true });
    }
    return inline.stdout !== undefined || inline.stderr !== undefined ? inline : undefined;
  }

  async readLog(runId: string, step: string, taskId: string, attempt: number, stream: 'stdout' | 'stderr'): Promise<string> {
    const inline = (await this.taskRecord(runId, step, taskId).catch(() => undefined))?.logs?.[attempt]?.[stream];
    if (inline !== undefined) return inline;
    try {
      return (await this.backend.get(this.logKey(runId, step, taskId, attempt, stream))).toString('utf8');
    } catch (err) {
      if (err instanceof NotFoundError) return '';
      throw err;
    }
  }
}

export function currentUser(): string {
  const u = process.env.FLOWBOOK_USER ?? process.env.USER ?? process.env.USERNAME;
  if (u) return u;
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
