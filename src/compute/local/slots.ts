// What a local task holds of this machine while it runs: a slot of cores and memory, made from
// the step's @resources (or @kubernetes, run here) and what the flow says the step can use.
import os from 'node:os';
import type { LoadedFlow } from '../../flow/load.js';
import type { StepTerms } from '../executor.js';

type LocalUse = { cpu?: number; memory?: number };

/**
 * What tasks here may hold: the machine's cores — or FLOWBOOK_CORES, which pretends it has that
 * many (to plan slots as on a smaller or bigger host) — and its memory in MiB.
 */
export function thisMachine(): { cores: number; memoryMiB: number } {
  return { cores: Number(process.env.FLOWBOOK_CORES) || os.availableParallelism(), memoryMiB: Math.floor(os.totalmem() / 2 ** 20) };
}

/**
 * What a step uses when it runs on this machine, as its flow says before the task starts:
 * `static localResources = { transcribe: (params) => ({ cpu: 1, memory: 512 }) }` on the flow
 * class (from the run's parameters: the model decides the engine and its threads). A local slot
 * is the smaller of this and the step's @resources; a pod still requests @resources. Asked once
 * per step; a hook that throws is reported and the request is used.
 */
function localResources(flow: LoadedFlow, params: Record<string, unknown>, warn: (line: string) => void): (step: string) => LocalUse {
  const hooks = (flow.cls as unknown as { localResources?: Record<string, (p: Record<string, unknown>) => LocalUse | undefined> }).localResources;
  const cache = new Map<string, LocalUse>();
  return (step) => {
    let use = cache.get(step);
    if (use) return use;
    use = {};
    const hook = hooks?.[step];
    if (typeof hook === 'function') {
      try {
        const r = hook({ ...params });
        for (const k of ['cpu', 'memory'] as const) if (typeof r?.[k] === 'number' && r[k]! > 0) use[k] = r[k];
      } catch (err: any) {
        warn(`note: ${flow.name}.localResources.${step} failed (${err?.message ?? err}); its tasks hold what @resources requests`);
      }
    }
    cache.set(step, use);
    return use;
  };
}

/** Each step's local terms: its slot (at most the machine), what its task is told, what the slot was made from. */
export function localSlots(flow: LoadedFlow, params: Record<string, unknown>, machine: { cores: number; memoryMiB: number }, warn: (line: string) => void): (step: string) => StepTerms {
  const local = localResources(flow, params, warn);
  const terms = new Map<string, StepTerms>();
  return (step) => {
    let t = terms.get(step);
    if (t) return t;
    const m = flow.steps.get(step);
    // what the step's decorators declare (a step with @kubernetes that runs here holds its request)
    const r = { ...m?.resources, ...m?.kubernetes };
    // locally a task holds no more than it can use: a single-threaded engine, one core
    const use = local(step);
    const slot = { cpu: Math.min(r.cpu ?? 1, use.cpu ?? Infinity, machine.cores), memory: Math.min(r.memory ?? 0, use.memory ?? Infinity, machine.memoryMiB), gpu: r.gpu ?? 0 };
    // what the slot was made from, for advice
    const declared = { ...(r.cpu !== undefined ? { cpu: r.cpu } : {}), ...(r.memory !== undefined ? { memory: r.memory } : {}) };
    t = {
      slot,
      resources: { cpu: Math.max(1, Math.floor(slot.cpu)), memory: slot.memory, gpu: slot.gpu },
      localSlot: { declared, localResources: use },
      secretsInSpec: true,
    };
    terms.set(step, t);
    return t;
  };
}
