// Where an S3 datastore lives and how to reach it: `s3://bucket/prefix` roots, the endpoint of an
// S3-compatible server (MinIO, Ceph, a local test server) and the client built from them. The
// credentials come from the AWS SDK's default chain (env, profile, instance or pod role):
// flowbook never reads, prints or stores them.
import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';
import { DatastoreError } from '../../errors.js';

const require = createRequire(import.meta.url);
/** The SDK loads only when an S3 datastore is used (it costs ~150 ms; local runs never pay it). */
export const sdk = (): typeof import('@aws-sdk/client-s3') => require('@aws-sdk/client-s3');
export const storageSdk = (): typeof import('@aws-sdk/lib-storage') => require('@aws-sdk/lib-storage');

// The pinned SDK release supports Node 20; its warning about later releases is noise for users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3Location {
  bucket: string;
  /** '' or 'a/b' (no leading or trailing slash) */
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new DatastoreError(`invalid S3 root ${JSON.stringify(url)}: expected s3://bucket/prefix`);
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  if (prefix.split('/').some((s) => s === '..' || s === '.')) throw new DatastoreError(`invalid S3 root ${JSON.stringify(url)}: '.' and '..' are not allowed`);
  return { bucket: m[1], prefix };
}

/** What a client needs besides the credentials; also handed to the synchronous-read worker. */
export interface S3ClientConfig {
  endpoint?: string;
  region: string;
}

export function s3ClientConfig(): S3ClientConfig {
  const endpoint = process.env.FLOWBOOK_S3_ENDPOINT || undefined;
  if (endpoint && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) {
    throw new DatastoreError(`FLOWBOOK_S3_ENDPOINT must be http(s)://host[:port], got ${JSON.stringify(endpoint)}`);
  }
  return { endpoint, region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1' };
}

export function makeS3Client(cfg: S3ClientConfig): S3Client {
  return new (sdk().S3Client)({
    region: cfg.region,
    // S3-compatible servers are addressed path-style (http://host:port/bucket/key)
    ...(cfg.endpoint ? { endpoint: cfg.endpoint, forcePathStyle: true } : {}),
    maxAttempts: 5,
  });
}
