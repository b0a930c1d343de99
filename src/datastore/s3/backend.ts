// The S3 backend: the same keys as the local one, under s3://bucket/prefix. Pods, the runner, the
// client and notebooks share it (pods share no disk). Objects are replaced whole by PUT, so a
// reader sees the old or the new bytes; content-addressed blobs are uploaded only when a HEAD says
// they are absent, large ones in parts with bounded concurrency.
//
// Steps read their inputs' artifacts lazily and synchronously (`this.x` is a plain property); on
// S3 those reads go through a worker thread that the calling thread waits on (synckit), so a step
// fetches only what it touches.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';
import { DatastoreError, FlowbookError, NotFoundError } from '../../errors.js';
import { checkKey, type StorageBackend } from '../backend.js';
import { makeS3Client, parseS3Url, s3ClientConfig, sdk, storageSdk, type S3ClientConfig, type S3Location } from './config.js';
import type { SyncRequest, SyncResponse } from './sync-worker.js';

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

/** One clear line for the errors users cause: no bucket, no credentials, no server. */
export function explainS3Error(err: any, location: string): Error {
  if (err instanceof FlowbookError) return err;
  const what = err?.name === 'NoSuchBucket' ? 'the bucket does not exist'
    : err?.name === 'CredentialsProviderError' ? 'no AWS credentials found (env, profile or role)'
    : err?.name === 'InvalidAccessKeyId' || err?.name === 'SignatureDoesNotMatch' || err?.$metadata?.httpStatusCode === 403 ? 'access denied (check the credentials)'
    : err?.code === 'ECONNREFUSED' || err?.cause?.code === 'ECONNREFUSED' ? `cannot connect to ${process.env.FLOWBOOK_S3_ENDPOINT ?? 'S3'}`
    : String(err?.message ?? err);
  return new DatastoreError(`S3 datastore ${location}: ${what}`, { cause: err });
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

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw explainS3Error(err, this.location);
    }
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const Key = this.objectKey(key);
    await this.call(async () => {
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

  async get(key: string): Promise<Buffer> {
    const Key = this.objectKey(key);
    try {
      const r = await this.client.send(new (sdk().GetObjectCommand)({ Bucket: this.loc.bucket, Key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`not found in datastore ${this.location}: ${key}`, { cause: err });
      throw explainS3Error(err, this.location);
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
      throw explainS3Error(err, this.location);
    }
  }

  async remove(key: string): Promise<void> {
    await this.call(() => this.client.send(new (sdk().DeleteObjectCommand)({ Bucket: this.loc.bucket, Key: this.objectKey(key) })));
  }

  /** Delete many objects, 1,000 per request (DeleteObjects); absent ones are not an error. */
  async removeAll(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const Objects = keys.slice(i, i + 1000).map((k) => ({ Key: this.objectKey(k) }));
      const r = await this.call(() => this.client.send(new (sdk().DeleteObjectsCommand)({ Bucket: this.loc.bucket, Delete: { Objects, Quiet: true } })));
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
    const r = await this.call(() => this.client.send(new (sdk().ListObjectsV2Command)({ Bucket: this.loc.bucket, Prefix, MaxKeys, Delimiter, ContinuationToken })));
    return Object.assign([...(r.Contents ?? []).map((c) => c.Key!), ...(r.CommonPrefixes ?? []).map((p) => p.Prefix!)], { next: r.IsTruncated ? r.NextContinuationToken : undefined });
  }

  async list(prefix: string): Promise<string[]> {
    const p = prefix === '' ? (this.loc.prefix ? `${this.loc.prefix}/` : '') : `${this.objectKey(prefix)}/`;
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.listPage(p, 1000, '/', token);
      for (const k of page) names.push(k.slice(p.length).replace(/\/$/, ''));
      token = page.next;
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
   * S3 has no lock primitive (and s3rver ignores conditional writes), so nothing here relies on
   * one: the run index is made of per-run marker objects. The one remaining read-modify-write
   * (adding a tag to run.json) runs unlocked: two processes tagging the same run at the same
   * moment may lose one tag.
   */
  async withLock<T>(_key: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async stat(key: string): Promise<{ size: number; mtimeMs: number } | undefined> {
    try {
      const r = await this.client.send(new (sdk().HeadObjectCommand)({ Bucket: this.loc.bucket, Key: this.objectKey(key) }));
      return { size: r.ContentLength ?? 0, mtimeMs: r.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw explainS3Error(err, this.location);
    }
  }
}
