// Runs never lie about their status: nothing transcribed is a failure, a killed runner's run reads
// `killed` and resumes, bad tags are refused before a run exists, memory requests are enforced
// with a clear message, and workers die with their runner whatever their step is doing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { flowbook, flowbookAsync, flowbookAsyncResult, fixture, tempDir, errorLine, exited, wait, runIdOf, childPids, pidAlive } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';
import { SHARED_DATA } from '../shared-data.js';

const root = tempDir();
/** tasks of a run that committed (DONE) */
async function countDone(runId: string): Promise<number> {
  let n = 0;
  for (const step of await (await Flow('HardeningFlow').run(runId)).steps()) for (const t of await step.tasks()) if (t.successful) n++;
  return n;
}

/** start a run in the background and resolve once a `work` task has printed that it started */
async function startedRun(args: string[]) {
  const child = flowbookAsync(['run', fixture('hardening.ts'), ...args], { root });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  for (let i = 0; i < 300 && !/work \d started/.test(out); i++) await wait(50);
  return { child, out: () => out };
}

beforeAll(() => {
  setDatastoreRoot(root);
  namespace(null);
});

describe('a run where every input failed does not succeed', () => {
  let server: http.Server;
  let base = '';
  const clips = tempDir('flowbook-bad-clips-');
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(404).end('no such file')).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fs.writeFileSync(path.join(clips, 'corrupt.wav'), Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(3000, 7)]));
    fs.writeFileSync(path.join(clips, 'empty.wav'), '');
    fs.copyFileSync(path.join(SHARED_DATA, 'audio/jfk.wav'), path.join(clips, 'jfk.wav'));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('corrupt, empty, HTTP 404 and a refused connection: non-zero exit, each named with its reason, not latestSuccessfulRun', async () => {
    const list = path.join(clips, 'bad.txt');
    fs.writeFileSync(list, [path.join(clips, 'corrupt.wav'), path.join(clips, 'empty.wav'), `${base}/missing.wav`, 'http://127.0.0.1:9/refused.wav'].join('\n'));
    const before = (await Flow('YouTubeVideoTranscription').latestSuccessfulRun.catch(() => undefined))?.id;
    // not spawnSync: this process serves the 404s
    const r = await flowbookAsyncResult(['run', 'flows/youtube_transcription.ts', '--urls', list, '--model', 'sphinx-en-us'], { root });
    expect(r.code).toBe(1);
    const line = errorLine(r)!;
    expect(line).toMatch(/failed at YouTubeVideoTranscription\/\d+\/postprocess\/\d+: no video was transcribed \(4 failed\): /);
    for (const name of ['corrupt', 'empty', 'missing', 'refused']) expect(line).toContain(`${name}: `);
    expect(line).toMatch(/404/);
    const latestOk = (await Flow('YouTubeVideoTranscription').latestSuccessfulRun.catch(() => undefined))?.id;
    expect(latestOk).toBe(before);
    expect((await Flow('YouTubeVideoTranscription').latestRun)!.successful).toBe(false);
  }, 120_000);

  it('a partial success stays a success, with the failures listed in the results and on the CLI', async () => {
    const list = path.join(clips, 'mixed.txt');
    fs.writeFileSync(list, [path.join(clips, 'jfk.wav'), path.join(clips, 'corrupt.wav')].join('\n'));
    const r = flowbook(['run', 'flows/youtube_transcription.ts', '--urls', list, '--model', 'sphinx-en-us'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/1 of 2 video\(s\) transcribed/);
    expect(r.stdout + r.stderr).toMatch(/1 failed \(listed in results\.error\): corrupt: /);
    const rows = (await (await Flow('YouTubeVideoTranscription').latestSuccessfulRun)!.data.rows) as any[];
    expect(rows.find((x) => x.title === 'corrupt').error).toMatch(/^cannot decode corrupt\.wav/);
  }, 120_000);
});

describe('runs never stay "running"', () => {
  it('a runner killed with -9 leaves a run that reads `killed` (client, dump, status filter) and that resume finds', async () => {
    const { child, out } = await startedRun(['--mode', 'slow']);
    const id = runIdOf(out());
    child.kill('SIGKILL');
    await exited(child);
    const run = await Flow('HardeningFlow').run(id);
    expect(run.status).toBe('killed');
    expect(run.finished).toBe(false);
    expect(run.successful).toBe(false);
    expect((await Flow('HardeningFlow').runs({ status: 'killed' })).map((x) => x.id)).toContain(id);
    const dump = flowbook(['dump', `HardeningFlow/${id}`], { root });
    expect(dump.stderr).toContain(`HardeningFlow/${id}: killed (its runner is gone; continue it with: flowbook resume FLOW_FILE --origin-run-id ${id})`);
    const resumed = flowbook(['resume', fixture('hardening.ts')], { root });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`Resumed from HardeningFlow/${id}`);
    expect(await (await Flow('HardeningFlow').latestSuccessfulRun)!.data.ys).toEqual([0, 10, 20]);
  }, 60_000);

  it('a double crash re-runs nothing that finished: resume clones from the chain of origins; a second resume of one origin is refused', async () => {
    const { child: a, out: outA } = await startedRun(['--mode', 'slow', '--n', '6']);
    const idA = runIdOf(outA());
    for (let i = 0; i < 200 && (outA().match(/work \d started/g) ?? []).length < 4; i++) await wait(50);
    a.kill('SIGKILL');
    await exited(a);
    const doneInA = (await (await Flow('HardeningFlow').run(idA)).steps()).length ? await countDone(idA) : 0;
    expect(doneInA).toBeGreaterThanOrEqual(2); // start and at least one work task

    // B resumes A, is killed at once (before it could clone or run much)
    const b = flowbookAsync(['resume', fixture('hardening.ts'), '--origin-run-id', idA], { root });
    let outB = '';
    b.stderr.on('data', (c) => (outB += c));
    for (let i = 0; i < 200 && !/Resuming HardeningFlow\/\d+/.test(outB); i++) await wait(20);
    const idB = runIdOf(outB);
    // meanwhile, a second resume of A is refused, naming B
    const second = flowbook(['resume', fixture('hardening.ts'), '--origin-run-id', idA], { root });
    expect(second.code).toBe(1);
    expect(errorLine(second)).toBe(`error: run HardeningFlow/${idA} is already being resumed by run HardeningFlow/${idB} (pid ${b.pid} on ${os.hostname()})`);
    b.kill('SIGKILL');
    await exited(b);

    // C resumes B: everything A or B finished is cloned, nothing done twice
    const c = flowbook(['resume', fixture('hardening.ts'), '--origin-run-id', idB], { root });
    expect(c.code, c.stderr).toBe(0);
    const cloned = Number(/cloned (\d+) task\(s\)/.exec(c.stderr)![1]);
    const ran = Number(/ran (\d+) task\(s\)/.exec(c.stderr)![1]);
    expect(cloned).toBeGreaterThanOrEqual(doneInA);
    expect(cloned + ran).toBe(9); // start + 6 work + join + end
    expect(await (await Flow('HardeningFlow').latestSuccessfulRun)!.data.ys).toEqual([0, 10, 20, 30, 40, 50]);
  }, 90_000);

  it('a bad tag is refused before the run exists', async () => {
    const latestId = async () => (await Flow('HardeningFlow').latestRun.catch(() => undefined))?.id;
    const latest = await latestId();
    for (const tag of ['', 'x'.repeat(300)]) {
      const r = flowbook(['run', fixture('hardening.ts'), '--tag', tag], { root });
      expect(r.code).toBe(1);
      expect(errorLine(r)).toMatch(/^error: invalid tag ".*": 1 to 256 characters$/);
      expect(r.stderr).not.toMatch(/Running HardeningFlow/);
    }
    expect(await latestId()).toBe(latest);
  });

  it('tags that would pass for a system tag, or that are blank or hold control characters, are refused (run and addTag)', async () => {
    const ok = flowbook(['run', fixture('hardening.ts'), '--tag', 'exp: 3'], { root });
    expect(ok.code, ok.stderr).toBe(0);
    const latestId = async () => (await Flow('HardeningFlow').latestRun.catch(() => undefined))?.id;
    const latest = await latestId();
    const cases: [string, string][] = [
      ['user:someoneelse', `error: invalid tag "user:someoneelse": tags starting with 'user:' are flowbook's own (system tags)`],
      ['runtime:python', `error: invalid tag "runtime:python": tags starting with 'runtime:' are flowbook's own (system tags)`],
      ['   ', 'error: invalid tag "   ": a tag cannot be blank'],
      ['two\nlines', 'error: invalid tag "two\\nlines": control characters (U+000A) are not allowed'],
    ];
    for (const [tag, line] of cases) {
      const r = flowbook(['run', fixture('hardening.ts'), '--tag', tag], { root });
      expect(r.code, tag).toBe(1);
      expect(errorLine(r)).toBe(line);
    }
    expect(await latestId()).toBe(latest);
    // the client refuses the same, and the run keeps its tags
    const run = (await Flow('HardeningFlow').latestRun)!;
    await expect(run.addTag('user:mallory')).rejects.toThrow(`tags starting with 'user:' are flowbook's own`);
    expect(run.userTags).not.toContain('user:mallory');
  });
});

describe('memory', () => {
  it('a task past its @resources(memory) is stopped and said so; what it printed is kept', async () => {
    const r = flowbook(['run', fixture('hardening.ts'), '--mode', 'hog', '--n', '1'], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/failed at HardeningFlow\/\d+\/work\/2: out of memory: used ≥ \d+ MiB of the 300 MiB requested; raise @resources\(memory\)$/);
    const task = /failed at (HardeningFlow\/\d+\/work\/2)/.exec(errorLine(r)!)![1];
    const logs = flowbook(['logs', task], { root });
    expect(logs.stdout).toContain('work 0 started');
    expect(logs.stderr).toMatch(/OutOfMemory: out of memory: used ≥ \d+ MiB of the 300 MiB requested/);
  }, 60_000);

  it('the limit is on the task\'s own memory: a warm worker holding 300 MB does not fail a task that asked for 200 MiB and uses 50', () => {
    const r = flowbook(['run', fixture('warm_limit.ts'), '--max-workers', '1'], { root });
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  it('a full V8 heap is reported as out of memory, not as SIGABRT', () => {
    const r = flowbook(['run', fixture('hardening.ts'), '--mode', 'heap', '--n', '1'], { root, env: { NODE_OPTIONS: '--max-old-space-size=48' } });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/: out of memory: the JavaScript heap is full \(300 MiB requested\); raise @resources\(memory\)$/);
  }, 60_000);
});

describe('workers die with their runner', () => {
  it('after kill -9 of the runner, a worker spinning in synchronous code is gone within a second', async () => {
    const { child } = await startedRun(['--mode', 'spin', '--n', '2']);
    await wait(300);
    const workers = childPids(child.pid!);
    expect(workers.length).toBeGreaterThanOrEqual(1);
    child.kill('SIGKILL');
    await exited(child);
    for (let i = 0; i < 40 && workers.some(pidAlive); i++) await wait(50);
    expect(workers.filter(pidAlive)).toEqual([]);
  }, 30_000);
});

describe('secret parameters', () => {
  const SECRET = 'sk-test-5f3a9c1e7b';
  /** every byte the datastore holds, gzip blobs decompressed */
  function everythingStored(dir: string): string {
    let all = '';
    for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (!e.isFile()) continue;
      const file = path.join(e.parentPath ?? (e as any).path, e.name);
      const bytes = fs.readFileSync(file);
      all += file.endsWith('.gz') ? zlib.gunzipSync(bytes).toString('latin1') : bytes.toString('latin1');
    }
    return all;
  }

  it('reach every step but are never stored, printed or put in a card; resume reads them again from the env', async () => {
    const sroot = tempDir();
    const r = flowbook(['run', fixture('secret.ts'), '--visible', 'plain'], { root: sroot, env: { MY_API_TOKEN: SECRET, FAIL_END: '1' } });
    expect(r.code, r.stderr).toBe(1); // end fails: a resume will need the secret again
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const id = runIdOf(r.stderr);
    const meta = JSON.parse(fs.readFileSync(path.join(sroot, 'SecretFlow/runs', id, 'run.json'), 'utf8'));
    expect(meta.params).toEqual({ 'api-token': '<secret: not stored>', visible: 'plain' });
    const noEnv = flowbook(['resume', fixture('secret.ts')], { root: sroot, env: { MY_API_TOKEN: '' } });
    expect(noEnv.code).toBe(1);
    expect(errorLine(noEnv)).toBe("error: secret parameter '--api-token' is not stored, so resume needs it again: set $MY_API_TOKEN");
    const again = flowbook(['resume', fixture('secret.ts')], { root: sroot, env: { MY_API_TOKEN: SECRET } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).not.toContain(SECRET);
    const stored = everythingStored(sroot);
    expect(stored).toContain('plain'); // the scan sees stored values…
    expect(stored).toContain('seenInEnd');
    expect(stored).not.toContain(SECRET); // …and no secret: not in run.json, artifacts, logs or cards
    setDatastoreRoot(sroot);
    const run = (await Flow('SecretFlow').latestSuccessfulRun)!;
    expect(await run.data.seenInEnd).toBe(SECRET.length);
    const start = (await (await run.step('start')).task)!;
    const names = (await start.artifacts).map((a) => a.name);
    expect(names).toContain('seenInStart');
    expect(names).not.toContain('token');
    expect(run.params).toMatchObject({ 'api-token': '<secret: not stored>' });
    setDatastoreRoot(root);
  }, 60_000);
});

describe('temp files left by kills', () => {
  it('are swept by the next run (data) and by resume (the origin run), unless their writer still lives', async () => {
    const troot = tempDir();
    const first = flowbook(['run', fixture('hardening.ts'), '--n', '1'], { root: troot });
    expect(first.code, first.stderr).toBe(0);
    const id = runIdOf(first.stderr);
    const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
    const data = path.join(troot, 'HardeningFlow/data/ab');
    fs.mkdirSync(data, { recursive: true });
    const runDir = path.join(troot, `HardeningFlow/runs/${id}`);
    // a blob a killed worker was writing; the origin's heartbeat its killed runner was replacing;
    // a card a worker killed at its @timeout was writing (files written whole go to a temp file,
    // then are renamed; task records are appended)
    const cards = path.join(runDir, 'start', '1', 'cards');
    fs.mkdirSync(cards, { recursive: true });
    const stale = [path.join(data, `abcd.${dead}.0badf00d.tmp`), path.join(runDir, `heartbeat.json.${dead}.1234abcd.tmp`), path.join(cards, `default.html.${dead}.9abc0def.tmp`)];
    const live = [path.join(data, `ef01.${process.pid}.0badf00d.tmp`), path.join(runDir, `run.json.${process.pid}.5678abcd.tmp`)];
    for (const f of [...stale, ...live]) fs.writeFileSync(f, 'half a write');
    const again = flowbook(['resume', fixture('hardening.ts'), '--origin-run-id', id], { root: troot });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('removed 3 temp file(s) left by killed writers');
    for (const f of stale) expect(fs.existsSync(f), f).toBe(false);
    for (const f of live) expect(fs.existsSync(f), f).toBe(true);
  }, 60_000);
});

describe('refused when parsing, before anything runs', () => {
  const dir = tempDir('flowbook-bad-flows-');
  it('a missing } is a syntax error with its line, not "no end step"; a non-ASCII step name is refused', () => {
    const unterminated = path.join(dir, 'unterminated.ts');
    fs.writeFileSync(unterminated, "import { FlowSpec, step } from 'flowbook';\nexport class BadFlow extends FlowSpec {\n  @step async start() { this.next(this.end); }\n  @step async end() {}\n");
    const a = flowbook(['run', unterminated], { root });
    expect(a.code).toBe(1);
    expect(errorLine(a)).toBe(`error: ${unterminated}:5: syntax error: '}' expected.`);
    const accented = path.join(dir, 'accented.ts');
    fs.writeFileSync(accented, "import { FlowSpec, step } from 'flowbook';\nexport class BadFlow extends FlowSpec {\n  @step async start() { this.next(this.étape); }\n  @step async étape() { this.next(this.end); }\n  @step async end() {}\n}\n");
    const b = flowbook(['run', accented], { root });
    expect(b.code).toBe(1);
    expect(errorLine(b)).toBe(`error: ${accented}:4: step name 'étape' is not allowed: use ASCII letters, digits and '_', starting with a letter or '_'`);
    expect(b.stderr).not.toMatch(/Running BadFlow/);
  });

  it('an int beyond 2^53 is refused', () => {
    const r = flowbook(['run', fixture('hardening.ts'), '--n', '99999999999999999999'], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe('error: parameter \'n\' (--n) must be an integer between -9007199254740991 and 9007199254740991, got "99999999999999999999"');
  });

  it('a user error in a task is one line on the console, where it was thrown; the stack stays in the task log', () => {
    const r = flowbook(['run', fixture('failing.ts')], { root });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/FailingFlow\/\d+\/start\/1 failed: Error: boom in start \(at test\/fixtures\/flows\/failing\.ts:9\)/);
    expect(r.stdout + r.stderr).not.toMatch(/ at runStep|worker-main/);
    const task = /(FailingFlow\/\d+\/start\/1) failed/.exec(r.stderr)![1];
    expect(flowbook(['logs', task], { root }).stderr).toMatch(/Error: boom in start\n\s+at FailingFlow\.start/);
    const debug = flowbook(['run', fixture('failing.ts'), '--debug'], { root });
    expect(debug.stdout + debug.stderr).toMatch(/\] +at FailingFlow\.start/);
  });
});
