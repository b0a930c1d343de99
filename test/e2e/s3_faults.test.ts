// S3 endpoints that misbehave, and concurrent resumes on S3. Every call is bounded: a server that
// accepts connections and never answers, one that answers 200 to everything, one that answers 5xx
// or SlowDown — each ends the command with one line naming the request, the HTTP status and S3's
// error code, in bounded time and a bounded number of requests. Two resumes of one origin on S3
// are refused as they are locally, and a kill -9 of the one that won loses nothing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { flowbook, flowbookAsync, flowbookAsyncResult, fixture, errorLine, exited, wait } from './helpers.js';
import { startS3, type TestS3 } from '../doubles/s3/server.js';

/** A fast failure: 1 s of silence is a timeout, and a request is tried twice. */
const BOUNDS = { FLOWBOOK_S3_TIMEOUT_SECONDS: '1', FLOWBOOK_S3_CONNECT_TIMEOUT_SECONDS: '1', FLOWBOOK_S3_MAX_ATTEMPTS: '2' };
const CREDS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const envFor = (endpoint: string, extra: Record<string, string> = {}) => ({
  FLOWBOOK_DATASTORE: 's3',
  FLOWBOOK_S3_ROOT: 's3://faulty-bucket/fb',
  FLOWBOOK_S3_ENDPOINT: endpoint,
  ...CREDS,
  ...BOUNDS,
  ...extra,
});

interface FakeServer {
  endpoint: string;
  requests: () => number;
  close: () => Promise<void>;
}

/** An HTTP server answering every request with `answer` (it counts them). */
async function httpServer(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<FakeServer> {
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => n,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A TCP server that accepts connections and never sends a byte. */
async function silentServer(): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => n,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

const s3Error = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>1</RequestId></Error>`;

describe('S3 endpoints that misbehave end the command with one line, in bounded time', () => {
  it('a server that accepts connections and never answers: run and dump fail naming the request and the timeout', async () => {
    const server = await silentServer();
    try {
      const run = await flowbookAsyncResult(['run', fixture('linear.ts')], { env: envFor(server.endpoint), timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(1);
      expect(errorLine(run)).toMatch(new RegExp(`^error: S3 datastore s3://faulty-bucket/fb: HEAD \\S+: no answer from ${server.endpoint} within 1 s \\(FLOWBOOK_S3_TIMEOUT_SECONDS\\)`));
      const dump = await flowbookAsyncResult(['dump', 'LinearFlow/latest'], { env: envFor(server.endpoint), timeoutMs: 60_000 });
      expect(dump.code, dump.stderr).toBe(1);
      expect(errorLine(dump)).toContain(`no answer from ${server.endpoint} within 1 s`);
    } finally {
      await server.close();
    }
  }, 90_000);

  it('a server that answers 200 to everything: no endless probing for a free run id', async () => {
    const server = await httpServer((_req, res) => res.writeHead(200, { 'content-length': '0' }).end());
    try {
      const run = await flowbookAsyncResult(['run', fixture('linear.ts')], { env: envFor(server.endpoint), timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(1);
      expect(errorLine(run)).toMatch(/^error: datastore s3:\/\/faulty-bucket\/fb: run ids \d+ to \d+ of LinearFlow are all taken — does the S3 endpoint answer every request as found\?$/);
      expect(server.requests()).toBeLessThan(200);
    } finally {
      await server.close();
    }
  }, 90_000);

  it('503 SlowDown and 500 are retried, then reported with the status, the S3 code and the tries', async () => {
    const slow = await httpServer((_req, res) => res.writeHead(503, { 'content-type': 'application/xml' }).end(s3Error('SlowDown', 'Please reduce your request rate.')));
    const broken = await httpServer((_req, res) => res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>oops</body></html>'));
    try {
      const a = await flowbookAsyncResult(['run', fixture('linear.ts')], { env: envFor(slow.endpoint), timeoutMs: 60_000 });
      expect(a.code).toBe(1);
      expect(errorLine(a)).toMatch(/^error: S3 datastore s3:\/\/faulty-bucket\/fb: HEAD \S+: the server failed \(HTTP 503, (SlowDown, )?after 2 tries\)$/);
      expect(slow.requests()).toBe(2);
      const b = await flowbookAsyncResult(['run', fixture('linear.ts')], { env: envFor(broken.endpoint), timeoutMs: 60_000 });
      expect(b.code).toBe(1);
      expect(errorLine(b)).toMatch(/^error: S3 datastore s3:\/\/faulty-bucket\/fb: HEAD \S+: the server failed \(HTTP 500, after 2 tries\)$/);
      // a GET's body names the S3 code (HEAD has none)
      const c = await flowbookAsyncResult(['dump', 'LinearFlow/123'], { env: envFor(slow.endpoint), timeoutMs: 60_000 });
      expect(c.code).toBe(1);
      expect(errorLine(c)).toMatch(/HTTP 503, SlowDown, after 2 tries/);
    } finally {
      await slow.close();
      await broken.close();
    }
  }, 90_000);

  it('bad timeouts in the environment and short bucket names are one clear line', () => {
    const r = flowbook(['run', fixture('linear.ts')], { env: envFor('http://127.0.0.1:9', { FLOWBOOK_S3_TIMEOUT_SECONDS: 'soon' }) });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe('error: FLOWBOOK_S3_TIMEOUT_SECONDS must be a positive number of seconds, got "soon"');
    const s = flowbook(['run', fixture('linear.ts')], { env: envFor('http://127.0.0.1:9', { FLOWBOOK_S3_ROOT: 's3://hb/fb' }) });
    expect(s.code).toBe(1);
    expect(errorLine(s)).toBe('error: invalid S3 root "s3://hb/fb": bucket names have 3 to 63 characters, "hb" has 2');
  });
});

describe('concurrent resumes of one origin on S3', () => {
  let s3: TestS3;
  let env: Record<string, string>;
  beforeAll(async () => {
    s3 = await startS3();
    env = s3.env('resumes');
  });
  afterAll(async () => {
    await s3?.close();
  });

  /** a TrialFlow run killed with -9 after some of its tasks ran: the origin */
  async function killedOrigin(): Promise<string> {
    const child = flowbookAsync(['run', fixture('trial.ts')], { env });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    for (let i = 0; i < 600 && !/Running TrialFlow\/\d+/.test(err); i++) await wait(20);
    await wait(600);
    child.kill('SIGKILL');
    await exited(child);
    return /Running TrialFlow\/(\d+)/.exec(err)![1];
  }

  it('two resumes started at once: one runs, the other is refused naming it; a kill -9 of the winner loses nothing', async () => {
    for (let trial = 0; trial < 2; trial++) {
      const origin = await killedOrigin();
      const start = () => {
        const c = flowbookAsync(['resume', fixture('trial.ts'), '--origin-run-id', origin], { env });
        const out = { err: '' };
        c.stderr.on('data', (d) => (out.err += d));
        return { c, out, code: exited(c) };
      };
      const a = start();
      const b = start();
      // the loser exits by itself with the refusal; the winner is killed with -9 once it runs
      const loser = await Promise.race([a.code.then(() => a), b.code.then(() => b)]);
      const winner = loser === a ? b : a;
      expect(loser.out.err, `trial ${trial}`).toMatch(new RegExp(`error: run TrialFlow/${origin} is already being resumed by (run TrialFlow/\\d+|another runner) \\(pid ${winner.c.pid} on ${os.hostname()}\\)`));
      expect(await loser.code).toBe(1);
      for (let i = 0; i < 500 && !/Resuming TrialFlow\/\d+/.test(winner.out.err); i++) await wait(20);
      const resumed = /Resuming TrialFlow\/(\d+)/.exec(winner.out.err)?.[1];
      winner.c.kill('SIGKILL');
      await exited(winner.c);
      // a later resume (of the winner's run when it got that far, else of the origin) finishes with every total right
      const r = await flowbookAsyncResult(['resume', fixture('trial.ts'), '--origin-run-id', resumed ?? origin, '--quiet'], { env, timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      const check = await flowbookAsyncResult(['verify', `TrialFlow/${/TrialFlow\/(\d+) succeeded/.exec(r.stderr)![1]}`], { env, timeoutMs: 60_000 });
      expect(check.code, check.stdout + check.stderr).toBe(0);
    }
  }, 300_000);
});
