// Reading a step's journal a piece at a time (journal-read.ts reads a local journal 1 MiB at a
// time): records across the pieces, a line longer than a piece, non-ASCII text, damaged lines
// numbered across pieces, a torn end; and the records of a step sharing the values they repeat.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlowDatastore } from '../../src/datastore/store.js';
import { clearRecordCache } from '../../src/datastore/task-records.js';
import type { TaskDone } from '../../src/datastore/metadata.js';

const runBase = { status: 'running' as const, createdAt: '', user: 'u', tags: [], systemTags: ['user:u'], params: {}, flowFile: 'f.ts', sourceSha: '', host: 'h', pid: 1 };
const ref = (sha: string, inline?: string) => ({ sha, size: 1, stored: 1, serializer: 'json' as const, type: 'number', encoding: 'none' as const, ...(inline ? { inline } : {}) });

const doneOf = (runId: string, id: string, extra: Partial<TaskDone> = {}): TaskDone => ({
  pathspec: `F/${runId}/s/${id}`,
  step: 's',
  taskId: id,
  attempt: 0,
  artifacts: { xs: ref('a'.repeat(64)), y: ref(id.padStart(64, '0'), Buffer.from(id).toString('base64')) },
  foreachStack: [{ step: 'start', taskId: '1', field: 'xs', index: Number(id), count: 5000 }],
  inputs: [`F/${runId}/start/1`],
  startedAt: `2026-01-01T00:00:${id}Z`,
  finishedAt: '',
  key: `s/start:${id}`,
  next: ['join'],
  ...extra,
});
const line = (runId: string, id: string, extra?: Partial<TaskDone>) => JSON.stringify({ kind: 'done', taskId: id, done: doneOf(runId, id, extra) }) + '\n';

async function journalOf(): Promise<{ ds: FlowDatastore; runId: string; file: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-journal-'));
  const ds = new FlowDatastore(root, 'F');
  const { runId } = await ds.createRun(runBase);
  const file = path.join(root, 'F', 'runs', runId, 's', 'tasks.jsonl');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return { ds, runId, file };
}

describe('a journal bigger than one read', () => {
  it('reads every record; a line longer than a read, non-ASCII text and damaged lines (numbered across reads) included', async () => {
    const { ds, runId, file } = await journalOf();
    const ids = Array.from({ length: 5000 }, (_, i) => String(i + 1));
    // 5,000 lines of ~600 bytes: several reads; a damaged line past the first MiB
    const lines = ids.map((id) => line(runId, id));
    lines.splice(3000, 0, '{"kind":"done","taskId":"9999","done":{"pathsp\n');
    const long = 'é'.repeat(1_500_000);
    lines.push(line(runId, '5001', { key: long }), line(runId, '5002', { key: 'naïve' }));
    fs.writeFileSync(file, lines.join(''));
    expect(fs.statSync(file).size).toBeGreaterThan(5 * 2 ** 20);
    const r = await ds.stepRecords(runId, 's');
    expect(r.tasks.size).toBe(5003);
    expect(r.tasks.get('2500')!.done).toEqual(doneOf(runId, '2500'));
    expect(r.tasks.get('5001')!.done!.key).toBe(long);
    expect(r.tasks.get('5002')!.done!.key).toBe('naïve');
    expect(r.tasks.get('9999')!.done).toBeUndefined();
    expect(r.damaged).toEqual([expect.stringMatching(new RegExp(`^${file}:3001: a task record is damaged \\(.*\\); that task counts as not done$`))]);
    for (const id of ids) expect(r.tasks.get(id)!.done!.taskId).toBe(id);
    // the same, read afresh, synchronously
    clearRecordCache();
    expect(ds.stepRecordsSync(runId, 's').tasks.get('5002')!.done).toEqual(doneOf(runId, '5002', { key: 'naïve' }));
  });

  it('leaves a torn end unread until its line is complete, then reads on from there', async () => {
    const { ds, runId, file } = await journalOf();
    const body = Array.from({ length: 3000 }, (_, i) => line(runId, String(i + 1))).join('');
    const next = line(runId, '3001', { key: 'x'.repeat(2 ** 20) });
    fs.writeFileSync(file, body + next.slice(0, 2 ** 20 + 10));
    expect((await ds.stepRecords(runId, 's')).tasks.size).toBe(3000);
    expect(await ds.readDone(runId, 's', '3001')).toBeUndefined();
    fs.appendFileSync(file, next.slice(2 ** 20 + 10) + line(runId, '3002'));
    expect(await ds.readDone(runId, 's', '3001')).toEqual(doneOf(runId, '3001', { key: 'x'.repeat(2 ** 20) }));
    const r = await ds.stepRecords(runId, 's');
    expect(r.tasks.size).toBe(3002);
    expect(r.damaged).toEqual([]);
  });
});

describe('the records of a step', () => {
  it('share the values they repeat, and keep their own where they differ', async () => {
    const { ds, runId, file } = await journalOf();
    fs.writeFileSync(file, line(runId, '1') + line(runId, '2') + line(runId, '3', { inputs: [`F/${runId}/start/9`] }));
    const [a, b, c] = ['1', '2', '3'].map((id) => ds.readDoneSync(runId, 's', id)!);
    expect([a, b, c]).toEqual([doneOf(runId, '1'), doneOf(runId, '2'), doneOf(runId, '3', { inputs: [`F/${runId}/start/9`] })]);
    expect(b.artifacts.xs).toBe(a.artifacts.xs);
    expect(b.inputs).toBe(a.inputs);
    expect(b.next).toBe(a.next);
    expect(b.artifacts.y).not.toBe(a.artifacts.y);
    expect(b.artifacts).not.toBe(a.artifacts);
    expect(b.foreachStack).not.toBe(a.foreachStack);
    expect(c.inputs).not.toBe(b.inputs);
    expect(c.artifacts.xs).toBe(a.artifacts.xs);
  });

  it('share nothing whose names come in another order (a view lists them in its own order)', async () => {
    const { ds, runId, file } = await journalOf();
    const artifacts = (names: string[]) => Object.fromEntries(names.map((n) => [n, ref(n.repeat(64))]));
    fs.writeFileSync(file, line(runId, '1', { artifacts: artifacts(['a', 'b']) }) + line(runId, '2', { artifacts: artifacts(['b', 'a']) }));
    const [a, b] = ['1', '2'].map((id) => ds.readDoneSync(runId, 's', id)!);
    expect(Object.keys(a.artifacts)).toEqual(['a', 'b']);
    expect(Object.keys(b.artifacts)).toEqual(['b', 'a']);
    expect(b.artifacts.a).toBe(a.artifacts.a);
  });
});

describe('a reader of every record (a join opening its inputs)', () => {
  it('has lines parsed as they are read: the same records, the same damaged lines, attempts in order', async () => {
    const { ds, runId, file } = await journalOf();
    const attempt = (id: string, n: number, status: string) => JSON.stringify({ kind: 'attempt', taskId: id, attempt: { pathspec: `F/${runId}/s/${id}`, attempt: n, status, startedAt: '' } }) + '\n';
    fs.writeFileSync(file, line(runId, '1') + '{"kind":"done","taskId":"2","done":{"pa\n' + attempt('3', 0, 'failed') + '{"some": "thing"}\n');
    const lazily = await ds.stepRecords(runId, 's');
    const seen = { tasks: [...lazily.tasks.keys()], done: lazily.tasks.get('1')!.done, damaged: lazily.damaged };
    clearRecordCache();
    expect(await ds.readDone(runId, 's', '1', { readsStep: true })).toEqual(seen.done);
    const r = await ds.stepRecords(runId, 's');
    expect({ tasks: [...r.tasks.keys()], done: r.tasks.get('1')!.done, damaged: r.damaged }).toEqual(seen);
    expect(seen.damaged.map((d) => d.slice(file.length))).toEqual([expect.stringMatching(/^:2: a task record is damaged/), ':4: not a flowbook task record; skipped']);
    // lines kept as text before a reader of every record came are applied before the ones after
    clearRecordCache();
    expect((await ds.stepRecords(runId, 's')).tasks.get('3')!.attempts.map((a) => a.status)).toEqual(['failed']);
    fs.appendFileSync(file, attempt('3', 1, 'running') + line(runId, '3', { attempt: 1 }));
    expect(await ds.readDone(runId, 's', '3', { readsStep: true })).toEqual(doneOf(runId, '3', { attempt: 1 }));
    expect((await ds.stepRecords(runId, 's')).tasks.get('3')!.attempts.map((a) => [a.attempt, a.status])).toEqual([[0, 'failed'], [1, 'done']]);
  });
});
