// The S3 server the S3 and Kubernetes benches use: s3rver in its own process on 127.0.0.1 (see
// test/s3/s3rver-main.mjs for why it runs with --openssl-legacy-provider).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { REPO } from './lib.mjs';

export async function startS3(bucket = 'bench') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-bench-s3-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', path.join(REPO, 'test/s3/s3rver-main.mjs'), dir, bucket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code}`)));
    readline.createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l).port));
  });
  const env = {
    FLOWBOOK_DATASTORE: 's3',
    FLOWBOOK_S3_ROOT: `s3://${bucket}/bench`,
    FLOWBOOK_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  };
  return {
    env,
    root: env.FLOWBOOK_S3_ROOT,
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
