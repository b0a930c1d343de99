// One task's record read as requested vs used, with a warning where its use left the band
// right-size.ts judges by (a pod would be throttled or OOM-killed, or cores and memory sat idle).
import type { RunTask } from '../run-records.js';
import { isPod, taskFigures } from './use-tally.js';
import { MIN_WALL_FOR_CPU, fmt, verdictOf, type TaskUse } from './right-size.js';

export function taskUse(t: RunTask): TaskUse | undefined {
  const r = t.resources;
  if (!r) return undefined;
  const figures = taskFigures(t.pathspec, t.step, r);
  const { cpuUsed, memoryUsedMiB: memUsed } = figures;
  const warnings: string[] = [];
  // a local slot smaller than the step's @resources (localResources, this machine) is no request:
  // what a pod would do with it is not what was measured
  const slot = !isPod(r) && r.localSlot ? r.localSlot.declared : undefined;
  const cpuSlot = slot?.cpu !== undefined && r.requested.cpu < Math.max(1, Math.floor(slot.cpu));
  const memorySlot = slot?.memory !== undefined && r.requested.memory < slot.memory;
  if (r.wallSeconds >= MIN_WALL_FOR_CPU && r.requested.cpu > 0) {
    const ratio = cpuUsed / r.requested.cpu;
    const v = verdictOf(cpuUsed, r.requested.cpu);
    if (v === 'under-requested') warnings.push(cpuSlot ? `CPU: used ${fmt(cpuUsed)} cores in a ${fmt(r.requested.cpu)}-cpu local slot (${fmt(ratio)}x)` : `CPU: used ${fmt(cpuUsed)} cores on a request of ${fmt(r.requested.cpu)} (${fmt(ratio)}x): a pod would be throttled to its request`);
    else if (v === 'over-requested') warnings.push(`CPU: used ${fmt(cpuUsed)} of ${fmt(r.requested.cpu)} cores ${cpuSlot ? 'of its local slot' : 'requested'} (${Math.round(ratio * 100)}%): the rest sat idle`);
  }
  if (r.requested.memory > 0) {
    const ratio = memUsed / r.requested.memory;
    const v = verdictOf(memUsed, r.requested.memory);
    if (v === 'under-requested') warnings.push(memorySlot ? `memory: peak ${fmt(memUsed)} MiB in a ${r.requested.memory} MiB local slot (${fmt(ratio)}x)` : `memory: peak ${fmt(memUsed)} MiB on a request of ${r.requested.memory} MiB (${fmt(ratio)}x): a pod would be OOM-killed`);
    else if (v === 'over-requested') warnings.push(`memory: peak ${fmt(memUsed)} of ${r.requested.memory} MiB ${memorySlot ? 'of its local slot' : 'requested'} (${Math.round(ratio * 100)}%)`);
  }
  return { ...figures, warnings };
}
