// The local path's limits, each a clear error rather than a crash. A throw in a timer callback and
// an unhandled promise rejection inside a step kill its worker (the process's state is unknown
// after them), but the task's stored exception is that error — its type, message and stack
// pointing into the flow file — not a bare "WorkerDied: exited with code 1". An artifact past the
// 2 GiB an artifact can hold is refused naming it, not a raw RangeError from fs or the SDK.
import { describe, it, expect } from 'vitest';
import { flowbook, flowbookAsync, fixture, tempDir, errorLine, exited } from './helpers.js';
import { Flow, setDatastoreRoot, namespace } from '../../src/client/index.js';

describe('errors outside the step’s await chain', () => {
  it.each([
    ['timer', 'RangeError', 'boom in a timer (an uncaught exception in the step: the worker process stopped)'],
    ['promise', 'TypeError', 'a promise nobody awaited (an unhandled promise rejection in the step: the worker process stopped)'],
  ])('%s: the task records the error with its stack; the run fails naming it', async (mode, type, message) => {
    const root = tempDir();
    const r = flowbook(['run', fixture('stray_errors.ts'), '--mode', mode], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(new RegExp(`^error: run StrayErrorsFlow\\/\\d+ failed at StrayErrorsFlow\\/\\d+\\/start\\/1: `));
    expect(errorLine(r)).toContain(message);
    setDatastoreRoot(root);
    namespace(null);
    const run = (await Flow('StrayErrorsFlow').latestRun)!;
    const task = (await (await run.step('start')).task)!;
    const exc = (await task.exception)!;
    expect(exc.type).toBe(type);
    expect(exc.message).toBe(message);
    expect(exc.stack).toContain('stray_errors.ts');
    expect(await task.stdout).toContain('before the stray error');
  }, 60_000);
});

describe('an artifact too large to store', () => {
  it('is refused with one line naming it, its size and the limit; the worker survives and the run fails cleanly', async () => {
    const root = tempDir();
    const r = flowbook(['run', fixture('huge_artifact.ts')], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(
      /^error: run HugeArtifactFlow\/\d+ failed at HugeArtifactFlow\/\d+\/start\/1: artifact 'huge' is 2\.00 GiB serialized, more than the 2\.00 GiB an artifact can hold: split it/,
    );
    expect(r.stderr).not.toMatch(/ERR_OUT_OF_RANGE|data is too long|WorkerDied/);
    setDatastoreRoot(root);
    namespace(null);
    const task = (await (await (await Flow('HugeArtifactFlow').latestRun)!.step('start')).task)!;
    expect((await task.exception)!.type).toBe('SerializationError');
  }, 120_000);
});

describe('a task that prints a lot', () => {
  it('reaches the console whole, every line in order, and the next steps’ lines follow (backpressure, not loss)', async () => {
    const root = tempDir();
    const child = flowbookAsync(['run', fixture('loud.ts'), '--mb', '200'], { root });
    let lines = 0;
    let expected = 0;
    let outOfOrder = 0;
    let rest = '';
    const tail: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      const parts = (rest + c).split('\n');
      rest = parts.pop()!;
      for (const l of parts) {
        const m = /\/start\/1\] (\d{8}) x+$/.exec(l);
        if (m) {
          if (Number(m[1]) !== expected) outOfOrder++;
          expected = Number(m[1]) + 1;
          lines++;
        } else tail.push(l);
      }
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    expect(await exited(child), err).toBe(0);
    const n = Math.ceil((200 * 2 ** 20) / 100);
    expect(lines).toBe(n);
    expect(outOfOrder).toBe(0);
    expect(tail.some((l) => l.endsWith('] start: last line'))).toBe(true);
    expect(tail.some((l) => l.endsWith('] after: printed'))).toBe(true);
    expect(tail.some((l) => l.endsWith('] end: printed'))).toBe(true);
  }, 180_000);
});
