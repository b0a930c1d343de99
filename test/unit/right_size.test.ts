// The right-sizing judgement over recorded usage (src/cards/usage/right-size.ts): what it
// compares against (a local slot that is the @resources, a smaller local slot, a pod's request),
// figures that do not flip on noise, and no more cpu for a task that used up one core without
// evidence that it could use another.
import { describe, it, expect } from 'vitest';
import { taskUse, resourceAdvice, stepUsage, type StepUsage } from '../../src/internal.js';
import { ResourceReport } from '../../src/cards/components/resource-report.js';
import type { RunTask } from '../../src/cards/run-records.js';
import type { LocalSlot } from '../../src/datastore/metadata.js';

const MiB = 2 ** 20;

interface Rec {
  step?: string;
  wall?: number;
  cores: number;
  peakCores?: number;
  rssMiB: number;
  slot: { cpu: number; memory: number };
  localSlot?: LocalSlot;
  pod?: boolean;
}

function judge(...recs: Rec[]): StepUsage {
  const uses = recs.map((o, i) => {
    const wall = o.wall ?? 20;
    const r: RunTask = {
      pathspec: `F/1/${o.step ?? 'transcribe'}/${i + 2}`,
      step: o.step ?? 'transcribe',
      taskId: String(i + 2),
      status: 'done',
      startedAt: '2026-01-01T00:00:00Z',
      where: 'w',
      resources: {
        wallSeconds: wall,
        cpuUserSeconds: o.cores * wall,
        cpuSystemSeconds: 0,
        peakRssBytes: o.rssMiB * MiB,
        ...(o.pod ? { processPeakRssBytes: o.rssMiB * MiB } : {}),
        host: 'h',
        pid: 1,
        worker: o.pod ? 'pod f-1-transcribe' : 'local-1',
        requested: o.slot,
        ...(o.peakCores !== undefined ? { peakCores: o.peakCores } : {}),
        ...(o.localSlot ? { localSlot: o.localSlot } : {}),
      },
    };
    return taskUse(r)!;
  });
  const [u] = stepUsage(uses);
  return u;
}

/** the seed's transcribe step: @resources({ cpu: 3, memory: 12288 }), locally a 1-cpu 512 MiB slot from localResources */
const SEED: LocalSlot = { declared: { cpu: 3, memory: 12288 }, localResources: { cpu: 1, memory: 512 } };
/** what stays the same across runs: everything but the measured figures in the sentence */
const outcome = (u: StepUsage) => ({ verdict: u.verdict, cpu: u.cpu, memory: u.memory, recommended: u.recommended, decorator: u.decorator, against: u.against });

describe('right-sizing: what is compared', () => {
  it('a local slot made smaller by localResources is named as such, and no @resources change is offered', () => {
    const u = judge({ cores: 0.99, peakCores: 1, rssMiB: 230, slot: { cpu: 1, memory: 512 }, localSlot: SEED });
    expect(u.where).toBe('local');
    expect(u.against).toEqual({ cpu: 'localResources', memory: 'localResources' });
    expect(u.decorator).toBeUndefined();
    expect(u.advice).toBe(
      'locally: used 0.99 of its 1-cpu local slot (set by localResources): all of it; it may be single-threaded — cannot tell if more would help, ' +
        'peak 230 of its 512 MiB local slot (set by localResources); the pod request @resources({ cpu: 3, memory: 12288 }) was not measured here — run with --with kubernetes to judge it',
    );
    expect(u.worthSaying).toBe(true);
    // an idle local slot is still not a @resources change
    const idle = judge({ cores: 0.99, rssMiB: 60, slot: { cpu: 1, memory: 512 }, localSlot: SEED });
    expect(idle.verdict).toBe('over-requested');
    expect(idle.decorator).toBeUndefined();
    expect(idle.advice).toMatch(/peak 60 of its 512 MiB local slot \(set by localResources\); the pod request @resources\(\{ cpu: 3, memory: 12288 \}\) was not measured here/);
  });

  it('a local slot that held the @resources judges the @resources', () => {
    const u = judge({ step: 'work', cores: 0.4, rssMiB: 100, slot: { cpu: 1, memory: 4096 }, localSlot: { declared: { memory: 4096 }, localResources: {} } });
    expect(u.against).toEqual({ cpu: 'resources', memory: 'resources' });
    expect(u.advice).toBe('locally: used 0.4 of the 1 cpu its @resources requests, peak 100 of the 4096 MiB its @resources requests; try @resources({ cpu: 1, memory: 256 })');
  });

  it('one resource cut by localResources, the other as declared: only the declared one changes, the cut one keeps its value', () => {
    const u = judge({ cores: 0.95, rssMiB: 200, slot: { cpu: 1, memory: 4096 }, localSlot: { declared: { cpu: 3, memory: 4096 }, localResources: { cpu: 1 } } });
    expect(u.against).toEqual({ cpu: 'localResources', memory: 'resources' });
    expect(u.decorator).toBe('@resources({ cpu: 3, memory: 256 })');
    expect(u.advice).toMatch(/; try @resources\(\{ cpu: 3, memory: 256 \}\) \(its cpu keeps the declared value: not measured here — run with --with kubernetes to judge it\)$/);
  });

  it('a slot this machine made smaller says so', () => {
    const u = judge({ cores: 1.9, rssMiB: 900, slot: { cpu: 2, memory: 1024 }, localSlot: { declared: { cpu: 8, memory: 1024 }, localResources: {} } });
    expect(u.against.cpu).toBe('machine');
    expect(u.advice).toContain("used 1.9 of its 2-cpu local slot (this machine's limit)");
    expect(u.decorator).toBeUndefined();
  });

  it('a pod is judged against its request, and the decorator is @kubernetes', () => {
    const u = judge({ cores: 0.99, rssMiB: 230, slot: { cpu: 3, memory: 12288 }, pod: true });
    expect(u.where).toBe('pod');
    expect(u.against).toEqual({ cpu: 'pod', memory: 'pod' });
    // 0.99 of 3 cores is within the band (0.33x): cpu keeps its 3; 230 × 1.25 → 512 MiB
    expect(u.advice).toBe('in its pod: used 0.99 of the 3 cpu its pod requested, peak 230 of the 12288 MiB its pod requested; try @kubernetes({ cpu: 3, memory: 512 })');
  });

  it('a record from before the slot was recorded is judged as before, against its request', () => {
    const u = judge({ step: 'work', cores: 0.5, rssMiB: 100, slot: { cpu: 1, memory: 4096 } });
    expect(u.against).toEqual({ cpu: 'resources', memory: 'resources' });
    expect(u.decorator).toBe('@resources({ cpu: 1, memory: 256 })');
  });
});

describe('right-sizing: more cpu only on evidence', () => {
  it('0.99 of a 1-cpu slot that is the @resources: no figure above 1, and it says it cannot tell', () => {
    for (const peakCores of [undefined, 1.02]) {
      const u = judge({ cores: 0.99, peakCores, rssMiB: 300, slot: { cpu: 1, memory: 512 }, localSlot: { declared: { cpu: 1, memory: 512 }, localResources: {} } });
      expect(u.cpu).toBe('ok');
      expect(u.recommended.cpu).toBe(1);
      expect(u.decorator).toBeUndefined();
      expect(u.advice).toContain('used 0.99 of the 1 cpu its @resources requests: all of it; it may be single-threaded — cannot tell if more would help');
    }
  });

  it('a second above its slot is evidence: then, and only then, more cpu', () => {
    const u = judge({ cores: 0.99, peakCores: 1.9, rssMiB: 300, slot: { cpu: 1, memory: 512 }, localSlot: { declared: { cpu: 1, memory: 512 }, localResources: {} } });
    expect(u.cpu).toBe('under-requested');
    expect(u.decorator).toBe('@resources({ cpu: 2, memory: 512 })');
    expect(u.advice).toContain('up to 1.9 cores over a second: it runs in parallel, more cpu would help');
    // an average above 1.5x of the slot is evidence by itself
    const busy = judge({ cores: 2.5, rssMiB: 300, slot: { cpu: 1, memory: 512 }, localSlot: { declared: { cpu: 1, memory: 512 }, localResources: {} } });
    expect(busy.decorator).toBe('@resources({ cpu: 3, memory: 512 })');
  });
});

describe('right-sizing: stable across identical runs', () => {
  // ± a few per cent of noise around what the seeds measure
  const noise = [0.95, 0.97, 1, 1.03, 1.05];

  it('the seed step: the same outcome whatever the noise (the figure once flipped between 1 and 1.5)', () => {
    const outcomes = noise.flatMap((n) => [0.83, 0.84, 0.99].map((c) => outcome(judge({ cores: Math.min(1, c * n), peakCores: Math.min(1.05, c * n), rssMiB: 230 * n, slot: { cpu: 1, memory: 512 }, localSlot: SEED }))));
    for (const o of outcomes) expect(o).toEqual(outcomes[0]);
    expect(outcomes[0].recommended.cpu).toBe(1);
  });

  it('an over-requested @resources: the same decorator across noise, and a local cpu figure never under 1', () => {
    const decorators = new Set(
      noise.flatMap((n) => [0.2, 0.27, 0.31, 0.5, 0.83, 0.84, 0.99, 1.2].map((c) => judge({ step: 'work', cores: c * n, rssMiB: 100 * n, slot: { cpu: 1, memory: 4096 }, localSlot: { declared: { cpu: 1, memory: 4096 }, localResources: {} } }).decorator)),
    );
    expect([...decorators]).toEqual(['@resources({ cpu: 1, memory: 256 })']);
  });

  it('within 0.3x–1.5x a resource keeps its value; a figure equal to the current one is no advice', () => {
    for (const n of noise) {
      const u = judge({ cores: 0.6 * n, rssMiB: 700 * n, slot: { cpu: 1, memory: 1024 }, localSlot: { declared: { cpu: 1, memory: 1024 }, localResources: {} } });
      expect(outcome(u)).toMatchObject({ verdict: 'ok', recommended: { cpu: 1, memory: 1024 }, decorator: undefined });
    }
    // 60 of 256 MiB is under 0.3x, but a process of its own needs 256 after rounding: nothing to change
    const small = judge({ cores: 0.6, rssMiB: 60, slot: { cpu: 1, memory: 256 }, localSlot: { declared: { cpu: 1, memory: 256 }, localResources: {} } });
    expect(small.verdict).toBe('ok');
    expect(small.worthSaying).toBe(false);
  });
});

describe('the resources card and resourceReport() say the same', () => {
  it('a step judged on a smaller local slot: warnings name the slot, no decorator, the advice sentence', () => {
    const r: RunTask = {
      pathspec: 'F/1/transcribe/2', step: 'transcribe', taskId: '2', status: 'done', startedAt: '2026-01-01T00:00:00Z', where: 'w',
      resources: { wallSeconds: 20, cpuUserSeconds: 19.8, cpuSystemSeconds: 0, peakRssBytes: 60 * MiB, host: 'h', pid: 1, worker: 'local-1', requested: { cpu: 1, memory: 512 }, localSlot: SEED },
    };
    const [a] = resourceAdvice([taskUse(r)!]);
    expect(a.warnings).toEqual(['memory: peak 60 of 512 MiB of its local slot (12%)']);
    expect(a.decorator).toBeUndefined();
    expect(a.advice).toContain('the pod request @resources({ cpu: 3, memory: 12288 }) was not measured here');
    const html = new ResourceReport([r]).render();
    expect(html).toContain('was not measured here — run with --with kubernetes to judge it');
    expect(html).not.toContain('Recommended:');
  });
});
