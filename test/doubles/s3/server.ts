// A real S3 REST server (s3rver, in its own process) on 127.0.0.1 for the tests and benches: a
// temp directory, one bucket, and the environment that points flowbook (and the AWS SDK's
// credential chain) at it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** where s3rver keeps the objects (to corrupt one in a test) */
  dir: string;
  /** FLOWBOOK_DATASTORE/…_S3_ROOT/…_S3_ENDPOINT and the credentials s3rver accepts */
  env(prefix?: string): Record<string, string>;
  /** objects written so far (PUTs, multipart completions, copies), as s3rver counted them */
  objectsWritten(): number;
  close(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url));

export async function startS3(bucket = 'flowbook-test'): Promise<TestS3> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-s3-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, dir, bucket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code}`)));
    readline.createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l).port));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    dir,
    env: (prefix = 'flowbook') => ({
      FLOWBOOK_DATASTORE: 's3',
      FLOWBOOK_S3_ROOT: `s3://${bucket}/${prefix}`,
      FLOWBOOK_S3_ENDPOINT: endpoint,
      // s3rver's fixed development key pair
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    }),
    objectsWritten: () => Number(fs.existsSync(`${dir}.writes`) ? fs.readFileSync(`${dir}.writes`, 'utf8') : 0),
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(`${dir}.writes`, { force: true });
    },
  };
}
