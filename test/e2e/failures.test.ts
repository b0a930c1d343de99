// Bad inputs and failing steps through the real CLI: one clear line, exit code ≠ 0, nothing lost.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, errorLine } from './helpers.js';
import { Flow, Run, namespace, setDatastoreRoot } from '../../src/client/index.js';

const root = tempDir();
setDatastoreRoot(root);
namespace(null);

describe('bad input on the command line', () => {
  it('unknown parameter', () => {
    const r = flowbook(['run', fixture('foreach.ts'), '--nope', '1'], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe("error: unknown parameter '--nope' (this flow's parameters: --xs)");
  });

  it('wrong parameter type', () => {
    const r = flowbook(['run', fixture('foreach.ts'), '--xs', '[1,'], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe('error: parameter \'xs\' (--xs) must be valid JSON, got "[1,"');
  });

  it('missing flow file', () => {
    const r = flowbook(['run', 'flows/does-not-exist.ts'], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe('error: flow file not found: flows/does-not-exist.ts');
  });

  it('a bad --max-workers', () => {
    const r = flowbook(['run', fixture('linear.ts'), '--max-workers', 'two'], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe('error: --max-workers must be a whole number ≥ 1, got "two"');
  });
});

describe('graphs checked before anything runs', () => {
  it('an invalid graph is one line with file:line, exit 1, and no run is made', () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.ts');
    fs.writeFileSync(
      file,
      `import { FlowSpec, step } from 'flowbook';\nexport class BadFlow extends FlowSpec {\n  @step async start() { this.next(this.ned); }\n  @step async end() {}\n}\n`,
    );
    const r = flowbook(['run', file], { root });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`error: ${file}:3: step 'start' calls next() with unknown step 'ned' (did you mean 'end'?)`);
    expect(fs.existsSync(path.join(root, 'BadFlow'))).toBe(false);
    const show = flowbook(['show', file], { root });
    expect(show.code).toBe(1);
  });

  it('a flow outside the project still imports flowbook, and show prints its graph', () => {
    const dir = tempDir();
    const file = path.join(dir, 'tiny.ts');
    fs.writeFileSync(file, `import { FlowSpec, step } from 'flowbook';\nexport class TinyFlow extends FlowSpec {\n  @step async start() { this.next(this.end); }\n  @step async end() { console.log('tiny end'); }\n}\n`);
    const show = flowbook(['show', file], { root });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Step start  (line 3)\n    => end');
    const r = flowbook(['run', file], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[\d+\/end\/2\] tiny end/);
  });
});

describe('failing steps', () => {
  it('a step that throws fails the run, keeps its stack in the log, exits 1', async () => {
    const r = flowbook(['run', fixture('failing.ts'), '--what', 'throw'], { root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FailingFlow\/\d+\/start\/1 failed: Error: boom in start/);
    expect(errorLine(r)).toMatch(/^error: run FailingFlow\/\d+ failed at FailingFlow\/\d+\/start\/1: boom in start$/);
    const run = (await Flow('FailingFlow').latestRun)!;
    expect(run.successful).toBe(false);
    expect(run.finished).toBe(true);
    expect(await Flow('FailingFlow').latestSuccessfulRun).toBeUndefined();
    const logs = flowbook(['logs', `${run.pathspec}/start/1`], { root });
    expect(logs.stdout).toContain('start ran');
    expect(logs.stderr).toContain('Error: boom in start');
    expect(logs.stderr).toMatch(/failing\.ts:\d+/); // the stack points into the TypeScript source
  });

  it('an artifact that cannot be serialized (a function)', () => {
    const r = flowbook(['run', fixture('failing.ts'), '--what', 'function'], { root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("SerializationError: cannot serialize artifact 'cb': a function is not data (at cb)");
  });

  it('foreach over a non-array', () => {
    const r = flowbook(['run', fixture('failing.ts'), '--what', 'not-array'], { root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ForeachError: foreach over 'xs' in step 'start': expected an array, got object");
  });

  it('too many splits', () => {
    const r = flowbook(['run', fixture('failing.ts'), '--what', 'many'], { root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ForeachError: foreach over 'xs' in step 'start' makes 150 splits, more than --max-num-splits 100");
    const ok = flowbook(['run', fixture('failing.ts'), '--what', 'many', '--max-num-splits', '200', '--quiet'], { root });
    expect(ok.code).toBe(0);
  });

  it('retry, catchErrors in a foreach, and timeout', async () => {
    const r = flowbook(['run', fixture('resilient.ts')], { root });
    expect(r.stderr).toContain('attempt 1 of 3 failed: flaky network; attempt 2 of 3 now');
    expect(r.code).toBe(0);
    const run = (await Flow('ResilientFlow').latestSuccessfulRun)!;
    const join = (await run.step('join').tasks())[0];
    expect(await join.data.results).toEqual(['ok', 'failed: bad video 2', 'ok']);
    const start = (await run.step('start').tasks())[0];
    expect(await start.data.attempts).toBe(2);
    const slow = (await run.step('slow').tasks())[0];
    const failure = (await slow.data.failure) as { type: string; message: string };
    expect(failure.message).toBe("step 'slow' timed out after 1 s (@timeout)");
  });
});

describe('the client on bad pathspecs', () => {
  it('unknown run and traversal', async () => {
    expect(() => Run('HelloFlow/../../etc')).toThrow(/invalid/);
    await expect(Flow('NoSuchFlow').run('123')).rejects.toThrow('run not found: NoSuchFlow/123');
  });

  it('a corrupted blob is an IntegrityError naming the artifact and the blob', async () => {
    const r = flowbook(['run', fixture('linear.ts'), '--quiet'], { root });
    expect(r.code).toBe(0);
    const run = (await Flow('LinearFlow').latestSuccessfulRun)!;
    // 'trail' is small: its bytes are kept in the end task's record (the step's journal)
    const journal = path.join(root, 'LinearFlow', 'runs', run.id, 'end', 'tasks.jsonl');
    const text = fs.readFileSync(journal, 'utf8');
    const good = (await (await run.step('end').tasks())[0].artifacts).find((a) => a.name === 'trail')!;
    const inline = JSON.parse(text.split('\n').find((l) => l.includes('"kind":"done"'))!).done.artifacts.trail.inline;
    fs.writeFileSync(journal, text.replace(inline, Buffer.from('["tampered"]').toString('base64')));
    const art = (await (await run.step('end').tasks())[0].artifacts).find((a) => a.name === 'trail')!;
    expect(art.sha).toBe(good.sha);
    await expect(art.data()).rejects.toThrow(`artifact 'trail' is corrupted: blob ${art.sha} has sha256 `);
    const dump = flowbook(['dump', `${art.pathspec}`], { root });
    expect(dump.code).toBe(1);
    expect(errorLine(dump)).toMatch(/^error: artifact 'trail' is corrupted: blob [0-9a-f]{64} has sha256 [0-9a-f]{64}$/);
  });
});
