// The S3 backend: the same keys as the local one, under s3://bucket/prefix. Pods, the runner, the
// client and notebooks share it (pods share no disk). Objects are replaced whole by PUT, so a
// reader sees the old or the new bytes; content-addressed blobs are uploaded only when a HEAD says
// they are absent, large ones in parts with bounded concurrency.
//
// Steps read their inputs' artifacts lazily and synchronously (`this.x` is a plain property); on
// S3 those reads go through a worker thread that the calling thread waits on (synckit), so a step
// fetches only what it touches.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';
import { DatastoreError, FlowbookError, NotFoundError } from '../../errors.js';
import { checkKey, LocalBackend, type StorageBackend } from '../backend.js';
import { processAlive } from '../liveness.js';
import { endpointName, makeS3Client, parseS3Url, s3ClientConfig, sdk, storageSdk, type S3ClientConfig, type S3Location } from './config.js';
import type { SyncRequest, SyncResponse } from './sync-protocol.js';

/** objects at least this big go up in parts */
export const MULTIPART_THRESHOLD = 16 * 2 ** 20;
const PART_SIZE = 8 * 2 ** 20;
const UPLOAD_CONCURRENCY = 4;
const require = createRequire(import.meta.url);

function syncWorkerPath(): string {
  const here = fileURLToPath(new URL('./sync-worker.js', import.meta.url));
  if (fs.existsSync(here)) return here;
  // running from the TypeScript sources (tests): use the built worker
  return fileURLToPath(new URL('../../../dist/datastore/s3/sync-worker.js', import.meta.url));
}

export const isNotFound = (err: any) =>
  err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404;

/**
 * One clear line for every S3 failure: what was asked (`GET <key>`), then why — the cause users
 * fix themselves in words (no bucket, no credentials, no server, no answer), and always the HTTP
 * status and S3's error code when the server sent one, with the number of tries.
 */
export function explainS3Error(err: any, location: string, op?: string, cfg?: S3ClientConfig): Error {
  if (err instanceof FlowbookError) return err;
  const status: number | undefined = err?.$metadata?.httpStatusCode;
  const attempts: number | undefined = err?.$metadata?.attempts;
  // the SDK names an error after S3's <Code>; one it could not parse is "UnknownError" or "Unknown"
  const code: string | undefined = err?.Code ?? (err?.name && !/^(Unknown|UnknownError|Error|TimeoutError)$/.test(err.name) ? err.name : undefined);
  const where = cfg ? endpointName(cfg) : (process.env.FLOWBOOK_S3_ENDPOINT ?? 'S3');
  const netCode = err?.code ?? err?.cause?.code;
  // what the server said in its error body, when it said more than the code
  const said = status !== undefined && err?.message && err.message !== code && !/^(Unknown|UnknownError)$/.test(err.message) ? String(err.message).split('\n')[0] : undefined;
  const what = code === 'NoSuchBucket' ? 'the bucket does not exist'
    : err?.name === 'CredentialsProviderError' ? 'no AWS credentials found (env, profile or role)'
    : code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || status === 403 ? 'access denied (check the credentials)'
    : netCode === 'ECONNREFUSED' ? `cannot connect to ${where}`
    : err?.name === 'TimeoutError' ? `no answer from ${where} within ${cfg ? `${cfg.idleTimeoutMs / 1000} s` : 'the timeout'} (FLOWBOOK_S3_TIMEOUT_SECONDS)`
    : status !== undefined && status >= 500 ? `the server failed${said ? `: ${said}` : ''}`
    : said ?? String(err?.message ?? err).split('\n')[0];
  const detail = [status !== undefined ? `HTTP ${status}` : undefined, code, attempts && attempts > 1 ? `after ${attempts} tries` : undefined].filter(Boolean).join(', ');
  return new DatastoreError(`S3 datastore ${location}: ${op ? `${op}: ` : ''}${what}${detail ? ` (${detail})` : ''}`, { cause: err });
}

export class S3Backend implements StorageBackend {
  readonly kind = 's3' as const;
  readonly location: string;
  readonly loc: S3Location;
  readonly config: S3ClientConfig;
  readonly client: S3Client;
  private syncFn?: (req: SyncRequest) => SyncResponse;

  /** `config`: given by the sync worker thread, so it reaches the same server as its caller */
  constructor(url: string, config: S3ClientConfig = s3ClientConfig()) {
    this.loc = parseS3Url(url);
    this.location = `s3://${this.loc.bucket}${this.loc.prefix ? `/${this.loc.prefix}` : ''}`;
    this.config = config;
    this.client = makeS3Client(this.config);
  }

  objectKey(key: string): string {
    checkKey(key);
    return this.loc.prefix ? `${this.loc.prefix}/${key}` : key;
  }

  /** One request: its failure becomes one line naming the operation and key. */
  private async call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw explainS3Error(err, this.location, `${op} ${key}`, this.config);
    }
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const Key = this.objectKey(key);
    await this.call('PUT', key, async () => {
      if (body.length >= MULTIPART_THRESHOLD) {
        await new (storageSdk().Upload)({ client: this.client, params: { Bucket: this.loc.bucket, Key, Body: body }, queueSize: UPLOAD_CONCURRENCY, partSize: PART_SIZE }).done();
      } else {
        await this.client.send(new (sdk().PutObjectCommand)({ Bucket: this.loc.bucket, Key, Body: body }));
      }
    });
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    if (await this.objectExists(key)) return false;
    await this.put(key, data);
    return true;
  }

  /**
   * Create `key` only if no object has that name: a conditional PUT (`If-None-Match: *`, honoured
   * by AWS S3 and current MinIO). false when it exists (412, or 409 for a concurrent create).
   * A server that ignores the condition (s3rver) overwrites and says true: callers that need
   * exclusion also hold a lock on this machine (withLock).
   */
  async createExclusive(key: string, data: Uint8Array | string): Promise<boolean> {
    const Body = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      await this.client.send(new (sdk().PutObjectCommand)({ Bucket: this.loc.bucket, Key: this.objectKey(key), Body, IfNoneMatch: '*' }));
      return true;
    } catch (err: any) {
      const status = err?.$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw explainS3Error(err, this.location, `PUT ${key} (If-None-Match)`, this.config);
    }
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.objectKey(key);
    try {
      const r = await this.client.send(new (sdk().GetObjectCommand)({ Bucket: this.loc.bucket, Key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`not found in datastore ${this.location}: ${key}`, { cause: err });
      throw explainS3Error(err, this.location, `GET ${key}`, this.config);
    }
  }

  /** get/exists run by this class's async methods in the worker thread; this thread waits */
  private sync(req: Omit<SyncRequest, 'config' | 'location'>): SyncResponse {
    this.syncFn ??= (require('synckit') as typeof import('synckit')).createSyncFn(syncWorkerPath()) as (req: SyncRequest) => SyncResponse;
    const r = this.syncFn({ ...req, config: this.config, location: this.location });
    if (r.error) throw new DatastoreError(r.error);
    return r;
  }

  getSync(key: string): Buffer {
    const r = this.sync({ op: 'get', key });
    if (!r.found) throw new NotFoundError(`not found in datastore ${this.location}: ${key}`);
    return Buffer.from(r.data!.buffer, r.data!.byteOffset, r.data!.byteLength);
  }

  private async objectExists(key: string): Promise<boolean> {
    try {
      await this.client.send(new (sdk().HeadObjectCommand)({ Bucket: this.loc.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw explainS3Error(err, this.location, `HEAD ${key}`, this.config);
    }
  }

  async remove(key: string): Promise<void> {
    await this.call('DELETE', key, () => this.client.send(new (sdk().DeleteObjectCommand)({ Bucket: this.loc.bucket, Key: this.objectKey(key) })));
  }

  /** Delete many objects, 1,000 per request (DeleteObjects); absent ones are not an error. */
  async removeAll(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const Objects = keys.slice(i, i + 1000).map((k) => ({ Key: this.objectKey(k) }));
      const r = await this.call('DELETE', `${Objects.length} objects`, () => this.client.send(new (sdk().DeleteObjectsCommand)({ Bucket: this.loc.bucket, Delete: { Objects, Quiet: true } })));
      if (r.Errors?.length) throw new DatastoreError(`could not delete ${r.Errors.length} object(s) from ${this.location}: ${r.Errors[0].Message ?? r.Errors[0].Code}`);
    }
  }

  /** An object or a "folder" (a prefix with objects under it), as fs.existsSync sees both. */
  async exists(key: string): Promise<boolean> {
    if (await this.objectExists(key)) return true;
    return (await this.listPage(`${this.objectKey(key)}/`, 1)).length > 0;
  }

  existsSync(key: string): boolean {
    return this.sync({ op: 'exists', key }).found;
  }

  listSync(prefix: string): string[] {
    return this.sync({ op: 'list', key: prefix }).names ?? [];
  }

  private async listPage(Prefix: string, MaxKeys: number, Delimiter?: string, ContinuationToken?: string) {
    const r = await this.call('LIST', Prefix, () => this.client.send(new (sdk().ListObjectsV2Command)({ Bucket: this.loc.bucket, Prefix, MaxKeys, Delimiter, ContinuationToken })));
    return Object.assign([...(r.Contents ?? []).map((c) => c.Key!), ...(r.CommonPrefixes ?? []).map((p) => p.Prefix!)], { next: r.IsTruncated ? r.NextContinuationToken : undefined });
  }

  async list(prefix: string): Promise<string[]> {
    const p = prefix === '' ? (this.loc.prefix ? `${this.loc.prefix}/` : '') : `${this.objectKey(prefix)}/`;
    const names: string[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.listPage(p, 1000, '/', token);
      for (const k of page) names.push(k.slice(p.length).replace(/\/$/, ''));
      token = page.next;
      // a server that hands back a token it gave before would page forever
      if (token !== undefined && seen.has(token)) throw new DatastoreError(`S3 datastore ${this.location}: LIST ${p}: the server repeats continuation token ${JSON.stringify(token)} (not an S3 server?)`);
      if (token !== undefined) seen.add(token);
    } while (token);
    return names.filter((n) => n && !n.endsWith('.tmp') && !n.endsWith('.lock'));
  }

  /** The first `limit` names under `prefix` in S3's (lexicographic) order: one request. */
  async listFirst(prefix: string, limit: number): Promise<string[]> {
    const p = `${this.objectKey(prefix)}/`;
    return (await this.listPage(p, limit, '/')).map((k) => k.slice(p.length).replace(/\/$/, '')).filter(Boolean);
  }

  async appendLine(): Promise<void> {
    throw new DatastoreError('S3 objects cannot be appended to (the S3 run index uses one marker object per run)');
  }

  /**
   * A lock in two parts. On this machine, a lock directory in the temp folder (LocalBackend's, so a
   * holder killed with -9 is seen dead by its pid); across machines, a lock object created with a
   * conditional PUT (createExclusive), broken when its holder on this host is dead or when it is
   * older than `staleMs`. On a server that ignores conditional writes only the first part holds.
   */
  async withLock<T>(key: string, fn: () => Promise<T>, staleMs = 10_000): Promise<T> {
    const local = new LocalBackend(path.join(os.tmpdir(), 'flowbook-s3-locks'));
    const name = crypto.createHash('sha256').update(`${this.location}\0${key}`).digest('hex');
    return local.withLock(name, async () => {
      const lockKey = `${key}.lock`;
      const owner = JSON.stringify({ host: os.hostname(), pid: process.pid, at: new Date().toISOString() });
      for (let attempt = 0; !(await this.createExclusive(lockKey, owner)); attempt++) {
        if (await this.lockIsStale(lockKey, staleMs)) await this.remove(lockKey);
        else await sleep(Math.min(50 * (attempt + 1), 500));
      }
      try {
        return await fn();
      } finally {
        await this.remove(lockKey).catch(() => undefined);
      }
    });
  }

  private async lockIsStale(lockKey: string, staleMs: number): Promise<boolean> {
    const st = await this.stat(lockKey);
    if (!st) return false; // released meanwhile: try again
    const holder = await this.get(lockKey).then((b) => JSON.parse(b.toString('utf8')) as { host: string; pid: number }).catch(() => undefined);
    // a holder on this host is judged by its pid, one elsewhere by the lock's age
    if (holder?.host === os.hostname() && holder.pid > 0) return !processAlive(holder.host, holder.pid);
    return Date.now() - st.mtimeMs > staleMs;
  }

  async stat(key: string): Promise<{ size: number; mtimeMs: number } | undefined> {
    try {
      const r = await this.client.send(new (sdk().HeadObjectCommand)({ Bucket: this.loc.bucket, Key: this.objectKey(key) }));
      return { size: r.ContentLength ?? 0, mtimeMs: r.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw explainS3Error(err, this.location, `HEAD ${key}`, this.config);
    }
  }
}
