// Datastore hardening, end to end on the local and the S3 backend: a corrupt blob is rewritten by
// the next run that produces its bytes (it used to poison every such run), `flowbook verify`
// finds it and --repair removes it; a truncated DONE.json names its file, counts as "not done"
// (resume re-runs the task, the client lists it as unsuccessful) instead of blocking everything.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, errorLine, REPO } from './helpers.js';
import { startS3, type TestS3 } from '../s3/server.js';

interface Backend {
  name: string;
  env: Record<string, string>;
  /** the file on disk behind a datastore key (for s3rver: its object file) */
  file(key: string): string;
}

let s3: TestS3;
const local = (): Backend => {
  const root = tempDir();
  return { name: 'local', env: { FLOWBOOK_HOME: root, FLOWBOOK_DATASTORE: 'local' }, file: (key) => path.join(root, key) };
};
const onS3 = (prefix: string): Backend => ({
  name: 's3',
  env: s3.env(prefix),
  file: (key) => path.join(s3.dir, s3.bucket, prefix, `${key}._S3rver_object`),
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

/** The blob key of the end task's `x` (LinearFlow's x is 20: the JSON bytes "20"). */
function xBlob(b: Backend, runId: string): string {
  const done = JSON.parse(fs.readFileSync(b.file(`LinearFlow/runs/${runId}/end/4/DONE.json`), 'utf8'));
  const sha = done.artifacts.x.sha as string;
  return `LinearFlow/data/${sha.slice(0, 2)}/${sha}`;
}

const readX = (b: Backend, runId: string) => client(b, `return (await Flow('LinearFlow').run('${runId}')).data.x;`);

describe.each(['local', 's3'])('a corrupt blob on the %s datastore', (kind) => {
  let b: Backend;
  beforeAll(() => {
    b = kind === 'local' ? local() : onS3(`hardening-blob-${Date.now()}`);
  });

  it('is rewritten by the next run that produces the same bytes (same size: caught by the hash)', () => {
    const first = runLinear(b);
    const blob = b.file(xBlob(b, first));
    expect(fs.readFileSync(blob, 'utf8')).toBe('20');
    fs.writeFileSync(blob, '21'); // a flipped bit: same size
    expect(readX(b, first)).toMatch(/^IntegrityError: artifact 'x' is corrupted/);
    const second = runLinear(b);
    expect(readX(b, second)).toBe('20');
    // the shared blob is sound again, so the first run reads too
    expect(readX(b, first)).toBe('20');
  });

  it('is rewritten when truncated (caught by the size check)', () => {
    const first = runLinear(b);
    const blob = b.file(xBlob(b, first));
    fs.writeFileSync(blob, '2');
    expect(readX(b, runLinear(b))).toBe('20');
    expect(fs.readFileSync(blob, 'utf8')).toBe('20');
  });

  it('flowbook verify reports it with the artifacts that use it and exits 1; --repair removes it', () => {
    const runId = runLinear(b);
    const key = xBlob(b, runId);
    const ok = flowbook(['verify', `LinearFlow/${runId}`], { env: b.env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^checked \d+ blobs: \d+ ok, 0 corrupt, 0 missing$/m);

    fs.writeFileSync(b.file(key), '21');
    const bad = flowbook(['verify', `LinearFlow/${runId}`], { env: b.env });
    expect(bad.code).toBe(1);
    const line = bad.stdout.split('\n').find((l) => l.startsWith('corrupt:'))!;
    expect(line).toContain(key);
    expect(line).toContain(`LinearFlow/${runId}/end/4/x`);
    expect(line).toContain(`LinearFlow/${runId}/b/3/x`);
    expect(bad.stdout).toMatch(/^checked (\d+) blobs: \d+ ok, 1 corrupt, 0 missing$/m);

    // one task only
    const task = flowbook(['verify', `LinearFlow/${runId}/end/4`], { env: b.env });
    expect(task.code).toBe(1);
    expect(task.stdout).toMatch(/^checked 2 blobs: 1 ok, 1 corrupt, 0 missing$/m);

    const repair = flowbook(['verify', `LinearFlow/${runId}`, '--repair'], { env: b.env });
    expect(repair.code).toBe(1);
    expect(fs.existsSync(b.file(key))).toBe(false);
    expect(repair.stdout).toMatch(/^removed 1 corrupt blob\(s\); now missing data: .*LinearFlow\/\d+\/end\/4\/x/m);
    // blobs are shared: every earlier run of this flow now misses that data, and is named
    expect(repair.stdout).toMatch(new RegExp(`^runs missing data: .*LinearFlow/${runId}`, 'm'));

    const after = flowbook(['verify', `LinearFlow/${runId}`], { env: b.env });
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/^missing: blob .*, used by .*end\/4\/x/m);
    expect(after.stdout).toMatch(/^checked \d+ blobs: \d+ ok, 0 corrupt, 1 missing$/m);
    expect(readX(b, runId)).toMatch(/^IntegrityError: artifact 'x' is missing its blob/);

    // the next run that produces the bytes stores them again
    runLinear(b);
    expect(flowbook(['verify', `LinearFlow/${runId}`], { env: b.env }).code).toBe(0);
    expect(readX(b, runId)).toBe('20');
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
    expect(errorLine(none)).toBe('error: run not found: LinearFlow/123');
  });
});

describe.each(['local', 's3'])('a truncated DONE.json on the %s datastore', (kind) => {
  it('names its file, counts as not done: the client lists the task, resume re-runs it', () => {
    const b = kind === 'local' ? local() : onS3(`hardening-done-${Date.now()}`);
    const runId = runLinear(b);
    const key = `LinearFlow/runs/${runId}/a/2/DONE.json`;
    const file = b.file(key);
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 100));
    const where = kind === 'local' ? file : `${b.env.FLOWBOOK_S3_ROOT}/${key}`;
    const why = `cannot read ${where}: truncated or not JSON (`;

    // step.tasks() works; the task is not successful; its data says why, naming the file
    const listed = JSON.parse(client(b, `const s = await (await Flow('LinearFlow').run('${runId}')).step('a');
      return (await s.tasks()).map((t) => [t.pathspec, t.successful, t.finished]);`));
    expect(listed).toEqual([[`LinearFlow/${runId}/a/2`, false, false]]);
    const data = client(b, `const t = await (await (await Flow('LinearFlow').run('${runId}')).step('a')).task; return t.data.x;`);
    expect(data.startsWith(`IntegrityError: task LinearFlow/${runId}/a/2 did not finish: ${why}`), data).toBe(true);
    expect(data).toMatch(/ JSON.*\)$/); // the parser's own words: "Unexpected end of JSON input", "Unterminated string in JSON…"
    const dump = flowbook(['dump', `LinearFlow/${runId}/a/2/x`], { env: b.env });
    expect(dump.code).toBe(1);
    expect(errorLine(dump)).toContain(`did not finish: ${why}`);

    // verify says so too
    const v = flowbook(['verify', `LinearFlow/${runId}`], { env: b.env });
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`unreadable: ${why}`);

    // resume re-runs that task (and clones the others) and succeeds
    const r = flowbook(['resume', fixture('linear.ts'), '--origin-run-id', runId], { env: b.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: ${why}`);
    expect(r.stderr).toMatch(/ran 1 task\(s\):\s+LinearFlow\/\d+\/a\/2/);
    expect(r.stderr).toMatch(/cloned 3 task\(s\)/);
    const resumed = /LinearFlow\/(\d+) succeeded/.exec(r.stderr)![1];
    expect(client(b, `return (await Flow('LinearFlow').run('${resumed}')).data.x;`)).toBe('20');
  });

  it('a truncated run.json names its file', () => {
    const b = local();
    const runId = runLinear(b);
    const file = b.file(`LinearFlow/runs/${runId}/run.json`);
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 50));
    const r = flowbook(['resume', fixture('linear.ts'), '--origin-run-id', runId], { env: b.env });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(new RegExp(`^error: cannot read ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated or not JSON \\(`));
  });
});
