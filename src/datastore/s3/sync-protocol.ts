// What S3Backend's synchronous calls (backend.ts) and the worker thread that serves them
// (sync-worker.ts) send each other: its own file, since the worker builds an S3Backend and the
// backend starts the worker, and neither should import the other for the message shapes.
import type { S3ClientConfig } from './config.js';

export interface SyncRequest {
  op: 'get' | 'exists' | 'list';
  /** s3://bucket/prefix and the client settings of the calling backend */
  location: string;
  config: S3ClientConfig;
  /** a datastore key (under the location) */
  key: string;
}

export interface SyncResponse {
  found: boolean;
  data?: Uint8Array;
  names?: string[];
  /** one line, already naming the datastore */
  error?: string;
}
