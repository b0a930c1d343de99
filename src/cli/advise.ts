// `flowbook advise Flow/run`: per step, where its tasks ran and what they were compared against
// (their @resources, a smaller local slot, or a pod's request), what they used, a verdict by the
// resources card's thresholds, and the decorator to paste only where it fits what was measured
// (the rules: src/cards/usage/right-size.ts).
import { Run } from '../client/index.js';
import { storeFor } from '../client/context.js';
import { NameError } from '../errors.js';
import { alignedColumns } from './columns.js';
import { readAnyNamespace, resolvePathspec } from './pathspec.js';
import { runStepUsage } from '../cards/usage/run-usage.js';
import { loadRunTasks } from '../cards/run-records.js';
import { fmt, OVER_USE, UNDER_USE, type StepUsage } from '../cards/usage/right-size.js';

/** `Flow`, `Flow/latest`, `Flow/latest-successful` or `Flow/<run id>` → the run's pathspec. */
export async function resolveRun(pathspec: string): Promise<string> {
  const parts = pathspec.split('/');
  if (parts.length > 2 || !parts[0] || parts[1] === '') throw new NameError(`advise takes Flow, Flow/<run id>, Flow/latest or Flow/latest-successful, got ${JSON.stringify(pathspec)}`);
  // the same `latest` as dump, logs and card; Run() checks that an explicit id exists
  return Run(await resolvePathspec(pathspec)).pathspec;
}

const judged = (u: StepUsage) =>
  [u.cpu && u.cpu !== 'ok' ? `cpu` : '', u.memory && u.memory !== 'ok' ? 'memory' : ''].filter(Boolean).join(', ');

/** what a step's request was compared with: its @resources (a local slot that held it), a smaller local slot, or a pod's request */
const againstText = (u: StepUsage) => {
  const names = new Set([u.against.cpu, u.against.memory].map((a) => (a === 'pod' ? 'pod request' : a === 'resources' ? '@resources' : 'local slot')));
  return [...names].join(' + ');
};

export function adviceTable(usage: StepUsage[]): string {
  const rows = [
    ['step', 'tasks', 'where', 'against', 'cpu', 'mem MiB', 'avg cores', 'peak MiB', 'verdict', 'decorator'],
    ...usage.map((u) => [
      u.step,
      String(u.tasks),
      u.where,
      againstText(u),
      fmt(u.requested.cpu),
      u.requested.memory ? String(u.requested.memory) : '—',
      fmt(u.avgCores),
      fmt(u.peakMiB),
      u.verdict === 'ok' ? 'ok' : `${u.verdict} (${judged(u)})`,
      u.verdict === 'ok' ? '' : u.decorator ?? '—',
    ]),
  ];
  return alignedColumns(rows);
}

/** The sentences under the table: a step that is off, measured in a slot smaller than its @resources, or that used up its cores. */
export const adviceLines = (usage: StepUsage[]): string[] => usage.filter((u) => u.worthSaying).map((u) => `${u.step}, ${u.advice}`);

export async function adviseCommand(pathspec: string, flags: { datastoreRoot?: string }): Promise<number> {
  readAnyNamespace(flags.datastoreRoot);
  const p = await resolveRun(pathspec);
  const run = Run(p);
  const store = storeFor(run.flowName).store;
  const usage = await runStepUsage(store, run.id);
  console.log(`${p} (${run.status}): requested vs used per step (memory: each task's own peak, not its worker's)`);
  // @cache hits did not run here: what they used belongs to the tasks that ran, and is not judged
  const cached = new Map<string, number>();
  for (const t of await loadRunTasks(store, run.id)) if (t.status === 'cached') cached.set(t.step, (cached.get(t.step) ?? 0) + 1);
  for (const [step, n] of cached) console.log(`${step}: ${n} task(s) cached by @cache, not judged (they did not run in this run)`);
  if (!usage.length) {
    console.log('no finished tasks with resource records in this run');
    return 0;
  }
  console.log(adviceTable(usage));
  for (const line of adviceLines(usage)) console.log(line);
  console.log(`verdicts: used above ${OVER_USE}x of what it was compared with is under-requested, below ${UNDER_USE}x over-requested, on the busiest task (cpu on tasks of 1 s or more); a local task is compared with its slot, which is its @resources unless localResources or this machine made it smaller; a pod's with its request`);
  return 0;
}
