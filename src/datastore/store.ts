// FlowDatastore: everything one flow stores — artifact blobs, run/task metadata, logs, indexes.
// Writers: the runner owns run.json and the indexes; a task (in its worker) owns its blobs,
// attempt files, logs and DONE.json. A task counts only once DONE.json has landed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IntegrityError, NotFoundError } from '../errors.js';
import { LocalBackend, type StorageBackend } from './backend.js';
import { checkName, checkRunId, checkTaskId } from './names.js';
import type { ArtifactRef, AttemptMeta, RunMeta, TaskDone } from './metadata.js';
import {
  compressIfItPays,
  decompress,
  deserialize,
  deserializeSync,
  serializeAsync,
} from './serializers.js';

/**
 * Where the datastore lives: --datastore-root, then FLOWBOOK_HOME, then the nearest `.flowbook`
 * directory in the working directory or above it (as git finds `.git`: a notebook in
 * `notebooks/` sees the runs made from the project root), else ./.flowbook.
 */
export function resolveRoot(explicit?: string): string {
  const given = explicit ?? process.env.FLOWBOOK_HOME;
  if (given) return path.resolve(given);
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.flowbook'))) return path.join(dir, '.flowbook');
    if (path.dirname(dir) === dir) return path.resolve('.flowbook');
  }
}

const LARGE_BLOB = 16 * 2 ** 20;

function checkSha(name: string, ref: ArtifactRef, sha: string): void {
  if (sha !== ref.sha) throw new IntegrityError(`artifact '${name}' is corrupted: blob ${ref.sha} has sha256 ${sha}`);
}

const backends = new Map<string, StorageBackend>();
export function backendFor(root: string): StorageBackend {
  const abs = path.resolve(root);
  let b = backends.get(abs);
  if (!b) backends.set(abs, (b = new LocalBackend(abs)));
  return b;
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
  /** absolute path of a key in the local backend (logs are appended to directly) */
  localPath(key: string): string {
    return path.join((this.backend as LocalBackend).location, key);
  }

  // ---- artifacts ---------------------------------------------------------------------------
  /** Serialize, hash and store a value; identical values are stored once. */
  async putArtifact(name: string, value: unknown): Promise<ArtifactRef> {
    const s = await serializeAsync(value, name);
    return this.putSerialized(s.bytes, s.serializer, s.type);
  }

  async putSerialized(bytes: Buffer, serializer: ArtifactRef['serializer'], type: string): Promise<ArtifactRef> {
    const hash = () => crypto.createHash('sha256').update(bytes).digest('hex');
    const { data, encoding } = compressIfItPays(bytes);
    let sha: string;
    if (data.length >= LARGE_BLOB && this.backend instanceof LocalBackend) {
      // large and incompressible: hash while the bytes are being written (≈ 20% faster at 100 MB)
      const tmpDir = `${this.flowName}/data`;
      const { key } = await this.backend.putHashingWhileWriting(tmpDir, data, () => this.blobKey(hash(), encoding));
      sha = key.slice(key.lastIndexOf('/') + 1).replace(/\.gz$/, '');
    } else {
      sha = hash();
      await this.backend.putIfAbsent(this.blobKey(sha, encoding), data);
    }
    return { sha, size: bytes.length, stored: data.length, serializer, type, encoding };
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

  private missingBlob(name: string, ref: ArtifactRef, err: unknown): never {
    throw new IntegrityError(`artifact '${name}' is missing its blob ${ref.sha}`, { cause: err });
  }

  /** Raw serialized bytes of an artifact, verified against its sha256. */
  async getArtifactBytes(name: string, ref: ArtifactRef): Promise<Buffer> {
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
    let stored: Buffer;
    try {
      stored = this.backend.getSync(this.blobKey(ref.sha, ref.encoding));
    } catch (err) {
      if (err instanceof NotFoundError) this.missingBlob(name, ref, err);
      throw err;
    }
    return deserializeSync(this.verified(name, ref, stored), ref.serializer, ref.type);
  }

  // ---- runs --------------------------------------------------------------------------------
  /** Allocate a run id (milliseconds since the epoch; bumped on collision) and write run.json. */
  async createRun(meta: Omit<RunMeta, 'runId' | 'flowName'>): Promise<RunMeta> {
    const runsDir = this.localPath(`${this.flowName}/runs`);
    fs.mkdirSync(runsDir, { recursive: true });
    let id = Date.now();
    for (;;) {
      try {
        fs.mkdirSync(path.join(runsDir, String(id)));
        break;
      } catch (err: any) {
        if (err?.code !== 'EEXIST') throw err;
        id++;
      }
    }
    const run: RunMeta = { ...meta, flowName: this.flowName, runId: String(id) };
    await this.writeRun(run);
    return run;
  }

  async writeRun(run: RunMeta): Promise<void> {
    await this.backend.put(`${this.runKey(run.runId)}/run.json`, JSON.stringify(run, null, 1));
  }

  async readRun(runId: string): Promise<RunMeta> {
    try {
      return JSON.parse((await this.backend.get(`${this.runKey(runId)}/run.json`)).toString('utf8'));
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`run not found: ${this.flowName}/${runId}`, { cause: err });
      throw err;
    }
  }

  async listRunIds(): Promise<string[]> {
    return (await this.backend.list(`${this.flowName}/runs`)).filter((n) => /^[A-Za-z0-9_-]+$/.test(n));
  }

  async listSteps(runId: string): Promise<string[]> {
    return (await this.backend.list(this.runKey(runId))).filter((n) => n !== 'run.json' && !n.includes('.'));
  }

  async listTasks(runId: string, step: string): Promise<string[]> {
    return (await this.backend.list(this.stepKey(runId, step)))
      .filter((n) => /^[0-9]+$/.test(n))
      .sort((a, b) => Number(a) - Number(b));
  }

  // ---- tasks -------------------------------------------------------------------------------
  async writeAttempt(runId: string, step: string, taskId: string, meta: AttemptMeta): Promise<void> {
    await this.backend.put(`${this.taskKey(runId, step, taskId)}/attempt-${meta.attempt}.json`, JSON.stringify(meta));
  }

  async readAttempts(runId: string, step: string, taskId: string): Promise<AttemptMeta[]> {
    const key = this.taskKey(runId, step, taskId);
    const names = (await this.backend.list(key)).filter((n) => /^attempt-\d+\.json$/.test(n));
    const metas = await Promise.all(names.map(async (n) => JSON.parse((await this.backend.get(`${key}/${n}`)).toString('utf8'))));
    return metas.sort((a, b) => a.attempt - b.attempt);
  }

  /** The commit point of a task: written last, after every blob it names is durable. */
  async writeDone(runId: string, done: TaskDone): Promise<void> {
    await this.backend.put(`${this.taskKey(runId, done.step, done.taskId)}/DONE.json`, JSON.stringify(done));
  }

  async readDone(runId: string, step: string, taskId: string): Promise<TaskDone | undefined> {
    try {
      return JSON.parse((await this.backend.get(`${this.taskKey(runId, step, taskId)}/DONE.json`)).toString('utf8'));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  readDoneSync(runId: string, step: string, taskId: string): TaskDone | undefined {
    try {
      return JSON.parse(this.backend.getSync(`${this.taskKey(runId, step, taskId)}/DONE.json`).toString('utf8'));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  logKey(runId: string, step: string, taskId: string, attempt: number, stream: 'stdout' | 'stderr'): string {
    return `${this.taskKey(runId, step, taskId)}/attempt-${attempt}.${stream}`;
  }

  async readLog(runId: string, step: string, taskId: string, attempt: number, stream: 'stdout' | 'stderr'): Promise<string> {
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
