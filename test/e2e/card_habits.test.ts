// Metaflow's `python flow.py card view STEP` habit: a flow (its file or its name) and a step, or
// Flow/STEP, or a bare STEP, mean that step of the flow's latest run, and the CLI says which run.
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, errorLine, runIdOf } from './helpers.js';

const FILE = fixture('card_steps.ts');
const root = tempDir();
let older: string;
let latest: string;

beforeAll(() => {
  // two runs: the short forms must pick the newer one
  const a = flowbook(['run', FILE, '--quiet'], { root });
  expect(a.code, a.stderr).toBe(0);
  older = /CardStepsFlow\/(\d+)/.exec(a.stderr)![1];
  const b = flowbook(['run', FILE], { root });
  expect(b.code, b.stderr).toBe(0);
  latest = runIdOf(b.stderr);
  expect(latest).not.toBe(older);
}, 120_000);

const noDisplay = { DISPLAY: '', WAYLAND_DISPLAY: '' };
const cardOf = (run: string, step: string, task: string) => path.join(root, 'CardStepsFlow/runs', run, step, task, 'cards/blank-0.html');

describe('card commands: the latest run from a flow and a step', () => {
  it('card view FILE STEP, Flow/STEP and a bare STEP open the step\'s card of the latest run, and say which run', () => {
    const forms = [
      ['card', 'view', FILE, 'postprocess'],
      ['card', 'view', 'CardStepsFlow', 'postprocess'],
      ['card', 'view', 'CardStepsFlow/postprocess'],
      ['card', 'view', 'postprocess'],
    ];
    for (const args of forms) {
      const r = flowbook(args, { root, env: noDisplay });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      const file = r.stdout.trim();
      expect(file).toContain(`/CardStepsFlow/runs/${latest}/postprocess/`);
      expect(fs.readFileSync(file, 'utf8')).toContain('postprocess of 3 clips');
      expect(r.stderr).toContain(`CardStepsFlow/${latest} (succeeded`);
      expect(r.stderr).toMatch(/latest run/);
    }
  });

  it('card get FILE STEP OUT writes the card; card get Flow/STEP prints it', () => {
    const out = path.join(root, 'post.html');
    const r = flowbook(['card', 'get', FILE, 'postprocess', out], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toContain('postprocess of 3 clips');
    const printed = flowbook(['card', 'get', 'CardStepsFlow/postprocess'], { root });
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('postprocess of 3 clips');
    // a bare step is found in the one flow that has it; the file follows it
    const bare = path.join(root, 'bare.html');
    expect(flowbook(['card', 'get', 'postprocess', bare], { root }).code).toBe(0);
    expect(fs.readFileSync(bare, 'utf8')).toContain('postprocess of 3 clips');
  });

  it('card list FILE STEP lists every task of that step in the latest run', () => {
    const r = flowbook(['card', 'list', FILE, 'work'], { root });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(new RegExp(`^CardStepsFlow/${latest}/work/\\d+  blank-0  `));
    const all = flowbook(['card', 'list', FILE], { root });
    expect(all.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('a step with several tasks shows its first task\'s card and says how to pick another', () => {
    const r = flowbook(['card', 'view', 'CardStepsFlow/work'], { root, env: noDisplay });
    expect(r.code, r.stderr).toBe(0);
    const list = flowbook(['card', 'list', `CardStepsFlow/${latest}/work`], { root }).stdout.trim().split('\n');
    const first = list[0].split('  ')[0];
    expect(r.stdout.trim()).toBe(cardOf(latest, 'work', first.split('/').at(-1)!));
    expect(fs.readFileSync(r.stdout.trim(), 'utf8')).toContain('clip a');
    expect(r.stderr).toContain(`has 3 tasks: the card of its first, ${first}`);
    expect(r.stderr).toContain(`flowbook card list CardStepsFlow/${latest}/work`);
  });

  it('the explicit forms still name their run', () => {
    const r = flowbook(['card', 'view', `CardStepsFlow/${older}/postprocess`], { root, env: noDisplay });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toContain(`/runs/${older}/postprocess/`);
  });

  it('a step the latest run does not have, or a whole run for view: one clear line', () => {
    const step = flowbook(['card', 'view', 'CardStepsFlow/nope'], { root });
    expect(step.code).toBe(1);
    expect(errorLine(step)).toBe(`error: CardStepsFlow/nope: CardStepsFlow has no run nope, and its latest run CardStepsFlow/${latest} has no step nope (its steps: start, work, join, postprocess, end)`);
    const bare = flowbook(['card', 'view', 'nope'], { root });
    expect(bare.code).toBe(1);
    expect(errorLine(bare)).toMatch(/^error: 'nope' is no step of any flow's latest run, and flow 'nope' not found in the datastore .*flows there: CardStepsFlow$/);
    const run = flowbook(['card', 'view', FILE], { root });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toContain(`name a step or a task: ${FILE} STEP`);
  });
});
