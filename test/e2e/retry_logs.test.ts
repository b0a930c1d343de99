// `--with retry` says when the next attempt starts and never retries a mistake flowbook reports
// about the flow's code; `logs` shows every attempt, marked, or one with --attempt N; a parameter
// flag without a value is an error, except for a boolean parameter.
import { describe, it, expect, beforeAll } from 'vitest';
import { flowbook, fixture, tempDir, errorLine, runIdOf } from './helpers.js';

const FILE = fixture('retrying.ts');
const root = tempDir();
let flaky: ReturnType<typeof flowbook>;

beforeAll(() => {
  // 0.01 minutes between retries: a real wait (0.6 s), announced as Metaflow's 2 minutes would be
  flaky = flowbook(['run', FILE, '--with', 'retry:times=2,minutes_between_retries=0.01'], { root });
}, 120_000);

describe('--with retry', () => {
  it('says which attempt failed, which one comes next and when, and when it starts', () => {
    expect(flaky.code, flaky.stderr).toBe(0);
    const task = `RetryingFlow/${runIdOf(flaky.stderr)}/start/1`;
    expect(flaky.stderr).toContain(`${task}: attempt 1 of 3 failed: flaky 1; attempt 2 of 3 in 0.6 s`);
    expect(flaky.stderr).toContain(`${task}: attempt 2 of 3 starting`);
    expect(flaky.stderr).toContain(`${task}: attempt 2 of 3 failed: flaky 2; attempt 3 of 3 in 0.6 s`);
    expect(flaky.stderr).toContain(`${task}: attempt 3 of 3 starting`);
    expect(flaky.stderr).not.toContain('retrying');
  });

  it('with minutes_between_retries=0 the next attempt starts now', () => {
    const r = flowbook(['run', FILE, '--with', 'retry:times=2,minutes_between_retries=0'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('attempt 1 of 3 failed: flaky 1; attempt 2 of 3 now');
  });

  it("a mistake flowbook reports about the flow's code fails at once, with one attempt (the default wait is 2 minutes)", () => {
    const r = flowbook(['run', FILE, '--with', 'retry', '--how', 'usage'], { root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "start/1 failed: FlowUsageError: step 'start' finished without calling this.next(...) (not retried: a FlowUsageError is a mistake in the flow's code, which fails the same way on every attempt)",
    );
    expect(r.stderr).not.toMatch(/attempt \d of \d/);
    expect(r.stderr).toContain('(tasks: 0 ran, 1 failed)');
    const logs = flowbook(['logs', `RetryingFlow/${runIdOf(r.stderr)}/start/1`], { root });
    expect(logs.stdout).toBe('stdout of attempt 1\n');
  });
});

describe('logs and attempts', () => {
  it('shows every attempt by default, each under a marker with its outcome', () => {
    const task = `RetryingFlow/${runIdOf(flaky.stderr)}/start/1`;
    const r = flowbook(['logs', task], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        '--- attempt 1 of 3 (failed) ---',
        'stdout of attempt 1',
        '--- attempt 2 of 3 (failed) ---',
        'stdout of attempt 2',
        '--- attempt 3 of 3 (succeeded) ---',
        'stdout of attempt 3',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toMatch(/stderr of attempt 1\nError: flaky 1\n[^]*stderr of attempt 2\nError: flaky 2\n[^]*stderr of attempt 3\n$/);
    // only stderr: the markers go there
    const err = flowbook(['logs', task, '--stderr'], { root });
    expect(err.stdout).toBe('');
    expect(err.stderr).toMatch(/^--- attempt 1 of 3 \(failed\) ---\nstderr of attempt 1\n/);
  });

  it('--attempt N shows that attempt only (counted from 1, as the run counts them)', () => {
    const task = `RetryingFlow/${runIdOf(flaky.stderr)}/start`;
    const two = flowbook(['logs', task, '--attempt', '2'], { root });
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toBe('stdout of attempt 2\n');
    expect(two.stderr).toMatch(/^stderr of attempt 2\nError: flaky 2\n/);
    const none = flowbook(['logs', task, '--attempt', '4'], { root });
    expect(none.code).toBe(1);
    expect(errorLine(none)).toBe(`error: ${task} has no attempt 4: it has 3 attempts`);
    const zero = flowbook(['logs', task, '--attempt', '0'], { root });
    expect(zero.code).toBe(1);
    expect(errorLine(zero)).toContain('--attempt takes a number ≥ 1');
  });

  it('a task with one attempt prints its output as it is, with no marker', () => {
    const r = flowbook(['logs', `RetryingFlow/${runIdOf(flaky.stderr)}/end`], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('count=1 verbose=false\n');
  });
});

describe('a parameter flag without a value', () => {
  it('is an error naming the flag and its kind', () => {
    for (const args of [['--count'], ['--count', '--how', 'ok']]) {
      const r = flowbook(['run', FILE, '--how', 'ok', ...args], { root });
      expect(r.code).toBe(1);
      expect(errorLine(r)).toBe('error: --count needs a value (int): --count VALUE or --count=VALUE');
      expect(r.stderr).not.toContain('Running');
    }
    const s = flowbook(['run', FILE, '--how'], { root });
    expect(errorLine(s)).toBe('error: --how needs a value (string): --how VALUE or --how=VALUE');
  });

  it('means true for a boolean parameter', () => {
    const r = flowbook(['run', FILE, '--how', 'ok', '--verbose', '--count', '3'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('count=3 verbose=true');
  });
});

describe('@catchErrors under --with retry', () => {
  it("catches a mistake flowbook reports on its first attempt, since no retry can fix it", async () => {
    const r = flowbook(['run', fixture('retrying_caught.ts'), '--with', 'retry'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/mistake\/\d+: failed but caught by @catchErrors: step 'mistake' finished without calling this\.next\(\.\.\.\)/);
    expect(r.stderr).not.toMatch(/attempt \d of \d/);
    const dump = flowbook(['dump', `RetryingCaughtFlow/${runIdOf(r.stderr)}/end/3/failure`, '--json'], { root });
    expect(JSON.parse(dump.stdout)).toMatchObject({ type: 'FlowUsageError' });
  });
});
