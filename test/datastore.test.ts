// The datastore on its own: content addressing, dedupe, atomic writes, integrity, names, indexes.
import { describe, it, expect } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
