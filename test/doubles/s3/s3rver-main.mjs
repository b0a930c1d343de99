// s3rver in its own process, as a real S3 server would be: `node --openssl-legacy-provider
// test/doubles/s3/s3rver-main.mjs DIR BUCKET [PORT]` prints {"port": N} once it listens, and stops on
// SIGTERM; it counts the objects written in DIR.writes. The flag is needed because s3rver makes list continuation tokens with DES, which
// OpenSSL 3 only has in its legacy provider (without it, every truncated listing is a 500).
import fs from 'node:fs';
import S3rver from 's3rver';

const [dir, bucket, port = '0'] = process.argv.slice(2);
const server = new S3rver({ port: Number(port), address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
// every object written (PUT, multipart completion, copy), counted in DIR.writes for the benches
let written = 0;
server.on('event', (e) => {
  if (e.Records?.[0]?.eventName?.startsWith('ObjectCreated')) fs.writeFileSync(`${dir}.writes`, String(++written));
});
const { port: actual } = await server.run();
process.stdout.write(JSON.stringify({ port: actual }) + '\n');
const stop = () => server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
