// The storage backend: a key/value store of bytes with '/'-separated keys. Two implement it: the
// local file system (here) and S3 (s3/backend.ts), whose put is atomic per object and whose list
// is a prefix listing.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import os from 'node:os';
import { NameError, NotFoundError } from '../errors.js';
import { processAlive } from './liveness.js';

export interface StorageBackend {
  readonly kind: 'local' | 's3';
  /** where it is: an absolute directory, or s3://bucket/prefix */
  readonly location: string;
  /** Replace `key` atomically: readers see the old or the new bytes, never a mix. */
  put(key: string, data: Uint8Array | string): Promise<void>;
  /**
   * put(), atomic but not made durable (no fsync): for what a crash may lose at no cost but time
   * (a @cache entry). Readers see the old bytes, the new ones, or (after a power loss) a file that
   * does not parse. Absent: put() is used.
   */
  putRelaxed?(key: string, data: Uint8Array | string): Promise<void>;
  /** Write `key` only if absent (content-addressed blobs). Returns false when it already existed. */
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean>;
  /** Create `key` in one atomic step unless it exists (S3's conditional PUT); false when it exists. */
  createExclusive?(key: string, data: Uint8Array | string): Promise<boolean>;
  get(key: string): Promise<Buffer>;
  /** Synchronous read, used by lazy artifact getters inside a running step. */
  getSync(key: string): Buffer;
  exists(key: string): Promise<boolean>;
  /** Delete an object; absent is not an error. */
  remove(key: string): Promise<void>;
  existsSync(key: string): boolean;
  /** Names directly under `prefix` (files and folders), unsorted; '' is the root. Missing prefix → []. */
  list(prefix: string): Promise<string[]>;
  /** list(), synchronously (the client's synchronous task lookups) */
  listSync(prefix: string): string[];
  /** Append one line (small, < 4 KiB, so O_APPEND keeps it whole against concurrent writers). */
  appendLine(key: string, line: string): Promise<void>;
  /** Run `fn` holding an exclusive lock named `key` (across processes). */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** size and modification time of an object; undefined when absent */
  stat(key: string): Promise<{ size: number; mtimeMs: number } | undefined>;
}

export function checkKey(key: string): void {
  if (!key || key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new NameError(`invalid datastore key ${JSON.stringify(key)}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LocalBackend implements StorageBackend {
  readonly kind = 'local' as const;
  readonly location: string;
  private madeDirs = new Set<string>();

  constructor(readonly root: string) {
    this.location = path.resolve(root);
  }

  private file(key: string): string {
    checkKey(key);
    return path.join(this.location, key);
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await fsp.mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  async putRelaxed(key: string, data: Uint8Array | string): Promise<void> {
    const file = this.file(key);
    await this.ensureDir(path.dirname(file));
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  }

  /** temp file in the same folder → write → fsync → rename: a crash leaves the old file or the new one. */
  private async writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
    await this.ensureDir(path.dirname(file));
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    await fsp.rename(tmp, file);
  }

  /**
   * Content-addressed write of a large blob whose key (its hash) is computed while the bytes are
   * written: the write runs on libuv's thread pool as `hash()` runs here, then the temp file is
   * renamed to the key, or dropped when that blob already exists.
   */
  async putHashingWhileWriting(dirKey: string, data: Uint8Array, hash: () => string): Promise<{ key: string; written: boolean }> {
    const dir = this.file(dirKey);
    await this.ensureDir(dir);
    const tmp = path.join(dir, `.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
    const fh = await fsp.open(tmp, 'w');
    try {
      const writing = fh.write(data, 0, data.length, 0);
      const key = hash();
      await writing;
      await fh.sync();
      await fh.close();
      const file = this.file(key);
      // an existing blob of the right size is kept (hashing it would cost a full read); one of
      // another size is corrupt or truncated: the verified temp file replaces it atomically
      if ((await fsp.stat(file).catch(() => undefined))?.size === data.length) {
        await fsp.rm(tmp, { force: true });
        return { key, written: false };
      }
      await this.ensureDir(path.dirname(file));
      await fsp.rename(tmp, file);
      return { key, written: true };
    } catch (err) {
      await fh.close().catch(() => {});
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    await this.writeAtomic(this.file(key), data);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const file = this.file(key);
    if (fs.existsSync(file)) return false;
    await this.writeAtomic(file, data);
    return true;
  }

  /**
   * Read a large file while hashing it: chunk k+1 is read on libuv's thread pool while chunk k
   * is hashed here. Returns the bytes and the hex digest.
   */
  async getHashing(key: string, algorithm = 'sha256', chunk = 8 * 2 ** 20): Promise<{ data: Buffer; digest: string }> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.file(key), 'r');
    } catch (err: any) {
      if (err?.code === 'ENOENT') throw new NotFoundError(`not found in datastore ${this.location}: ${key}`, { cause: err });
      throw err;
    }
    try {
      const size = (await fh.stat()).size;
      const data = Buffer.allocUnsafe(size);
      const h = crypto.createHash(algorithm);
      const read = (pos: number) => (pos < size ? fh.read(data, pos, Math.min(chunk, size - pos), pos) : undefined);
      let pending = read(0);
      for (let pos = 0; pending; pos += chunk) {
        const { bytesRead } = await pending;
        if (bytesRead !== Math.min(chunk, size - pos)) throw new Error(`short read of ${key}`);
        pending = read(pos + chunk);
        h.update(data.subarray(pos, pos + bytesRead));
      }
      return { data, digest: h.digest('hex') };
    } finally {
      await fh.close();
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.file(key));
    } catch (err: any) {
      if (err?.code === 'ENOENT') throw new NotFoundError(`not found in datastore ${this.location}: ${key}`, { cause: err });
      throw err;
    }
  }

  getSync(key: string): Buffer {
    try {
      return fs.readFileSync(this.file(key));
    } catch (err: any) {
      if (err?.code === 'ENOENT') throw new NotFoundError(`not found in datastore ${this.location}: ${key}`, { cause: err });
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return fs.existsSync(this.file(key));
  }

  async remove(key: string): Promise<void> {
    await fsp.rm(this.file(key), { force: true });
  }

  existsSync(key: string): boolean {
    return fs.existsSync(this.file(key));
  }

  /**
   * Remove the temp files writers killed mid-write left under `prefix` (`….<pid>.<hex>.tmp`):
   * those whose writer is gone (this host) or that are over an hour old. Returns how many.
   */
  async sweepTemps(prefix: string, depth = 3): Promise<number> {
    let removed = 0;
    const visit = async (dir: string, level: number): Promise<void> => {
      const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (level < depth && !e.name.endsWith('.lock')) await visit(full, level + 1);
          continue;
        }
        const m = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(e.name);
        if (!m) continue;
        const old = Date.now() - ((await fsp.stat(full).catch(() => undefined))?.mtimeMs ?? Date.now()) > 3600_000;
        if (old || !processAlive(os.hostname(), Number(m[1]))) {
          await fsp.rm(full, { force: true });
          removed++;
        }
      }
    };
    await visit(this.file(prefix), 1);
    return removed;
  }

  async list(prefix: string): Promise<string[]> {
    try {
      const names = await fsp.readdir(prefix === '' ? this.location : this.file(prefix));
      return names.filter((n) => !n.endsWith('.tmp') && !n.endsWith('.lock'));
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return [];
      throw err;
    }
  }

  listSync(prefix: string): string[] {
    try {
      return fs.readdirSync(prefix === '' ? this.location : this.file(prefix)).filter((n) => !n.endsWith('.tmp') && !n.endsWith('.lock'));
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return [];
      throw err;
    }
  }

  async stat(key: string): Promise<{ size: number; mtimeMs: number } | undefined> {
    const st = await fsp.stat(this.file(key)).catch(() => undefined);
    return st && { size: st.size, mtimeMs: st.mtimeMs };
  }

  async appendLine(key: string, line: string): Promise<void> {
    const file = this.file(key);
    await this.ensureDir(path.dirname(file));
    await fsp.appendFile(file, line.endsWith('\n') ? line : line + '\n');
  }

  /**
   * A lock is a directory made with mkdir (atomic on every local file system) holding the owner's
   * pid. A holder killed with -9 leaves it behind: it is broken when that pid is gone, or when it
   * is older than `staleMs` (an owner on another host).
   */
  async withLock<T>(key: string, fn: () => Promise<T>, staleMs = 10_000): Promise<T> {
    const dir = this.file(key) + '.lock';
    await this.ensureDir(path.dirname(dir));
    for (let attempt = 0; ; attempt++) {
      try {
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'owner'), `${os.hostname()} ${process.pid}`);
        break;
      } catch (err: any) {
        if (err?.code !== 'EEXIST') throw err;
        if (lockIsStale(dir, staleMs)) fs.rmSync(dir, { recursive: true, force: true });
        await sleep(Math.min(2 + attempt, 25));
      }
    }
    try {
      return await fn();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

function lockIsStale(dir: string, staleMs: number): boolean {
  try {
    const st = fs.statSync(dir);
    const [host, pid] = fs.readFileSync(path.join(dir, 'owner'), 'utf8').split(' ');
    if (host === os.hostname() && Number(pid) > 0) {
      try {
        process.kill(Number(pid), 0);
        return false; // the owner is alive
      } catch (err: any) {
        return err?.code === 'ESRCH';
      }
    }
    return Date.now() - st.mtimeMs > staleMs;
  } catch {
    // no owner file yet: it is being made, or its maker died between mkdir and write
    try {
      return Date.now() - fs.statSync(dir).mtimeMs > 1000;
    } catch {
      return false;
    }
  }
}
