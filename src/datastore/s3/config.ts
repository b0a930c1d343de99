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
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!m) throw new DatastoreError(`invalid S3 root ${JSON.stringify(url)}: expected s3://bucket/prefix`);
  // S3's bucket naming rules, said as such (a short name is a wrong name, not a wrong form)
  if (m[1].length < 3 || m[1].length > 63) throw new DatastoreError(`invalid S3 root ${JSON.stringify(url)}: bucket names have 3 to 63 characters, ${JSON.stringify(m[1])} has ${m[1].length}`);
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(m[1])) throw new DatastoreError(`invalid S3 root ${JSON.stringify(url)}: bucket names are lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`);
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  if (prefix.split('/').some((s) => s === '..' || s === '.')) throw new DatastoreError(`invalid S3 root ${JSON.stringify(url)}: '.' and '..' are not allowed`);
  return { bucket: m[1], prefix };
}

/** What a client needs besides the credentials; also handed to the synchronous-read worker. */
export interface S3ClientConfig {
  endpoint?: string;
  region: string;
  /** give up connecting after this long (FLOWBOOK_S3_CONNECT_TIMEOUT_SECONDS, default 5) */
  connectTimeoutMs: number;
  /** give up on a request whose connection is silent this long (FLOWBOOK_S3_TIMEOUT_SECONDS, default 20) */
  idleTimeoutMs: number;
  /** tries of one request, the first included (FLOWBOOK_S3_MAX_ATTEMPTS, default 4) */
  maxAttempts: number;
}

/** A positive number of seconds (or a count) from the environment, or the default; anything else is an error. */
function envNumber(name: string, fallback: number, integer = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new DatastoreError(`${name} must be a positive ${integer ? 'whole number' : 'number of seconds'}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function s3ClientConfig(): S3ClientConfig {
  const endpoint = process.env.FLOWBOOK_S3_ENDPOINT || undefined;
  if (endpoint && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) {
    throw new DatastoreError(`FLOWBOOK_S3_ENDPOINT must be http(s)://host[:port], got ${JSON.stringify(endpoint)}`);
  }
  return {
    endpoint,
    region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    connectTimeoutMs: envNumber('FLOWBOOK_S3_CONNECT_TIMEOUT_SECONDS', 5) * 1000,
    idleTimeoutMs: envNumber('FLOWBOOK_S3_TIMEOUT_SECONDS', 20) * 1000,
    maxAttempts: envNumber('FLOWBOOK_S3_MAX_ATTEMPTS', 4, true),
  };
}

/** "http://host:port" or "S3" — where the requests go, for messages */
export const endpointName = (cfg: S3ClientConfig) => cfg.endpoint ?? 'S3';

/**
 * Every request is bounded: a connect timeout, and an idle timeout that ends a request whose
 * server stops sending (a whole-request limit would cut a slow large upload). The SDK's standard
 * retry strategy then retries timeouts, 5xx and throttling (SlowDown) with exponential backoff
 * and jitter, up to maxAttempts tries in all.
 */
export function makeS3Client(cfg: S3ClientConfig): S3Client {
  return new (sdk().S3Client)({
    region: cfg.region,
    // S3-compatible servers are addressed path-style (http://host:port/bucket/key)
    ...(cfg.endpoint ? { endpoint: cfg.endpoint, forcePathStyle: true } : {}),
    maxAttempts: cfg.maxAttempts,
    // the SDK builds its NodeHttpHandler from these options
    requestHandler: { connectionTimeout: cfg.connectTimeoutMs, socketTimeout: cfg.idleTimeoutMs },
  });
}
