// The S3 server the S3 and Kubernetes benches use: the tests' own (test/doubles/s3/server.ts, s3rver in
// its own process on 127.0.0.1), loaded through flowbook's TypeScript hooks.
import { register } from 'node:module';

register(new URL('../dist/flow/loader-hooks.js', import.meta.url).href, import.meta.url);
const { startS3: startTestS3 } = await import('../test/doubles/s3/server.ts');

export async function startS3(bucket = 'bench') {
  const s3 = await startTestS3(bucket);
  const env = s3.env('bench');
  return { env, root: env.FLOWBOOK_S3_ROOT, dir: s3.dir, objectsWritten: () => s3.objectsWritten(), close: () => s3.close() };
}
