// Right-sizing that is correct: a task's memory is its own rise, not what its warm worker already
// held; `flowbook advise` turns the records into verdicts and decorators; a run's last lines say
// when a step asked for the wrong amount.
import { describe, it, expect } from 'vitest';
import { flowbook, fixture, tempDir, errorLine } from './helpers.js';
import { FlowDatastore } from '../../src/datastore/store.js';
import type { ResourceUse } from '../../src/datastore/metadata.js';

const MiB = 2 ** 20;
/** --quiet prints no "Running" line: the id comes from the summary */
const runIdOf = (stderr: string) => /^Done: RightSizeFlow\/(\d+) succeeded/m.exec(stderr)![1];

async function resourcesOf(root: string, runId: string, step: string): Promise<ResourceUse> {
  const store = new FlowDatastore(root, 'RightSizeFlow');
  const [t] = [...(await store.stepRecords(runId, step)).tasks.values()];
  return t.done!.resources!;
}

describe('right-sizing', () => {
  const root = tempDir();
  let warmRun = '';
  let warmStderr = '';

  it('a later task in a warm worker is charged its own memory, not the worker’s', async () => {
    const warm = flowbook(['run', fixture('rightsize.ts'), '--max-workers', '1', '--quiet'], { root });
    expect(warm.code, warm.stderr).toBe(0);
    warmRun = runIdOf(warm.stderr);
    warmStderr = warm.stderr;
    const fresh = flowbook(['run', fixture('rightsize.ts'), '--max-workers', '1', '--isolation', 'process', '--quiet'], { root });
    expect(fresh.code, fresh.stderr).toBe(0);
    const freshRun = runIdOf(fresh.stderr);

    for (const step of ['work', 'end']) {
      const w = await resourcesOf(root, warmRun, step);
      const f = await resourcesOf(root, freshRun, step);
      // the same worker held hoard's 300 MB when this task ran ...
      expect(w.pid).toBe((await resourcesOf(root, warmRun, 'hoard')).pid);
      expect(w.processPeakRssBytes!).toBeGreaterThan(300 * MiB);
      expect(w.baselineRssBytes!).toBeGreaterThan(280 * MiB);
      // ... but the task is charged what it touched (work 100 MB, end 30 MB), well under 300 MB
      expect(w.peakRssBytes).toBeLessThan(200 * MiB);
      expect(w.peakRssBytes).toBeGreaterThan((step === 'work' ? 90 : 25) * MiB);
      // and a fresh process per task records the same within 20%
      expect(Math.abs(w.peakRssBytes - f.peakRssBytes) / f.peakRssBytes, `${step}: ${w.peakRssBytes} vs ${f.peakRssBytes}`).toBeLessThan(0.2);
    }
    // in its own process, end does not see the hoard at all
    expect((await resourcesOf(root, freshRun, 'end')).processPeakRssBytes!).toBeLessThan(300 * MiB);
  });

  it('the run’s last lines note the over-requested step, and only it', () => {
    const notes = warmStderr.split('\n').filter((l) => l.startsWith('note:'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(new RegExp(`^note: step work used \\d+(\\.\\d+)? of 4096 MiB requested: try @resources\\(\\{ cpu: 1, memory: 256 \\}\\)  \\(flowbook advise RightSizeFlow/${warmRun}\\)$`));
    // the notes follow the summary line
    const lines = warmStderr.trimEnd().split('\n');
    expect(lines.findIndex((l) => l.startsWith('Done:'))).toBeLessThan(lines.indexOf(notes[0]));
  });

  it('flowbook advise prints a row per step with its verdict and the decorator to paste', () => {
    const r = flowbook(['advise', `RightSizeFlow/${warmRun}`], { root });
    expect(r.code, r.stderr).toBe(0);
    const row = (step: string) => r.stdout.split('\n').find((l) => l.startsWith(`${step} `))!;
    for (const step of ['start', 'hoard', 'work', 'end']) expect(row(step), r.stdout).toBeDefined();
    expect(row('work')).toMatch(/over-requested \(memory\)\s+@resources\(\{ cpu: 1, memory: 256 \}\)$/);
    expect(row('work')).toMatch(/^work\s+1\s+1\s+4096\s/);
    // start asked for 512 MiB and touched 200 MB: ok; hoard and end asked for no memory: ok
    for (const step of ['start', 'hoard', 'end']) expect(row(step)).toMatch(/\sok$/);

    // latest (the process-isolation run) and the flow alone work too
    const latest = flowbook(['advise', 'RightSizeFlow/latest'], { root });
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toMatch(/^work .*over-requested/m);
    expect(latest.stdout).not.toContain(warmRun);
    expect(flowbook(['advise', 'RightSizeFlow/latest-successful'], { root }).stdout).toBe(latest.stdout);
    expect(flowbook(['advise', 'RightSizeFlow'], { root }).stdout).toBe(latest.stdout);
  });

  it('a task\'s child processes count: their peak memory is sampled and added to the task\'s', async () => {
    const r = flowbook(['run', fixture('children.ts'), '--quiet'], { root });
    expect(r.code, r.stderr).toBe(0);
    const id = /ChildrenFlow\/(\d+) succeeded/.exec(r.stderr)![1];
    const store = new FlowDatastore(root, 'ChildrenFlow');
    const start = [...(await store.stepRecords(id, 'start')).tasks.values()][0].done!.resources!;
    expect(start.childrenPeakRssBytes!).toBeGreaterThan(140 * MiB);
    expect(start.peakRssBytes).toBeGreaterThanOrEqual(start.childrenPeakRssBytes!);
    expect(start.processPeakRssBytes!).toBeLessThan(start.baselineRssBytes! + 100 * MiB); // the step itself held little
    const end = [...(await store.stepRecords(id, 'end')).tasks.values()][0].done!.resources!;
    expect(end.childrenPeakRssBytes).toBeUndefined();
  });

  it('a bad pathspec is a one-line error with exit 1', () => {
    for (const bad of ['RightSizeFlow/999', 'NoSuchFlow/latest', 'RightSizeFlow/1/start/2']) {
      const r = flowbook(['advise', bad], { root });
      expect(r.code, bad).toBe(1);
      expect(r.stderr.trim().split('\n'), bad).toHaveLength(1);
      expect(errorLine(r), bad).toMatch(/^error: /);
    }
  });
});
