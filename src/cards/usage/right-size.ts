// Right-sizing a step: what its tasks were compared against, the verdict, and only the change
// that fits what was measured. `flowbook advise`, the run's closing notes, the resources card and
// resourceReport() in a notebook all say what this says.
//
// What is judged. A pod's task against its pod request. A local task against its slot, the
// smallest of the step's @resources, the flow's `localResources` and this machine: where the slot
// held what @resources asks, the local run judged @resources, and advice may say `@resources(…)`;
// where localResources (or the machine) made it smaller, the task was measured in a slot no pod
// would get: advice names the slot and says the pod request was not measured here.
//
// Rounding, chosen so that noise does not flip it. A resource whose busiest task used between
// UNDER_USE (0.3x) and OVER_USE (1.5x) of what it was compared with is ok and keeps its value;
// only one outside that band gets a new figure: cpu the busiest task's cores × 1.2 rounded up to
// the next 0.5 (at least 0.5 for a pod, 1 for a local run), memory the busiest task's process peak × 1.25 rounded up to the
// next 256 MiB (at least 256). A new figure equal to the current one is no advice. So the figure
// moves only when the use moves by a third or more, never on a few per cent of noise.
//
// More cpu only on evidence. A task that used (nearly) all of its cores may be CPU-bound or
// single-threaded; only a second in which it ran above its slot (peakCores, see src/compute/task/usage.ts), or an
// average above 1.5x, says it could use more. Without that, advice says it cannot tell.
import { UseTally, type StepTally, type TaskFigures } from './use-tally.js';

export { MIN_WALL_FOR_CPU } from './use-tally.js';

/** One finished task, requested vs used, with its warnings (task-use.ts reads it from the task's record). */
export interface TaskUse extends TaskFigures {
  warnings: string[];
}

export const OVER_USE = 1.5;
export const UNDER_USE = 0.3;
/** cores used / cores held at or above this: it used all of them */
const SATURATED = 0.9;
/** peak cores above cores held × this, over a second: it ran in parallel */
const PARALLEL = 1.2;
const CPU_STEP = 0.5;
const MEMORY_STEP = 256;

export const fmt = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(2).replace(/\.?0+$/, ''));

/** what a request was, judged by what was used: above OVER_USE it was too small, below UNDER_USE too large */
export type Verdict = 'over-requested' | 'under-requested' | 'ok';

export function verdictOf(used: number, requested: number): Verdict {
  const ratio = used / requested;
  return ratio > OVER_USE ? 'under-requested' : ratio < UNDER_USE ? 'over-requested' : 'ok';
}

/**
 * What a resource was compared against: the step's @resources (a local slot that held it), a local
 * slot that localResources or this machine made smaller, or a pod's request.
 */
export type Against = 'resources' | 'localResources' | 'machine' | 'pod';

/** One step of a run, requested vs used: what `flowbook advise` prints and the run's last lines warn about. */
export interface StepUsage {
  step: string;
  tasks: number;
  /** where its judged tasks ran */
  where: 'local' | 'pod';
  /** what each resource was compared against */
  against: { cpu: Against; memory: Against };
  /** what they were compared with (cores, MiB; memory 0: none requested) */
  requested: { cpu: number; memory: number };
  /** for a local run: the step's @resources as declared (what a pod would request) */
  declared?: { cpu?: number; memory?: number };
  /** CPU seconds over wall seconds, summed over the step's tasks */
  avgCores: number;
  /** cores of the busiest task long enough to judge (undefined: none was) */
  maxCores?: number;
  /** the most cores any of its tasks used over a second (undefined: not recorded) */
  peakCores?: number;
  /** the largest of the tasks' own peaks */
  peakMiB: number;
  /** undefined: not judged (tasks too short for CPU; no memory request) */
  cpu?: Verdict;
  memory?: Verdict;
  /** under-requested if either resource is, else over-requested if either is, else ok */
  verdict: Verdict;
  recommended: { cpu: number; memory: number };
  /** what to paste above the step; undefined when no decorator fits what was measured */
  decorator?: string;
  /** one sentence: where it ran, against what, what it used, and what to do */
  advice: string;
  /** the sentence says more than ok: a verdict, a local slot smaller than @resources, or cores it used up */
  worthSaying: boolean;
}

const ceilTo = (x: number, step: number) => Math.ceil(x / step - 1e-9) * step;

/** Every step of the given tasks (in the order they are listed), judged on its busiest task (see the top of this file). */
export function stepUsage(uses: TaskUse[]): StepUsage[] {
  const tally = new UseTally();
  for (const u of uses) tally.add(u);
  return judgeTally(tally);
}

/** Every step of a tally, judged on its busiest task: what the runner's closing notes say. */
export function judgeTally(tally: UseTally): StepUsage[] {
  const base = tally.processBase;
  return tally.judged().map(({ step, tally: t }) => judgeStep(step, t, base));
}

/** Where a local task's slot came from, per resource; a pod's is its request. */
function againstOf(u: TaskFigures): StepUsage['against'] {
  if (u.kubernetes) return { cpu: 'pod', memory: 'pod' };
  const slot = u.localSlot;
  // a record from before issue 19 knows no more: its slot was taken for @resources
  if (!slot) return { cpu: 'resources', memory: 'resources' };
  const cut = (held: number, declared: number | undefined, hook: number | undefined): Against =>
    declared === undefined || held >= declared ? 'resources' : hook !== undefined && held >= hook ? 'localResources' : 'machine';
  // the slot's cores are whole (at least 1): a declared 0.5 is held as 1
  const cpuHook = slot.localResources.cpu === undefined ? undefined : Math.max(1, Math.floor(slot.localResources.cpu));
  return {
    cpu: cut(u.cpuRequested, slot.declared.cpu === undefined ? undefined : Math.max(1, Math.floor(slot.declared.cpu)), cpuHook),
    memory: cut(u.memoryRequestedMiB, slot.declared.memory, slot.localResources.memory),
  };
}

function judgeStep(step: string, t: StepTally, base: number): StepUsage {
  const first = t.first;
  const where = first.kubernetes ? 'pod' : 'local';
  const against = againstOf(first);
  const declared = first.localSlot?.declared;
  // against @resources, a local task is compared with what it asks (a declared 0.5 cpu, held as 1)
  const requested = {
    cpu: against.cpu === 'resources' && declared?.cpu !== undefined ? declared.cpu : first.cpuRequested,
    memory: first.memoryRequestedMiB,
  };
  const { wall, cpuSeconds, maxCores, peakCores, peakMiB } = t;
  // the memory figure is for a process of its own, as a pod is: a local task's rise plus a fresh worker's base
  const processMiB = peakMiB + (first.kubernetes ? 0 : base);

  // cpu: a local slot holds whole cores, and a local average under one core is too noisy (other
  // processes, start-up) to ask a pod for half of one: locally, no figure under 1
  const cpuFloor = where === 'local' ? 1 : CPU_STEP;
  let cpu: Verdict | undefined;
  let cpuFigure = requested.cpu;
  let cpuRemark = '';
  if (maxCores !== undefined && requested.cpu > 0) {
    cpu = verdictOf(maxCores, requested.cpu);
    if (cpu !== 'ok') cpuFigure = Math.max(cpuFloor, ceilTo(maxCores * 1.2, CPU_STEP));
    else if (maxCores >= SATURATED * requested.cpu) {
      if (peakCores !== undefined && peakCores > PARALLEL * requested.cpu) {
        cpu = 'under-requested';
        cpuFigure = Math.max(cpuFloor, ceilTo(peakCores, CPU_STEP));
        cpuRemark = `, up to ${fmt(peakCores)} cores over a second: it runs in parallel, more cpu would help`;
      } else cpuRemark = `: all of it; it may be single-threaded — cannot tell if more would help`;
    }
    // the same figure is no advice (hysteresis: a change is at least one step), nor is a larger one for an idle task
    if ((cpu === 'over-requested' && cpuFigure >= requested.cpu) || cpuFigure === requested.cpu) cpu = 'ok';
    if (cpu === 'ok') cpuFigure = requested.cpu;
  }

  // memory
  let memory: Verdict | undefined;
  const memoryFit = Math.max(MEMORY_STEP, ceilTo(processMiB * 1.25, MEMORY_STEP));
  let memoryFigure = requested.memory || memoryFit;
  if (requested.memory > 0) {
    memory = verdictOf(peakMiB, requested.memory);
    if (memory !== 'ok') memoryFigure = memoryFit;
    // over-requested by the task's own rise, yet its process needs as much: no change
    if ((memory === 'over-requested' && memoryFigure >= requested.memory) || memoryFigure === requested.memory) memory = 'ok';
    if (memory === 'ok') memoryFigure = requested.memory;
  }

  const verdict: Verdict = cpu === 'under-requested' || memory === 'under-requested' ? 'under-requested' : cpu === 'over-requested' || memory === 'over-requested' ? 'over-requested' : 'ok';
  const recommended = { cpu: cpuFigure, memory: memoryFigure };
  const wrong = (v?: Verdict) => v !== undefined && v !== 'ok';

  // the decorator fits only what was judged as a request: a pod's, or @resources where the slot was it
  let decorator: string | undefined;
  let tail = '';
  const cutBy = (['cpu', 'memory'] as const).filter((k) => against[k] === 'localResources' || against[k] === 'machine');
  const declaredText = `@resources({ ${[declared?.cpu !== undefined ? `cpu: ${declared.cpu}` : '', declared?.memory !== undefined ? `memory: ${declared.memory}` : ''].filter(Boolean).join(', ')} })`;
  if (where === 'pod') {
    if (verdict !== 'ok') decorator = `@kubernetes({ cpu: ${recommended.cpu}, memory: ${recommended.memory} })`;
  } else {
    const judgedAsResources = (['cpu', 'memory'] as const).filter((k) => against[k] === 'resources' && wrong(k === 'cpu' ? cpu : memory));
    if (judgedAsResources.length) {
      // a resource judged on a smaller slot keeps its declared value: it was not measured here
      const args = {
        cpu: against.cpu === 'resources' ? recommended.cpu : declared?.cpu ?? first.cpuRequested,
        memory: against.memory === 'resources' ? recommended.memory : declared?.memory ?? recommended.memory,
      };
      decorator = `@resources({ cpu: ${args.cpu}, memory: ${args.memory} })`;
    }
    if (cutBy.length)
      tail = decorator
        ? ` (its ${cutBy.join(' and ')} keep${cutBy.length > 1 ? '' : 's'} the declared value: not measured here — run with --with kubernetes to judge it)`
        : `; the pod request ${declaredText} was not measured here — run with --with kubernetes to judge it`;
  }

  const held = (k: 'cpu' | 'memory', n: number) => {
    const unit = k === 'cpu' ? `${fmt(n)}-cpu` : `${n} MiB`;
    const a = against[k];
    return a === 'pod' ? `of the ${k === 'cpu' ? `${fmt(n)} cpu` : `${n} MiB`} its pod requested`
      : a === 'resources' ? `of the ${k === 'cpu' ? `${fmt(n)} cpu` : `${n} MiB`} its @resources requests`
      : `of its ${unit} local slot (${a === 'localResources' ? 'set by localResources' : "this machine's limit"})`;
  };
  const measures = [
    maxCores !== undefined && requested.cpu > 0 ? `used ${fmt(maxCores)} ${held('cpu', requested.cpu)}${cpuRemark}` : '',
    requested.memory > 0 ? `peak ${fmt(peakMiB)} ${held('memory', requested.memory)}` : `peak ${fmt(peakMiB)} MiB (no memory requested)`,
  ].filter(Boolean);
  const advice = `${where === 'pod' ? 'in its pod' : 'locally'}: ${measures.join(', ')}${decorator ? `; try ${decorator}` : ''}${tail}`;
  return {
    step,
    tasks: t.tasks,
    where,
    against,
    requested,
    ...(where === 'local' && declared ? { declared } : {}),
    avgCores: wall > 0 ? cpuSeconds / wall : 0,
    maxCores,
    peakCores,
    peakMiB,
    cpu,
    memory,
    verdict,
    recommended,
    decorator,
    advice,
    worthSaying: verdict !== 'ok' || cutBy.length > 0 || cpuRemark !== '',
  };
}
