// The datastore on its own: content addressing, dedupe, atomic writes, integrity, names, indexes.
import { describe, it, expect } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { FlowDatastore, INLINE_MAX } from '../../src/datastore/store.js';
import { TaskJournal } from '../../src/datastore/journal.js';
import { clearRecordCache } from '../../src/datastore/task-records.js';
import { runIndexFor, invertRunId } from '../../src/datastore/index-files.js';
import { checkName } from '../../src/datastore/names.js';
import { IntegrityError, NameError } from '../../src/errors.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-ds-'));
/** big enough to be a blob of its own (smaller artifacts are kept inside task records), incompressible */
const medium = () => crypto.randomBytes(800);
const blobFile = (root: string, ref: { sha: string; encoding: string }) =>
  path.join(root, 'F', 'data', ref.sha.slice(0, 2), ref.sha + (ref.encoding === 'gzip' ? '.gz' : ''));
const runBase = { status: 'running' as const, createdAt: '', user: 'u', tags: [], systemTags: ['user:u'], params: {}, flowFile: 'f.ts', sourceSha: '', host: 'h', pid: 1 };

describe('blobs', () => {
  it('stores identical values once, under their sha256', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const v = { x: medium() };
    const a = await ds.putArtifact('a', v);
    const b = await ds.putArtifact('b', { ...v });
    expect(a.sha).toBe(b.sha);
    expect(a.sha).toMatch(/^[0-9a-f]{64}$/);
    const files = fs.readdirSync(path.join(root, 'F', 'data', a.sha.slice(0, 2)));
    expect(files).toEqual([a.sha]);
    expect(await ds.getArtifact('a', a)).toEqual(v);
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
    await Promise.all(Array.from({ length: 20 }, (_, i) => ds.putArtifact('x', { i, pad: medium() })));
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [e.name]));
    expect(walk(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a blob that no longer matches its hash is an IntegrityError naming artifact and blob', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const ref = await ds.putArtifact('weights', medium());
    fs.writeFileSync(path.join(root, 'F', 'data', ref.sha.slice(0, 2), ref.sha), medium());
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
  it('a corrupt small blob (same size, or truncated) is replaced by the next write of its bytes', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const w = medium();
    const ref = await ds.putArtifact('w', w);
    expect(ref.encoding).toBe('none');
    const bytes = fs.readFileSync(blobFile(root, ref));
    bytes[10] ^= 1;
    fs.writeFileSync(blobFile(root, ref), bytes);
    expect(await ds.checkBlob(ref)).toMatchObject({ status: 'corrupt', why: expect.stringMatching(/^has sha256 [0-9a-f]{64}$/) });
    await ds.putArtifact('again', w);
    expect(await ds.getArtifact('w', ref)).toEqual(w);
    fs.writeFileSync(blobFile(root, ref), bytes.subarray(0, 100));
    await ds.putArtifact('again', w);
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

describe('task records: one journal per step, committed in batches', () => {
  const doneOf = (runId: string, id: string, artifacts = {}) => ({
    pathspec: `F/${runId}/s/${id}`, step: 's', taskId: id, attempt: 0, artifacts, foreachStack: [], inputs: [], startedAt: '', finishedAt: '', key: `s/x:${id}`,
  });
  const entries = (runId: string, id: string) => [
    { kind: 'attempt' as const, taskId: id, attempt: { pathspec: `F/${runId}/s/${id}`, attempt: 0, status: 'done' as const, startedAt: '' } },
    { kind: 'done' as const, taskId: id, done: doneOf(runId, id) },
  ];

  it('records reported in one turn share one batch; each is readable once commit() resolves', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const run = await ds.createRun(runBase);
    const journal = new TaskJournal(ds, run.runId);
    await Promise.all(Array.from({ length: 50 }, (_, i) => journal.commit('s', entries(run.runId, String(i + 1)))));
    expect(journal.stats).toEqual({ batches: 1, entries: 100 });
    expect(await ds.listTasks(run.runId, 's')).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
    expect(await ds.readDone(run.runId, 's', '7')).toEqual(doneOf(run.runId, '7'));
    await journal.commit('s', entries(run.runId, '51'));
    expect(journal.stats.batches).toBe(2);
    expect(ds.readDoneSync(run.runId, 's', '51')).toEqual(doneOf(run.runId, '51'));
    await journal.close();
    // every task has its own files only when it printed: here the step is one file
    expect(fs.readdirSync(path.join(root, 'F', 'runs', run.runId, 's'))).toEqual(['tasks.jsonl']);
  });

  it('a torn batch is not read; a damaged line is reported with its file and line, and its task is not done', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const run = await ds.createRun(runBase);
    const journal = new TaskJournal(ds, run.runId);
    await journal.commit('s', [...entries(run.runId, '1'), ...entries(run.runId, '2')]);
    await journal.close();
    const file = path.join(root, 'F', 'runs', run.runId, 's', 'tasks.jsonl');
    // a crash in the middle of a batch: the half line is not a record
    fs.appendFileSync(file, JSON.stringify(entries(run.runId, '3')[1]).slice(0, 40));
    expect(await ds.listTasks(run.runId, 's')).toEqual(['1', '2']);
    expect((await ds.stepRecords(run.runId, 's')).damaged).toEqual([]);
    // the same half line, completed by garbage: line 5 is damaged, the others still read; the
    // task it names is listed, not done, with the reason
    fs.appendFileSync(file, 'garbage\n{"some": "thing"}\n');
    const r = await ds.stepRecords(run.runId, 's');
    expect([...r.tasks.keys()]).toEqual(['1', '2', '3']);
    expect(r.tasks.get('3')!.done).toBeUndefined();
    expect(r.tasks.get('3')).toMatchObject({ damaged: expect.stringMatching(new RegExp(`^${file}:5: a task record is damaged \\(.*JSON.*\\)$`)) });
    expect(r.damaged).toEqual([`${r.tasks.get('3')!.damaged}; that task counts as not done`, `${file}:6: not a flowbook task record; skipped`]);
    // a journal damaged in place (read by a process that had not read it before)
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"taskId":"2","done"', '"taskId":"2","dxne"'));
    clearRecordCache();
    expect(await ds.readDone(run.runId, 's', '2')).toBeUndefined();
    expect((await ds.stepRecords(run.runId, 's')).damaged[0]).toBe(`${file}:4: not a flowbook task record; skipped`);
    expect(await ds.readDone(run.runId, 's', '1')).toEqual(doneOf(run.runId, '1'));
    cut(path.join(root, 'F', 'runs', run.runId, 'run.json'), 10);
    await expect(ds.readRun(run.runId)).rejects.toThrow(`cannot read ${path.join(root, 'F', 'runs', run.runId, 'run.json')}: truncated or not JSON (`);
    // absent is "not committed", not an error
    expect(await ds.readDone(run.runId, 's', '9')).toBeUndefined();
  });

  it('a run written before journals (a DONE.json and attempt files per task folder) still reads', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const run = await ds.createRun({ ...runBase, graph: { order: ['s'], nodes: { s: { type: 'end', out: [] } } } });
    const dir = path.join(root, 'F', 'runs', run.runId, 's');
    const done = doneOf(run.runId, '2');
    fs.mkdirSync(path.join(dir, '2'), { recursive: true });
    fs.writeFileSync(path.join(dir, '2', 'attempt-0.json'), JSON.stringify({ pathspec: done.pathspec, attempt: 0, status: 'done', startedAt: 'a', finishedAt: 'b' }));
    fs.writeFileSync(path.join(dir, '2', 'DONE.json'), JSON.stringify(done));
    fs.mkdirSync(path.join(dir, '3'));
    fs.writeFileSync(path.join(dir, '3', 'attempt-0.json'), JSON.stringify({ pathspec: `F/${run.runId}/s/3`, attempt: 0, status: 'failed', startedAt: 'a' }));
    fs.writeFileSync(path.join(dir, '3', 'DONE.json'), '{"pathspec": "F/');
    expect(await ds.listSteps(run.runId)).toEqual(['s']);
    const r = await ds.stepRecords(run.runId, 's');
    expect([...r.tasks.keys()].sort()).toEqual(['2', '3']);
    expect(r.tasks.get('2')!.done).toEqual(done);
    expect(r.tasks.get('2')!.attempts.map((a) => a.status)).toEqual(['done']);
    expect(r.tasks.get('3')!.done).toBeUndefined();
    expect(r.tasks.get('3')!.damaged).toMatch(new RegExp(`^${path.join(dir, '3', 'DONE.json')}: a task record is damaged \\(`));
    clearRecordCache();
    expect(ds.readDoneSync(run.runId, 's', '2')).toEqual(done);
  });

  it('a batch that cannot be written fails the commit with one line naming the journal', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const run = await ds.createRun(runBase);
    fs.mkdirSync(path.join(root, 'F', 'runs', run.runId, 's', 'tasks.jsonl'), { recursive: true }); // a folder where the file goes
    const journal = new TaskJournal(ds, run.runId);
    await expect(journal.commit('s', entries(run.runId, '1'))).rejects.toThrow(`cannot record 2 task record(s) in ${path.join(root, 'F', 'runs', run.runId, 's', 'tasks.jsonl')}: `);
    await journal.close();
  });

  it('small artifacts travel inside the record; larger ones are blobs', async () => {
    const root = tmp();
    const ds = new FlowDatastore(root, 'F');
    const small = await ds.putArtifact('y', 42);
    expect(small).toMatchObject({ inline: Buffer.from('42').toString('base64'), stored: 2 });
    expect(fs.existsSync(path.join(root, 'F', 'data'))).toBe(false);
    expect(await ds.getArtifact('y', small)).toBe(42);
    expect(ds.getArtifactSync('y', small)).toBe(42);
    await expect(ds.getArtifact('y', { ...small, inline: Buffer.from('43').toString('base64') })).rejects.toThrow(IntegrityError);
    const big = await ds.putArtifact('z', 'x'.repeat(INLINE_MAX + 1));
    expect(big.inline).toBeUndefined();
    expect(fs.existsSync(blobFile(root, big))).toBe(true);
  });
});

const cut = (file: string, n: number) => fs.writeFileSync(file, fs.readFileSync(file).subarray(0, n));

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
