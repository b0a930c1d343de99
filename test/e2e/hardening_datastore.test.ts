// Datastore hardening, end to end on the local and the S3 backend: a corrupt blob is rewritten by
// the next run that produces its bytes (it used to poison every such run), `flowbook verify`
// finds it and --repair removes it; a damaged task record (a complete journal line that does not
// parse) names its file and line, counts as "not done" (resume re-runs the task, the client lists
// it as unsuccessful) instead of blocking everything.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, errorLine, REPO } from './helpers.js';
import { startS3, type TestS3 } from '../doubles/s3/server.js';

interface Backend {
  name: string;
  env: Record<string, string>;
  /** the file on disk behind a datastore key (for s3rver: its object file) */
  file(key: string): string;
  /** the keys of a step's task journal, in order (local: one file; S3: one object per batch) */
  journal(stepKey: string): string[];
}

let s3: TestS3;
const local = (): Backend => {
  const root = tempDir();
  return { name: 'local', env: { FLOWBOOK_HOME: root, FLOWBOOK_DATASTORE: 'local' }, file: (key) => path.join(root, key), journal: (stepKey) => [`${stepKey}/tasks.jsonl`] };
};
const S3_OBJECT = '._S3rver_object';
const onS3 = (prefix: string): Backend => ({
  name: 's3',
  env: s3.env(prefix),
  file: (key) => path.join(s3.dir, s3.bucket, prefix, `${key}${S3_OBJECT}`),
  journal: (stepKey) =>
    fs
      .readdirSync(path.join(s3.dir, s3.bucket, prefix, stepKey, 'tasks'))
      .filter((n) => n.endsWith(`.jsonl${S3_OBJECT}`))
      .map((n) => `${stepKey}/tasks/${n.slice(0, -S3_OBJECT.length)}`)
      .sort(),
});

beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

function runLinear(b: Backend): string {
  const r = flowbook(['run', fixture('linear.ts'), '--quiet'], { env: b.env });
  expect(r.code, r.stderr).toBe(0);
  return /LinearFlow\/(\d+) succeeded/.exec(r.stderr)![1];
}

/** Read through the client in a fresh process; prints `value` or `ErrorName: message`. */
function client(b: Backend, body: string) {
  const code = `import { Flow, namespace } from 'flowbook'; namespace(null);
    try { console.log(JSON.stringify(await (async () => { ${body} })())); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, env: { ...process.env, ...b.env }, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

interface JournalLine {
  key: string;
  /** 1-based, as messages count */
  line: number;
  text: string;
  entry: any;
}

/** Every complete line of a step's task journal, parsed. */
function journalLines(b: Backend, runId: string, step: string): JournalLine[] {
  const out: JournalLine[] = [];
  for (const key of b.journal(`LinearFlow/runs/${runId}/${step}`)) {
    const lines = fs.readFileSync(b.file(key), 'utf8').split('\n');
    lines.pop(); // after the last newline
    lines.forEach((text, i) => out.push({ key, line: i + 1, text, entry: JSON.parse(text) }));
  }
  return out;
}

/** The journal line that commits a task (its `done` record). */
function doneLine(b: Backend, runId: string, step: string, taskId: string): JournalLine {
  const found = journalLines(b, runId, step).filter((l) => l.entry.kind === 'done' && l.entry.taskId === taskId);
  expect(found).toHaveLength(1);
  return found[0];
}

/**
 * The blob of the end task's `noise` (LinearFlow's 1 KiB of incompressible bytes, set in step b):
 * too big to be kept in the record, and stored as is (no gzip), so its file holds the bytes.
 */
function noiseBlob(b: Backend, runId: string): string {
  const ref = doneLine(b, runId, 'end', '4').entry.done.artifacts.noise;
  expect(ref).toMatchObject({ size: 1024, stored: 1024, encoding: 'none', serializer: 'raw' });
  expect(ref.inline).toBeUndefined();
  const sha = ref.sha as string;
  return `LinearFlow/data/${sha.slice(0, 2)}/${sha}`;
}

const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');
const readX = (b: Backend, runId: string) => client(b, `return (await Flow('LinearFlow').run('${runId}')).data.x;`);
/** the bytes of `noise` as the client reads them (base64, JSON-quoted), or its error */
const readNoise = (b: Backend, runId: string) => client(b, `return Buffer.from(await (await Flow('LinearFlow').run('${runId}')).data.noise).toString('base64');`);
const quoted = (bytes: Buffer) => JSON.stringify(bytes.toString('base64'));

describe.each(['local', 's3'])('a corrupt blob on the %s datastore', (kind) => {
  let b: Backend;
  beforeAll(() => {
    b = kind === 'local' ? local() : onS3(`hardening-blob-${Date.now()}`);
  });

  it('is rewritten by the next run that produces the same bytes (same size: caught by the hash)', () => {
    const first = runLinear(b);
    const key = noiseBlob(b, first);
    const blob = b.file(key);
    const good = fs.readFileSync(blob);
    expect(sha256(good)).toBe(path.basename(key));
    expect(readNoise(b, first)).toBe(quoted(good));
    const flipped = Buffer.from(good);
    flipped[100] ^= 1; // a flipped bit: same size
    fs.writeFileSync(blob, flipped);
    expect(readNoise(b, first)).toMatch(/^IntegrityError: artifact 'noise' is corrupted/);
    const second = runLinear(b);
    expect(noiseBlob(b, second)).toBe(key);
    expect(readNoise(b, second)).toBe(quoted(good));
    // the shared blob is sound again, so the first run reads too
    expect(fs.readFileSync(blob).equals(good)).toBe(true);
    expect(readNoise(b, first)).toBe(quoted(good));
  });

  it('is rewritten when truncated (caught by the size check)', () => {
    const first = runLinear(b);
    const blob = b.file(noiseBlob(b, first));
    const good = fs.readFileSync(blob);
    fs.writeFileSync(blob, good.subarray(0, 1000));
    expect(readNoise(b, first)).toMatch(/^IntegrityError: artifact 'noise' is corrupted/);
    expect(readNoise(b, runLinear(b))).toBe(quoted(good));
    expect(fs.readFileSync(blob).equals(good)).toBe(true);
  });

  it('flowbook verify reports it with the artifacts that use it and exits 1; --repair removes it', () => {
    const runId = runLinear(b);
    const key = noiseBlob(b, runId);
    const ok = flowbook(['verify', `LinearFlow/${runId}`], { env: b.env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^checked \d+ small artifact\(s\) kept in task records$/m);
    expect(ok.stdout).toMatch(/^checked 1 blobs: 1 ok, 0 corrupt, 0 missing$/m);

    const good = fs.readFileSync(b.file(key));
    const flipped = Buffer.from(good);
    flipped[0] ^= 0x80;
    fs.writeFileSync(b.file(key), flipped);
    const bad = flowbook(['verify', `LinearFlow/${runId}`], { env: b.env });
    expect(bad.code).toBe(1);
    const line = bad.stdout.split('\n').find((l) => l.startsWith('corrupt:'))!;
    expect(line).toContain(key);
    expect(line).toContain(`LinearFlow/${runId}/end/4/noise`);
    expect(line).toContain(`LinearFlow/${runId}/b/3/noise`);
    expect(bad.stdout).toMatch(/^checked 1 blobs: 0 ok, 1 corrupt, 0 missing$/m);

    // one task only: its small artifacts (x, trail) are checked in its record, its blob is corrupt
    const task = flowbook(['verify', `LinearFlow/${runId}/end/4`], { env: b.env });
    expect(task.code).toBe(1);
    expect(task.stdout).toMatch(/^checked 2 small artifact\(s\) kept in task records$/m);
    expect(task.stdout).toMatch(/^checked 1 blobs: 0 ok, 1 corrupt, 0 missing$/m);
    // a task that does not use it is sound
    const start = flowbook(['verify', `LinearFlow/${runId}/start/1`], { env: b.env });
    expect(start.code, start.stdout).toBe(0);
    expect(start.stdout).toMatch(/^checked 0 blobs: 0 ok, 0 corrupt, 0 missing$/m);

    const repair = flowbook(['verify', `LinearFlow/${runId}`, '--repair'], { env: b.env });
    expect(repair.code).toBe(1);
    expect(fs.existsSync(b.file(key))).toBe(false);
    expect(repair.stdout).toMatch(/^removed 1 corrupt blob\(s\); now missing data: .*LinearFlow\/\d+\/end\/4\/noise/m);
    // blobs are shared: every earlier run of this flow now misses that data, and is named
    expect(repair.stdout).toMatch(new RegExp(`^runs missing data: .*LinearFlow/${runId}`, 'm'));

    const after = flowbook(['verify', `LinearFlow/${runId}`], { env: b.env });
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/^missing: blob .*, used by .*end\/4\/noise/m);
    expect(after.stdout).toMatch(/^checked 1 blobs: 0 ok, 0 corrupt, 1 missing$/m);
    expect(readNoise(b, runId)).toMatch(/^IntegrityError: artifact 'noise' is missing its blob/);
    expect(readX(b, runId)).toBe('20'); // kept in the record: not affected

    // the next run that produces the bytes stores them again
    runLinear(b);
    expect(flowbook(['verify', `LinearFlow/${runId}`], { env: b.env }).code).toBe(0);
    expect(readNoise(b, runId)).toBe(quoted(good));
  });
});

describe('verify: usage errors are one line', () => {
  it('wrong depth, unknown run', () => {
    const b = local();
    runLinear(b);
    const depth = flowbook(['verify', 'LinearFlow'], { env: b.env });
    expect(depth.code).toBe(1);
    expect(errorLine(depth)).toBe('error: verify takes Flow/run or Flow/run/step/task, got "LinearFlow"');
    const none = flowbook(['verify', 'LinearFlow/123'], { env: b.env });
    expect(none.code).toBe(1);
    expect(errorLine(none)).toBe(`error: run not found: LinearFlow/123 in datastore ${b.env.FLOWBOOK_HOME}`);
  });

  it('latest and latest-successful as dump takes them', () => {
    const b = local();
    runLinear(b);
    for (const run of ['latest', 'latest-successful']) {
      const r = flowbook(['verify', `LinearFlow/${run}`], { env: b.env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/checked \d+ blobs: \d+ ok, 0 corrupt, 0 missing/);
    }
  });
});


describe.each(['local', 's3'])('a damaged task record on the %s datastore', (kind) => {
  it('names its file and line, counts as not done: the client lists the task, resume re-runs it', () => {
    const b = kind === 'local' ? local() : onS3(`hardening-done-${Date.now()}`);
    const runId = runLinear(b);
    // cut a/2's done line short, its newline kept: a complete line that does not parse (a torn
    // batch, without its newline, would be ignored instead)
    const rec = doneLine(b, runId, 'a', '2');
    const file = b.file(rec.key);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines[rec.line - 1]).toBe(rec.text);
    lines[rec.line - 1] = rec.text.slice(0, 100);
    expect(lines[rec.line - 1]).toContain('"taskId":"2"');
    fs.writeFileSync(file, lines.join('\n'));
    expect(fs.readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    const where = kind === 'local' ? file : `${b.env.FLOWBOOK_S3_ROOT}/${rec.key}`;
    const why = `${where}:${rec.line}: a task record is damaged (`;

    // step.tasks() works; the task is not successful; its data says why, naming the file and line
    const listed = JSON.parse(client(b, `const s = await (await Flow('LinearFlow').run('${runId}')).step('a');
      return (await s.tasks()).map((t) => [t.pathspec, t.successful, t.finished]);`));
    expect(listed).toEqual([[`LinearFlow/${runId}/a/2`, false, false]]);
    const data = client(b, `const t = await (await (await Flow('LinearFlow').run('${runId}')).step('a')).task; return t.data.x;`);
    expect(data.startsWith(`IntegrityError: task LinearFlow/${runId}/a/2 did not finish: ${why}`), data).toBe(true);
    expect(data).toMatch(/ JSON.*\)$/); // the parser's own words: "Unterminated string in JSON…", "Expected ',' or '}' … in JSON…"
    const dump = flowbook(['dump', `LinearFlow/${runId}/a/2/x`], { env: b.env });
    expect(dump.code).toBe(1);
    expect(errorLine(dump)).toContain(`did not finish: ${why}`);

    // verify says so too
    const v = flowbook(['verify', `LinearFlow/${runId}`], { env: b.env });
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(new RegExp(`^unreadable: ${esc(why)}.*\\); that task counts as not done$`, 'm'));

    // resume re-runs that task (and clones the others) and succeeds
    const r = flowbook(['resume', fixture('linear.ts'), '--origin-run-id', runId], { env: b.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^warning: ${esc(why)}.*\\); that task counts as not done$`, 'm'));
    // a task run again may get a new id (resume keeps the ids of the tasks it clones)
    expect(r.stderr).toMatch(/ran 1 task\(s\):\s+LinearFlow\/\d+\/a\/\d+\s*$/m);
    expect(r.stderr).toMatch(/cloned 3 task\(s\)/);
    const resumed = /LinearFlow\/(\d+) succeeded/.exec(r.stderr)![1];
    expect(readX(b, resumed)).toBe('20');
    const a = JSON.parse(client(b, `const s = await (await Flow('LinearFlow').run('${resumed}')).step('a');
      return (await s.tasks()).map((t) => [t.successful, t.origin ?? null, t.pathspec]);`));
    expect(a).toEqual([[true, null, expect.stringMatching(new RegExp(`^LinearFlow/${resumed}/a/\\d+$`))]]);
    // b, cloned, names the task that ran again as its input (not the damaged one, absent here)
    const bInputs = JSON.parse(client(b, `const t = await (await (await Flow('LinearFlow').run('${resumed}')).step('b')).task;
      return [t.origin, (await t.metadata).inputs];`));
    expect(bInputs).toEqual([`LinearFlow/${runId}/b/3`, [a[0][2]]]);
  });

  it('a truncated run.json names its file', () => {
    const b = local();
    const runId = runLinear(b);
    const file = b.file(`LinearFlow/runs/${runId}/run.json`);
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 50));
    const r = flowbook(['resume', fixture('linear.ts'), '--origin-run-id', runId], { env: b.env });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(new RegExp(`^error: cannot read ${esc(file)}: truncated or not JSON \\(`));
  });
});

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
