// The run part of a pathspec on the command line: `latest`, `latest-successful`, or an id; and the
// shorter forms Metaflow users type, which all mean the flow's latest run: `FILE STEP` (as
// `python flow.py card view STEP`), `Flow/STEP`, and a bare `STEP` when one flow has it.
import fs from 'node:fs';
import { Flow, namespace, setDatastoreRoot, type Run } from '../client/index.js';
import { checkFlowExists, flowExists, flowNames } from '../client/flow-names.js';
import { NameError, NotFoundError } from '../errors.js';

/**
 * Set up a command that reads what a pathspec names (dump, logs, card, verify, advise): the
 * datastore it is in (--datastore-root, else the environment's), and no namespace filtering — a
 * pathspec names one thing exactly, and `latest` means in any namespace, as in Metaflow's CLI.
 */
export function readAnyNamespace(datastoreRoot?: string): void {
  if (datastoreRoot) setDatastoreRoot(datastoreRoot);
  namespace(null);
}

/** Where a command says which run a short form picked (stderr); silent when not given. */
export type Say = (line: string) => void;

const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const FLOW_FILE = /\.[cm]?[jt]sx?$/;

/** A flow file rather than a pathspec: a .ts/.js name, or a file that exists. */
export function isFlowFile(arg: string): boolean {
  return FLOW_FILE.test(arg) || (fs.existsSync(arg) && fs.statSync(arg).isFile());
}

async function latestOf(flow: string, which: 'latest' | 'latest-successful'): Promise<Run> {
  const f = Flow(flow);
  const run = await (which === 'latest' ? f.latestRun : f.latestSuccessfulRun);
  if (!run) throw new NotFoundError(`flow ${flow} has no ${which === 'latest' ? '' : 'successful '}runs`, { pathspec: flow });
  return run;
}

const stepsOf = async (run: Run) => (await run.steps()).map((s) => s.id);
const picked = (run: Run, how: string) => `${how}: ${run.pathspec} (${run.status}, started ${run.createdAt.toISOString()})`;

/** `Flow/X`: the run X, else the step X of the flow's latest run. */
async function runOrStep(flow: string, id: string, say?: Say): Promise<string> {
  const run = await Flow(flow)
    .run(id)
    .catch((err) => {
      if (err instanceof NotFoundError || err instanceof NameError) return undefined;
      throw err;
    });
  if (run || !STEP_NAME.test(id)) return `${flow}/${id}`;
  const latest = await latestOf(flow, 'latest');
  const steps = await stepsOf(latest);
  if (!steps.includes(id)) throw new NotFoundError(`${flow}/${id}: ${flow} has no run ${id}, and its latest run ${latest.pathspec} has no step ${id} (its steps: ${steps.join(', ') || 'none yet'})`, { pathspec: `${flow}/${id}` });
  say?.(picked(latest, `${flow}/${id} is step ${id} of the latest run`));
  return `${latest.pathspec}/${id}`;
}

/** A bare name that is not a flow: a step of the one flow whose latest run has it. */
async function stepOfSomeFlow(name: string, say?: Say): Promise<string> {
  const found: Run[] = [];
  if (STEP_NAME.test(name)) {
    for (const flow of await flowNames()) {
      const latest = await Flow(flow).latestRun.catch(() => undefined);
      if (latest && (await stepsOf(latest).catch((): string[] => [])).includes(name)) found.push(latest);
    }
  }
  if (found.length > 1) {
    throw new NameError(`'${name}' is a step of the latest run of ${found.length} flows (${found.map((r) => r.flowName).join(', ')}): name the flow, e.g. ${found[0].flowName}/${name} or FLOW_FILE ${name}`);
  }
  if (!found.length) await checkFlowExists(name, `'${name}' is no step of any flow's latest run, and `);
  const [run] = found;
  say?.(picked(run, `${name} is step ${name} of the latest run of ${run.flowName}`));
  return `${run.pathspec}/${name}`;
}

/**
 * A pathspec with its run part resolved: `Flow/latest/…` is the flow's newest run,
 * `Flow/latest-successful/…` its newest successful one, a bare `Flow` its newest run, `Flow/STEP`
 * (no run STEP) that step of its newest run, and a bare `STEP` (no flow STEP) that step of the
 * newest run of the one flow that has it. Shared by dump, logs, card and advise (call after the
 * namespace is set); `say` hears which run a short form picked.
 */
export async function resolvePathspec(pathspec: string, say?: Say): Promise<string> {
  const parts = pathspec.split('/');
  if (parts.length === 1 && parts[0]) {
    if (!(await flowExists(parts[0]))) return stepOfSomeFlow(parts[0], say);
    parts.push('latest');
  }
  if (parts.length === 2 && parts[1] !== 'latest' && parts[1] !== 'latest-successful') return runOrStep(parts[0], parts[1], say);
  if (parts[1] !== 'latest' && parts[1] !== 'latest-successful') return pathspec;
  const run = await latestOf(parts[0], parts[1]);
  say?.(picked(run, parts[1] === 'latest' ? `latest run of ${parts[0]}` : `latest successful run of ${parts[0]}`));
  parts[1] = run.id;
  return parts.join('/');
}

/**
 * What `FILE|PATHSPEC [STEP]` arguments name: a flow file means its flow, and a STEP after a flow
 * (file or name) that step of the flow's latest run, as in Metaflow's `python flow.py card view STEP`.
 */
export async function resolveTarget(target: string, step: string | undefined, say?: Say): Promise<string> {
  let flow = target;
  if (isFlowFile(target)) {
    const { loadFlowGraph } = await import('../flow/graph.js');
    flow = (await loadFlowGraph(target)).flowName;
  }
  if (step === undefined) return resolvePathspec(flow, say);
  if (flow.includes('/')) throw new NameError(`a STEP goes after a flow file or a flow name (FILE STEP, Flow STEP), not after the pathspec ${target}: ${target}/${step}?`);
  if (!STEP_NAME.test(step)) throw new NameError(`${JSON.stringify(step)} is not a step name (after ${target} comes the step: ${target} STEP)`);
  return resolvePathspec(`${flow}/latest/${step}`, say);
}
