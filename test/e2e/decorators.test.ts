// Decorators and flow files as Metaflow users write them, through the real CLI: bare decorators
// run, --with takes every step decorator, a file with two flows needs --flow, an empty foreach
// runs its join, booleans are flags, and what the parser refuses is one line with file:line.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, errorLine } from './helpers.js';

const root = tempDir();
const dumpJson = (pathspec: string) => {
  const r = flowbook(['dump', pathspec, '--json'], { root });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};
const cardsOf = (pathspec: string) => flowbook(['card', 'list', pathspec], { root }).stdout;

describe('bare decorators', () => {
  const file = fixture('bare_decorators.ts');

  it('@card, @retry, @catchErrors, @resources and @step() bare run as with options', () => {
    const r = flowbook(['run', file, '--flow', 'BareDecoratorsFlow'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('failed but caught by @catchErrors: caught by a bare @catchErrors');
    // bare @card on start and @card() on fragile: a default card each
    const cards = cardsOf('BareDecoratorsFlow/latest');
    expect(cards).toMatch(/\/start\/\d+\s+default-0/);
    expect(cards).toMatch(/\/fragile\/\d+\s+default-0/);
    expect(dumpJson('BareDecoratorsFlow/latest').caughtError.message).toBe('caught by a bare @catchErrors');
  });

  it('a bare @retry is 3 retries 2 minutes apart (the Argo template says so), a bare @kubernetes a pod with the defaults', () => {
    const argo = flowbook(['argo-workflows', 'create', file, '--flow', 'BareDecoratorsFlow', '--only-json'], { root });
    expect(argo.code, argo.stderr).toBe(0);
    const steady = JSON.parse(argo.stdout).spec.templates.find((t: any) => t.retryStrategy);
    expect(steady.retryStrategy).toMatchObject({ limit: '3', backoff: { duration: '2m' } });
    const job = flowbook(['kubernetes', 'job', file, 'start', '--flow', 'BarePodFlow'], { root });
    expect(job.code, job.stderr).toBe(0);
    expect(JSON.parse(job.stdout).spec.template.spec.containers[0].resources.requests).toMatchObject({ cpu: '1', memory: '4096Mi' });
  });
});

describe('a file with two flow classes', () => {
  const file = fixture('bare_decorators.ts');
  it('is refused with one line naming them and --flow', () => {
    for (const args of [['run', file], ['show', file], ['kubernetes', 'job', file, 'start'], ['argo-workflows', 'create', file, '--only-json']]) {
      const r = flowbook(args, { root });
      expect(r.code).toBe(1);
      expect(errorLine(r)).toMatch(/^error: .*bare_decorators\.ts:\d+: this file has 2 flow classes \(BareDecoratorsFlow, BarePodFlow\): pick one with --flow NAME$/);
    }
  });
  it('show --flow NAME shows that one; an unknown name lists them', () => {
    const r = flowbook(['show', file, '--flow', 'BarePodFlow'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Flow BarePodFlow');
    expect(r.stdout).toContain('@kubernetes');
    const bad = flowbook(['show', file, '--flow', 'Nope'], { root });
    expect(errorLine(bad)).toMatch(/: no flow class Nope in this file \(its flow classes: BareDecoratorsFlow, BarePodFlow\)$/);
  });
});

describe('--with every step decorator', () => {
  const file = fixture('with_targets.ts');

  it('--with catch (Metaflow\'s name) completes a failing step with the error in an artifact', () => {
    const r = flowbook(['run', file, '--mode', 'broken', '--with', 'catch:var=failure'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(dumpJson('WithTargetsFlow/latest').failure.message).toBe('always broken');
  });

  it('--with card gives every step a default card', () => {
    const r = flowbook(['run', file, '--with', 'card'], { root });
    expect(r.code, r.stderr).toBe(0);
    const cards = cardsOf('WithTargetsFlow/latest');
    for (const s of ['start', 'middle', 'end']) expect(cards).toMatch(new RegExp(`/${s}/\\d+\\s+default-0`));
  });

  it('--with retry takes Metaflow\'s snake_case keys; --with resources sets what a task holds', () => {
    const r = flowbook(['run', file, '--mode', 'flaky', '--with', 'retry:times=1,minutes_between_retries=0', '--with', 'resources:memory=64'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(dumpJson('WithTargetsFlow/latest')).toMatchObject({ attempts: 2, memory: 64 });
  });

  it('--with timeout stops a step that runs too long', () => {
    const r = flowbook(['run', file, '--mode', 'hang', '--with', 'timeout:seconds=2'], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^error: run WithTargetsFlow\/\d+ failed at WithTargetsFlow\/\d+\/middle\/\d+: .*(timeout|timed out).*/i);
  });

  it('an unknown decorator or option is one line naming the known ones', () => {
    const r = flowbook(['run', file, '--with', 'batch'], { root });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe('error: unknown decorator in --with: "batch" (known: card, catch (or catchErrors), timeout, resources, retry, kubernetes, cache)');
    const k = flowbook(['run', file, '--with', 'timeout:minute=1'], { root });
    expect(errorLine(k)).toBe('error: --with timeout: unknown option "minute" (known: seconds, minutes, hours)');
  });

  it('argo-workflows create applies --with retry and timeout to the template, and refuses what its pods cannot see', () => {
    const r = flowbook(['argo-workflows', 'create', file, '--only-json', '--with', 'retry:times=2,minutes_between_retries=0', '--with', 'timeout:seconds=90'], { root });
    expect(r.code, r.stderr).toBe(0);
    const middle = JSON.parse(r.stdout).spec.templates.find((t: any) => t.retryStrategy);
    expect(middle).toMatchObject({ retryStrategy: { limit: '2' }, activeDeadlineSeconds: 90 });
    const card = flowbook(['argo-workflows', 'create', file, '--only-json', '--with', 'card'], { root });
    expect(card.code).toBe(1);
    expect(errorLine(card)).toBe('error: argo-workflows create applies --with kubernetes, resources, retry and timeout; put @card on the steps instead of --with card');
  });
});

describe('an empty foreach', () => {
  it('--n 0 runs the join with zero inputs; mergeArtifacts passes on what the foreach step set', () => {
    const r = flowbook(['run', fixture('empty_foreach.ts'), '--n', '0'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(dumpJson('EmptyForeachFlow/latest')).toMatchObject({ items: [], squares: [], inputCount: 0 });
  });
  it('--n 2 runs as before', () => {
    const r = flowbook(['run', fixture('empty_foreach.ts'), '--n', '2'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(dumpJson('EmptyForeachFlow/latest')).toMatchObject({ items: [1, 2], squares: [1, 4], inputCount: 2 });
  });
});

describe('boolean parameters', () => {
  it('param.boolean is --verbose, --no-verbose or --verbose false', () => {
    const file = fixture('empty_foreach.ts');
    for (const [args, want] of [[['--verbose'], true], [['--verbose', 'false'], false], [['--no-verbose'], false], [[], false]] as const) {
      const r = flowbook(['run', file, '--n', '1', ...args], { root });
      expect(r.code, r.stderr).toBe(0);
      expect(dumpJson('EmptyForeachFlow/latest').verbose).toBe(want);
      expect(r.stdout.includes('joined 1 inputs')).toBe(want);
    }
  });
});

describe('refused before anything runs, with file:line', () => {
  const dir = tempDir();
  const write = (name: string, body: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `import { FlowSpec, step, param, card, type Inputs } from 'flowbook';\n\nexport class BadFlow extends FlowSpec {\n${body}\n}\n`);
    return file;
  };
  const refused = (file: string) => {
    const r = flowbook(['run', file], { root });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    return errorLine(r)!.replace(file, 'FILE');
  };

  it('param.bolean', () => {
    const file = write('kind.ts', `  dry = param.bolean('dry-run');\n  @step async start() { this.next(this.end); }\n  @step async end() {}`);
    expect(refused(file)).toBe('error: FILE:4: param.bolean is not a parameter kind; the kinds: param.string, param.int, param.float, param.bool, param.boolean, param.json, param.secret');
  });

  it('a decorator flowbook does not have', () => {
    const file = write('deco.ts', `  @step async start() { this.next(this.end); }\n  @pypi({ packages: {} })\n  @step async end() {}`);
    expect(refused(file)).toBe("error: FILE:5: step 'end': @pypi is not a flowbook step decorator; step decorators: @step, @resources, @kubernetes, @retry, @timeout, @catchErrors, @card, @cache");
  });

  it('a foreach join that forgot its inputs, at the join', () => {
    const file = write('join.ts', `  xs = [1, 2];\n  @step async start() { this.next(this.each, { foreach: 'xs' }); }\n  @step async each() { this.next(this.join); }\n  @step async join() { this.next(this.end); }\n  @step async end() {}`);
    expect(refused(file)).toBe("error: FILE:7: step 'join' does not take inputs, so the foreach of 'start' (line 5) is still open at 'end': if 'join' is its join, declare it as async join(inputs: Inputs); else add a join step before 'end'");
  });
});
