// A real failing run (warm worker processes) read back through the errors' fields: the library's
// runFlow + assertSucceeded, the notebook's runFlow (the CLI in a child process), and the client's
// NotFoundError for what the run does not have. The messages stay what the CLI prints.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO, fixture, tempDir } from './helpers.js';
import { runFlow as notebookRunFlow } from '../../src/notebook/index.js';
import { Flow, Run, Task, namespace, setDatastoreRoot } from '../../src/client/index.js';
import { NotFoundError, TaskFailedError, type ErrorInfo } from '../../src/errors.js';

const root = tempDir();
setDatastoreRoot(root);
namespace(null);

/** Run a flow with the built library's runFlow + assertSucceeded in a child process; what it threw, as JSON. */
function libraryRun(file: string, params: Record<string, string>): { name: string; message: string; pathspec?: string; step?: string; run?: string; cause?: unknown } {
  const script = `
    const { runFlow, assertSucceeded } = await import(${JSON.stringify(path.join(REPO, 'dist/runtime/run.js'))});
    const outcome = await runFlow({ file: ${JSON.stringify(file)}, root: ${JSON.stringify(root)}, quiet: true, params: ${JSON.stringify(params)} });
    try {
      assertSucceeded(outcome);
      console.log(JSON.stringify({ name: 'none' }));
    } catch (e) {
      console.log(JSON.stringify({ name: e.name, message: e.message, pathspec: e.pathspec, step: e.step, run: e.run, cause: e.cause }));
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 120_000, env: { ...process.env, FLOWBOOK_HOME: root } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

function thrownBy(f: () => void): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('errors with fields, from a real run', () => {
  it('runFlow + assertSucceeded: the failed task, its step, the run, and its stored error', async () => {
    // the library in a process of its own (as a program using flowbook runs it), printing the fields
    const e = libraryRun(fixture('failing.ts'), { what: 'throw' });
    expect(e.name).toBe('TaskFailedError');
    const run = e.run!;
    expect(run).toMatch(/^FailingFlow\/\d+$/);
    expect(e.message).toBe(`run ${run} failed at ${run}/start/1: boom in start`);
    expect(e.pathspec).toBe(`${run}/start/1`);
    expect(e.step).toBe('start');
    const cause = e.cause as ErrorInfo;
    expect(cause).toMatchObject({ type: 'Error', message: 'boom in start' });
    // where in the user's code it was thrown, as the task recorded it
    expect(cause.where).toMatch(/failing\.ts:\d+/);
    // the same error the client reads from the task
    expect(await Task(e.pathspec!).exception).toMatchObject({ type: cause.type, message: cause.message, where: cause.where });
  });

  it("the notebook's runFlow throws the CLI's line with the same fields", async () => {
    let e: TaskFailedError | undefined;
    try {
      await notebookRunFlow(fixture('failing.ts'), { what: 'throw' }, { echo: false, root });
    } catch (err) {
      e = err as TaskFailedError;
    }
    expect(e).toBeInstanceOf(TaskFailedError);
    const run = (await Flow('FailingFlow').latestRun)!.pathspec;
    expect(e!.message).toBe(`run ${run} failed at ${run}/start/1: boom in start`);
    expect(e).toMatchObject({ pathspec: `${run}/start/1`, step: 'start', run });
    expect(e!.cause).toMatchObject({ type: 'Error', message: 'boom in start' });
  });

  it("the client's NotFoundError names what is missing", async () => {
    const run = (await Flow('FailingFlow').latestRun)!;
    const missingRun = thrownBy(() => Run('FailingFlow/999').status) as NotFoundError;
    expect(missingRun).toBeInstanceOf(NotFoundError);
    expect(missingRun.pathspec).toBe('FailingFlow/999');
    const missingTask = thrownBy(() => Task(`${run.pathspec}/start/99`).successful) as NotFoundError;
    expect(missingTask).toBeInstanceOf(NotFoundError);
    expect(missingTask.message).toBe(`task not found: ${run.pathspec}/start/99`);
    expect(missingTask.pathspec).toBe(`${run.pathspec}/start/99`);
    const noArtifact = await Task(`${run.pathspec}/start/1`)
      .artifact('xs')
      .catch((err) => err);
    expect(noArtifact).toBeInstanceOf(NotFoundError);
    expect(noArtifact.pathspec).toBe(`${run.pathspec}/start/1/xs`);
    const noFlow = await Flow('NoSuchFlow')
      .run('1')
      .catch((err) => err);
    expect(noFlow).toBeInstanceOf(NotFoundError);
    expect(noFlow.pathspec).toBe('NoSuchFlow');
  });
});
