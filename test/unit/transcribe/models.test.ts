// The model manager against a real local HTTP server that serves whisper.cpp's MIT test models
// (the Hugging Face boundary): download, verify, resume with Range, locks, and clear failures.
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { pullModel, listModels, verifyModel, resolveModelPath } from '../../../src/transcribe/models.js';
import { IntegrityError } from '../../../src/errors.js';

import { SHARED_MODELS as SHARED } from '../../shared-data.js';
import { serveRange } from '../../doubles/http-range.js';
const requests: { url: string; range?: string }[] = [];
let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url!, range: req.headers.range });
    const name = path.basename(req.url!);
    let body: Buffer;
    if (name === 'for-tests-ggml-base.en.bin') {
      // a corrupted copy: one byte flipped
      body = Buffer.from(fs.readFileSync(path.join(SHARED, name)));
      body[1000] ^= 0xff;
    } else if (fs.existsSync(path.join(SHARED, name)) && name !== 'for-tests-ggml-large.bin') {
      body = fs.readFileSync(path.join(SHARED, name));
    } else {
      res.writeHead(404).end('not found');
      return;
    }
    if (serveRange(req, res, body)) return;
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  process.env.FLOWBOOK_MODELS = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-models-'));
  process.env.FLOWBOOK_MODELS_URL = base;
  requests.length = 0;
});

describe('model manager', () => {
  it('pulls, verifies by sha256, and does not download twice', async () => {
    const r = await pullModel('for-tests-tiny.en');
    expect(r.downloaded).toBe(true);
    expect(fs.readFileSync(r.file).equals(fs.readFileSync(path.join(SHARED, 'for-tests-ggml-tiny.en.bin')))).toBe(true);
    const st = listModels().find((m) => m.name === 'for-tests-tiny.en')!;
    expect(st).toMatchObject({ present: true, verified: true });
    const again = await pullModel('for-tests-tiny.en');
    expect(again.downloaded).toBe(false);
    expect(requests).toHaveLength(1);
    expect(resolveModelPath('for-tests-tiny.en')).toBe(r.file);
    expect((await verifyModel('for-tests-tiny.en')).ok).toBe(true);
  });

  it('two pulls at once download the file once (a lock)', async () => {
    const [a, b] = await Promise.all([pullModel('for-tests-tiny'), pullModel('for-tests-tiny')]);
    expect([a.downloaded, b.downloaded].sort()).toEqual([false, true]);
    expect(requests.filter((q) => q.url.endsWith('for-tests-ggml-tiny.bin'))).toHaveLength(1);
  });

  it('resumes a partial download with a Range request', async () => {
    const full = fs.readFileSync(path.join(SHARED, 'for-tests-ggml-tiny.bin'));
    const part = path.join(process.env.FLOWBOOK_MODELS!, 'for-tests-ggml-tiny.bin.part');
    fs.writeFileSync(part, full.subarray(0, 100_000));
    const r = await pullModel('for-tests-tiny');
    expect(requests[0].range).toBe('bytes=100000-');
    expect(fs.readFileSync(r.file).equals(full)).toBe(true);
    expect(fs.existsSync(part)).toBe(false);
  });

  it('a corrupted download is a clear sha256 error and leaves nothing in the cache', async () => {
    const err = await pullModel('for-tests-base.en').catch((e) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toMatch(/^sha256 mismatch for model for-tests-base\.en: expected 1bc042ca[0-9a-f]+, got [0-9a-f]{64}; the download was deleted$/);
    expect(fs.readdirSync(process.env.FLOWBOOK_MODELS!)).toEqual([]);
  });

  it('HTTP 404, unknown names, missing models and models without a known hash', async () => {
    await expect(pullModel('for-tests-large')).rejects.toThrow(`cannot download ${base}/for-tests-ggml-large.bin: HTTP 404 (no such model file on the server)`);
    await expect(pullModel('huge')).rejects.toThrow('unknown model "huge"');
    expect(() => resolveModelPath('tiny')).toThrow(`Whisper model tiny is not downloaded (looked in ${process.env.FLOWBOOK_MODELS}): run \`npx flowbook models pull tiny\``);
    await expect(pullModel('small')).rejects.toThrow('no official sha256 is known for small: pass --sha256 <hex>');
  });

  it('a --sha256 that is not 64 hex characters fails before any request', async () => {
    await expect(pullModel('for-tests-tiny', { sha256: 'zzz' })).rejects.toThrow('--sha256 must be a sha256 digest, 64 hexadecimal characters; got "zzz"');
    expect(requests).toEqual([]);
  });

  it('an unwritable cache: pulls go to the temp fallback, and resolving finds the model there', async () => {
    const x = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-ro-'));
    fs.writeFileSync(path.join(x, 'file'), '');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-tmp-'));
    const TMPDIR = process.env.TMPDIR;
    process.env.FLOWBOOK_MODELS = path.join(x, 'file', 'models');
    process.env.TMPDIR = tmp;
    try {
      const warnings: string[] = [];
      const r = await pullModel('for-tests-tiny', { onWarning: (m) => warnings.push(m) });
      const fallback = path.join(tmp, `flowbook-models-${process.getuid!()}`);
      expect(warnings).toEqual([`the model cache ${process.env.FLOWBOOK_MODELS} is not writable (ENOTDIR); downloading for-tests-tiny into ${fallback} instead`]);
      expect(r).toMatchObject({ file: path.join(fallback, 'for-tests-ggml-tiny.bin'), downloaded: true });
      expect(resolveModelPath('for-tests-tiny')).toBe(r.file);
      expect(listModels().find((m) => m.name === 'for-tests-tiny')).toMatchObject({ present: true, verified: true, file: r.file });
      // a fallback folder that others can write is not trusted
      fs.chmodSync(fallback, 0o777);
      expect(() => resolveModelPath('for-tests-tiny')).toThrow('is not downloaded');
    } finally {
      if (TMPDIR === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = TMPDIR;
    }
  });
});
