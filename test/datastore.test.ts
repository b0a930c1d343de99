// The datastore on its own: content addressing, dedupe, atomic writes, integrity, names, indexes.
import { describe, it, expect } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { FlowDatastore } from '../src/datastore/store.js';
import { runIndexFor, invertRunId } from '../src/datastore/index-files.js';
import { checkName } from '../src/datastore/names.js';
import { IntegrityError, NameError } from '../src/errors.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-ds-'));
const runBase = { status: 'running' as const, createdAt: '', user: 'u', tags: [], systemTags: ['user:u'], params: {}, flowFile: 'f.ts', sourceSha: '', host: 'h', pid: 1 };

describe('blobs', () => {
  it('stores identical values once, under their sha256', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const a = await ds.putArtifact('a', { x: [1, 2, 3] });
    const b = await ds.putArtifact('b', { x: [1, 2, 3] });
    expect(a.sha).toBe(b.sha);
    expect(a.sha).toMatch(/^[0-9a-f]{64}$/);
    const files = fs.readdirSync(path.join(root, 'F', 'data', a.sha.slice(0, 2)));
    expect(files).toEqual([a.sha]);
    expect(await ds.getArtifact('a', a)).toEqual({ x: [1, 2, 3] });
  });

  it('compresses only when it pays, and reads back either way', async () => {
    const ds = new FlowDatastore(tmp(), 'F');
    const text = await ds.putArtifact('t', 'flowbook '.repeat(10_000));
    expect(text.encoding).toBe('gzip');
    expect(text.stored).toBeLessThan(text.size / 10);
    const noise = await ds.putArtifact('n', crypto.randomBytes(1 << 16));
    expect(noise.encoding).toBe('none');
    expect(await ds.getArtifact('t', text)).toBe('flowbook '.repeat(10_000));
    expect(ds.getArtifactSync('t', text)).toBe('flowbook '.repeat(10_000));
  });

  it('leaves no temp files behind and never a partial blob', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    await Promise.all(Array.from({ length: 20 }, (_, i) => ds.putArtifact('x', { i })));
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [e.name]));
    expect(walk(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a blob that no longer matches its hash is an IntegrityError naming artifact and blob', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const ref = await ds.putArtifact('weights', [1, 2, 3]);
    fs.writeFileSync(path.join(root, 'F', 'data', ref.sha.slice(0, 2), ref.sha), '[1,2,4]');
    await expect(ds.getArtifact('weights', ref)).rejects.toThrow(IntegrityError);
    await expect(ds.getArtifact('weights', ref)).rejects.toThrow(`artifact 'weights' is corrupted: blob ${ref.sha} has sha256 `);
    fs.rmSync(path.join(root, 'F', 'data', ref.sha.slice(0, 2), ref.sha));
    await expect(ds.getArtifact('weights', ref)).rejects.toThrow(`artifact 'weights' is missing its blob ${ref.sha}`);
  });

  it('large blobs are hashed while written and while read, and still verified', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const big = crypto.randomBytes(20 * 2 ** 20);
    const ref = await ds.putArtifact('big', big);
    expect(ref.sha).toBe(crypto.createHash('sha256').update(big).digest('hex'));
    const file = path.join(root, 'F', 'data', ref.sha.slice(0, 2), ref.sha);
    expect(fs.statSync(file).size).toBe(big.length);
    expect(fs.readdirSync(path.join(root, 'F', 'data')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(((await ds.getArtifact('big', ref)) as Buffer).equals(big)).toBe(true);
    // the same bytes again: deduplicated, no second file
    await ds.putArtifact('again', Buffer.from(big));
    expect(fs.readdirSync(path.dirname(file))).toEqual([ref.sha]);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([big[1000] ^ 1]), 0, 1, 1000);
    fs.closeSync(fd);
    await expect(ds.getArtifact('big', ref)).rejects.toThrow(`artifact 'big' is corrupted: blob ${ref.sha} has sha256 `);
  });
});

describe('an existing blob is verified before a write skips it', () => {
  const blobFile = (root: string, ref: { sha: string; encoding: string }) =>
    path.join(root, 'F', 'data', ref.sha.slice(0, 2), ref.sha + (ref.encoding === 'gzip' ? '.gz' : ''));

  it('a corrupt small blob (same size, or truncated) is replaced by the next write of its bytes', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const ref = await ds.putArtifact('w', [1, 2, 3]);
    fs.writeFileSync(blobFile(root, ref), '[1,2,4]');
    expect(await ds.checkBlob(ref)).toMatchObject({ status: 'corrupt', why: expect.stringMatching(/^has sha256 [0-9a-f]{64}$/) });
    await ds.putArtifact('again', [1, 2, 3]);
    expect(await ds.getArtifact('w', ref)).toEqual([1, 2, 3]);
    fs.writeFileSync(blobFile(root, ref), '[1,');
    await ds.putArtifact('again', [1, 2, 3]);
    expect(await ds.checkBlob(ref)).toEqual({ status: 'ok' });
    await ds.removeBlob(ref);
    expect(await ds.checkBlob(ref)).toEqual({ status: 'missing' });
  });

  it('a gzip blob that does not decompress is replaced; a sound one of another size is kept', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const text = 'flowbook '.repeat(10_000);
    const ref = await ds.putArtifact('t', text);
    expect(ref.encoding).toBe('gzip');
    const file = blobFile(root, ref);
    const sound = fs.readFileSync(file);
    fs.writeFileSync(file, sound.subarray(0, sound.length - 8));
    expect(await ds.checkBlob(ref)).toMatchObject({ status: 'corrupt', why: 'does not decompress' });
    await ds.putArtifact('t', text);
    expect(fs.readFileSync(file).equals(sound)).toBe(true);
    // another gzip of the same bytes (another zlib would make one; here: two gzip members) is sound, so kept
    const raw = zlib.gunzipSync(sound);
    const other = Buffer.concat([zlib.gzipSync(raw.subarray(0, 100)), zlib.gzipSync(raw.subarray(100))]);
    expect(other.length).not.toBe(sound.length);
    fs.writeFileSync(file, other);
    await ds.putArtifact('t', text);
    expect(fs.readFileSync(file).equals(other)).toBe(true);
  });

  it('a large blob of the wrong size is replaced; same-size damage is left for verify to find', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const big = crypto.randomBytes(17 * 2 ** 20);
    const ref = await ds.putArtifact('big', big);
    const file = blobFile(root, ref);
    fs.truncateSync(file, 2 ** 20);
    await ds.putArtifact('big', Buffer.from(big));
    expect(((await ds.getArtifact('big', ref)) as Buffer).equals(big)).toBe(true);
    expect(fs.readdirSync(path.join(root, 'F', 'data')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // a flipped byte keeps the size: a write does not re-hash 17 MiB, `flowbook verify` does
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([big[5] ^ 1]), 0, 1, 5);
    fs.closeSync(fd);
    await ds.putArtifact('big', Buffer.from(big));
    expect((await ds.checkBlob(ref)).status).toBe('corrupt');
  });
});

describe('unreadable metadata', () => {
  it('names the file, and says it is truncated or not JSON', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const run = await ds.createRun(runBase);
    const done = { pathspec: `F/${run.runId}/s/1`, step: 's', taskId: '1', attempt: 0, artifacts: {}, foreachStack: [], inputs: [], startedAt: '', finishedAt: '', key: 's' };
    await ds.writeDone(run.runId, done);
    await ds.writeAttempt(run.runId, 's', '1', { pathspec: done.pathspec, attempt: 0, status: 'done', startedAt: '' });
    expect(await ds.readDone(run.runId, 's', '1')).toEqual(done);
    const taskDir = path.join(root, 'F', 'runs', run.runId, 's', '1');
    const cut = (file: string, n: number) => fs.writeFileSync(file, fs.readFileSync(file).subarray(0, n));
    cut(path.join(taskDir, 'DONE.json'), 30);
    const why = `cannot read ${path.join(taskDir, 'DONE.json')}: truncated or not JSON (`;
    await expect(ds.readDone(run.runId, 's', '1')).rejects.toThrow(IntegrityError);
    await expect(ds.readDone(run.runId, 's', '1')).rejects.toThrow(why);
    expect(() => ds.readDoneSync(run.runId, 's', '1')).toThrow(why);
    fs.writeFileSync(path.join(taskDir, 'DONE.json'), '{"some": "thing"}');
    await expect(ds.readDone(run.runId, 's', '1')).rejects.toThrow(`cannot read ${path.join(taskDir, 'DONE.json')}: not a flowbook record`);
    cut(path.join(taskDir, 'attempt-0.json'), 0);
    await expect(ds.readAttempts(run.runId, 's', '1')).rejects.toThrow(`cannot read ${path.join(taskDir, 'attempt-0.json')}: truncated or not JSON (`);
    cut(path.join(root, 'F', 'runs', run.runId, 'run.json'), 10);
    await expect(ds.readRun(run.runId)).rejects.toThrow(`cannot read ${path.join(root, 'F', 'runs', run.runId, 'run.json')}: truncated or not JSON (`);
    // absent is still "not committed", not an error
    expect(await ds.readDone(run.runId, 's', '2')).toBeUndefined();
  });
});

describe('names', () => {
  it('rejects traversal and separators', () => {
    for (const bad of ['../x', 'a/b', '..', '', 'a b', '.hidden']) expect(() => checkName('flow', bad)).toThrow(NameError);
    expect(() => new FlowDatastore(tmp(), '../../etc')).toThrow('invalid flow name "../../etc"');
    const ds = new FlowDatastore(tmp(), 'F');
    expect(() => ds.taskKey('1', '../x', '1')).toThrow('invalid step name "../x"');
    expect(() => ds.taskKey('../1', 'x', '1')).toThrow('invalid run id "../1"');
  });
});

describe('runs and indexes', () => {
  it('allocates distinct, increasing run ids under concurrency', async () => {
    const ds = new FlowDatastore(tmp(), 'F');
    const runs = await Promise.all(Array.from({ length: 10 }, () => ds.createRun(runBase)));
    const ids = runs.map((r) => Number(r.runId));
    expect(new Set(ids).size).toBe(10);
  });

  it('latest successful never goes back to an older run that finished late', async () => {
    const ds = new FlowDatastore(tmp(), 'F');
    const index = runIndexFor(ds.backend, 'F');
    const older = await ds.createRun(runBase);
    const newer = await ds.createRun(runBase);
    await index.runStarted(older.runId, ['user:u']);
    await index.runStarted(newer.runId, ['user:u']);
    await index.runSucceeded(newer.runId, ['user:u']);
    await index.runSucceeded(older.runId, ['user:u']);
    expect(await index.latestSuccessful(null)).toBe(newer.runId);
    expect(await index.latestSuccessful('user:u')).toBe(newer.runId);
    expect(await index.latestSuccessful('user:someone-else')).toBeUndefined();
    expect(await index.runs('user:u')).toEqual([newer.runId, older.runId]);
  });
});

describe('the S3 run index markers', () => {
  it('inverted ids sort newest first and invert back', () => {
    const ids = ['9', '10', '1795672543881', '1795672543882', '99999999999999'];
    const markers = ids.map(invertRunId);
    expect([...markers].sort().map(invertRunId).map((m) => m.replace(/^0+(?=\d)/, ''))).toEqual([...ids].reverse());
    expect(() => invertRunId('argo-abc')).toThrow('run id "argo-abc" cannot be indexed on S3');
  });
});
