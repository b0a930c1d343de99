// Hardening of the transcription side through the real CLI: `models pull` against a server that
// drops the connection or stalls, a bad --sha256, a model cache that cannot be written, and URL
// lists that must never echo the content of a file that is not a list.
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { flowbook, flowbookAsyncResult, tempDir, errorLine, REPO } from './helpers.js';
import { SHARED_MODELS } from '../shared-data.js';
import { serveRange } from '../doubles/http-range.js';

const MODEL = 'for-tests-tiny';
const FILE = 'for-tests-ggml-tiny.bin';
const SHA = 'c486fb9f14a28b1c1dc252741a431646cc573450c900b9d9c406e10294aa01e6';
const body = fs.readFileSync(path.join(SHARED_MODELS, FILE));
const TOTAL_MIB = (body.length / 2 ** 20).toFixed(1);
const FLOW = path.join(REPO, 'flows/youtube_transcription.ts');

const requests: { url: string; range?: string }[] = [];
const open = new Set<http.ServerResponse>();
let server: http.Server;
let base = '';

// /ok/<file> serves the model (with Range); /drop/<file> sends 200 000 bytes of a full response
// and then destroys the socket (a Range request is served in full); /stall/<file> sends the
// headers and then nothing
beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url!, range: req.headers.range });
    const [, mode, name] = req.url!.split('/');
    if (name !== FILE) return void res.writeHead(404).end();
    if (serveRange(req, res, body)) return;
    if (mode === 'ok') return void res.writeHead(200, { 'content-length': body.length }).end(body);
    res.writeHead(200, { 'content-length': body.length });
    if (mode === 'drop') {
      res.write(body.subarray(0, 200_000));
      setTimeout(() => req.socket.destroy(), 300);
    } else {
      res.flushHeaders();
      open.add(res);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of open) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  requests.length = 0;
});

/** `models pull …` in a child process (this process serves the downloads). */
function pull(args: string[], env: Record<string, string>) {
  return flowbookAsyncResult(['models', 'pull', ...args], { env: { FLOWBOOK_DOWNLOAD_STALL_SECONDS: '1', ...env }, timeoutMs: 60_000 });
}

describe('models pull: dropped and stalled downloads', () => {
  it('a dropped connection says how far it got, keeps the partial file, and the same command resumes it', async () => {
    const models = tempDir('flowbook-models-');
    const env = { FLOWBOOK_MODELS: models, FLOWBOOK_MODELS_URL: `${base}/drop` };
    const r = await pull([MODEL], env);
    expect(r.code).toBe(1);
    const line = errorLine(r)!;
    expect(line).toMatch(new RegExp(`^error: download of ${MODEL} interrupted after \\d+\\.\\d MiB of ${TOTAL_MIB} MiB: connection closed by the server; run the same command again to resume from there$`));
    expect(r.stderr).not.toContain('terminated');
    const part = path.join(models, `${FILE}.part`);
    const kept = fs.statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(body.length);

    requests.length = 0;
    const again = await pull([MODEL], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${MODEL}: downloaded and verified`);
    expect(requests).toEqual([{ url: `/drop/${FILE}`, range: `bytes=${kept}-` }]);
    expect(fs.readFileSync(path.join(models, FILE)).equals(body)).toBe(true);
    expect(fs.existsSync(part)).toBe(false);
  });

  it('a stalled server (headers, then no bytes) fails after FLOWBOOK_DOWNLOAD_STALL_SECONDS with what to do', async () => {
    const models = tempDir('flowbook-models-');
    const started = Date.now();
    const r = await pull([MODEL], { FLOWBOOK_MODELS: models, FLOWBOOK_MODELS_URL: `${base}/stall` });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe(
      `error: download of ${MODEL} stalled: no data from the server for 1 s after 0.0 MiB of ${TOTAL_MIB} MiB; run the same command again to resume from there`,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('--sha256 that is not 64 hex characters fails before anything is downloaded', async () => {
    const models = tempDir('flowbook-models-');
    const r = await pull([MODEL, '--sha256', 'zzz'], { FLOWBOOK_MODELS: models, FLOWBOOK_MODELS_URL: `${base}/ok` });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: --sha256 must be a sha256 digest, 64 hexadecimal characters; got "zzz"');
    expect(requests).toEqual([]);
    expect(fs.readdirSync(models)).toEqual([]);
    const two = await pull([MODEL, 'for-tests-tiny.en', '--sha256', SHA], { FLOWBOOK_MODELS: models, FLOWBOOK_MODELS_URL: `${base}/ok` });
    expect(errorLine(two)).toBe('error: --sha256 is the hash of one file: pull one model at a time with it');
    expect(requests).toEqual([]);
  });
});

describe('a model cache that cannot be written', () => {
  it('a pull falls back to a private temp cache with a one-line warning naming both folders', async () => {
    const x = tempDir('flowbook-ro-');
    fs.writeFileSync(path.join(x, 'file'), 'a regular file');
    const models = path.join(x, 'file', 'models'); // mkdir fails with ENOTDIR, even for root
    const tmp = tempDir('flowbook-tmp-');
    const fallback = path.join(tmp, `flowbook-models-${process.getuid!()}`);
    const env = { FLOWBOOK_MODELS: models, FLOWBOOK_MODELS_URL: `${base}/ok`, TMPDIR: tmp };
    const r = await pull([MODEL], env);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toEqual([`warning: the model cache ${models} is not writable (ENOTDIR); downloading ${MODEL} into ${fallback} instead`]);
    expect(r.stdout).toContain(`${MODEL}: downloaded and verified (sha256 ${SHA.slice(0, 16)}…) → ${path.join(fallback, FILE)}`);
    expect(fs.statSync(fallback).mode & 0o777).toBe(0o700);
    // later commands find it there, without downloading again
    requests.length = 0;
    const again = await pull([MODEL], env);
    expect(again.stdout).toContain(`${MODEL}: already present and verified`);
    expect(requests).toEqual([]);
    const list = flowbook(['models', 'list', '--all'], { env });
    expect(list.stdout).toMatch(new RegExp(`${MODEL.replace('.', '\\.')}\\s+present, verified`));
    expect(list.stdout).toContain(`(and ${fallback}, where pulls went while the cache was not writable)`);
  });

  it('a model already in a read-only cache is used as it is: nothing written, nothing downloaded', async () => {
    const models = tempDir('flowbook-models-');
    const tmp = tempDir('flowbook-tmp-');
    fs.copyFileSync(path.join(SHARED_MODELS, FILE), path.join(models, FILE));
    fs.writeFileSync(path.join(models, `${FILE}.sha256`), SHA);
    // no sidecar for this one: its sha256 is recomputed, not downloaded again
    fs.copyFileSync(path.join(SHARED_MODELS, 'for-tests-ggml-tiny.en.bin'), path.join(models, 'for-tests-ggml-tiny.en.bin'));
    fs.chmodSync(models, 0o555);
    // root ignores permission bits: make the folder immutable where the file system allows it
    const immutable = process.getuid!() === 0 && spawnSync('chattr', ['+i', models]).status === 0;
    const before = { names: fs.readdirSync(models).sort(), mtime: fs.statSync(models).mtimeMs };
    try {
      const env = { FLOWBOOK_MODELS: models, FLOWBOOK_MODELS_URL: `${base}/ok`, TMPDIR: tmp };
      const r = await pull([MODEL], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${MODEL}: already present and verified (sha256 ${SHA.slice(0, 16)}…) → ${path.join(models, FILE)}`);
      expect(r.stderr).not.toContain('warning');
      if (immutable || process.getuid!() !== 0) {
        const unverified = await pull(['for-tests-tiny.en'], env);
        expect(unverified.code, unverified.stderr).toBe(0);
        expect(unverified.stdout).toContain('for-tests-tiny.en: already present and verified');
      }
      expect(requests).toEqual([]);
      expect(fs.readdirSync(tmp)).toEqual([]); // no fallback cache
      expect({ names: fs.readdirSync(models).sort(), mtime: fs.statSync(models).mtimeMs }).toEqual(before);
    } finally {
      if (immutable) spawnSync('chattr', ['-i', models]);
      fs.chmodSync(models, 0o755);
    }
  });
});

describe('URL lists never echo a file that is not a list', () => {
  const root = tempDir();
  const models = tempDir('flowbook-models-');

  it('--urls /etc/passwd, and a list naming /etc/passwd: the list and line are named, the content never shown', () => {
    const direct = flowbook(['run', FLOW, '--urls', '/etc/passwd', '--model', 'sphinx-en-us'], { root, env: { FLOWBOOK_MODELS: models } });
    expect(direct.code).toBe(1);
    expect(direct.stdout + direct.stderr).not.toContain('root:x:0:0');
    expect(errorLine(direct)).toMatch(
      /: \/etc\/passwd is not an audio or video file \(by its extension\), a directory, or a URL list \(its line 1 is neither an http\(s\) URL nor a file path\)$/,
    );

    const dir = tempDir('flowbook-list-');
    const list = path.join(dir, 'urls.txt');
    fs.writeFileSync(list, '# my clips\n\n/etc/passwd\n');
    const nested = flowbook(['run', FLOW, '--urls', list, '--model', 'sphinx-en-us'], { root, env: { FLOWBOOK_MODELS: models } });
    expect(nested.code).toBe(1);
    expect(nested.stdout + nested.stderr).not.toContain('root:x:0:0');
    expect(errorLine(nested)).toMatch(
      new RegExp(`: ${list.replace(/[.]/g, '\\.')} line 3: /etc/passwd is not an audio or video file \\(by its extension\\), a directory, or a URL list \\(its line 1 is neither an http\\(s\\) URL nor a file path\\)$`),
    );
  }, 120_000);
});
