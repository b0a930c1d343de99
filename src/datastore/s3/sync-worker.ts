// The worker thread behind S3Backend.getSync/existsSync: the calling thread blocks (synckit,
// Atomics.wait) while this thread does the request, so a step's `this.x` can stay a plain
// synchronous property on S3 too.
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { runAsWorker } from 'synckit';
import { makeS3Client, type S3ClientConfig } from './config.js';

export interface SyncRequest {
  op: 'get' | 'exists';
  config: S3ClientConfig;
  bucket: string;
  /** the full object key (prefix included) */
  key: string;
}

export interface SyncResponse {
  found: boolean;
  data?: Uint8Array;
  error?: string;
}

const notFound = (err: any) => err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404;
const clients = new Map<string, S3Client>();

runAsWorker(async (req: SyncRequest): Promise<SyncResponse> => {
  const id = JSON.stringify(req.config);
  let client = clients.get(id);
  if (!client) clients.set(id, (client = makeS3Client(req.config)));
  try {
    if (req.op === 'get') {
      const r = await client.send(new GetObjectCommand({ Bucket: req.bucket, Key: req.key }));
      return { found: true, data: await r.Body!.transformToByteArray() };
    }
    try {
      await client.send(new HeadObjectCommand({ Bucket: req.bucket, Key: req.key }));
      return { found: true };
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    const l = await client.send(new ListObjectsV2Command({ Bucket: req.bucket, Prefix: `${req.key}/`, MaxKeys: 1 }));
    return { found: (l.KeyCount ?? 0) > 0 };
  } catch (err: any) {
    if (notFound(err)) return { found: false };
    return { found: false, error: String(err?.name === 'NoSuchBucket' ? 'the bucket does not exist' : (err?.message ?? err)) };
  }
});
