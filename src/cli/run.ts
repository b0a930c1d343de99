// `flowbook run`, `resume` and the internal `step`.
import type { Command, Option } from 'commander';
import { ParamError } from '../errors.js';
import { BARE_FLAG, type FlagValue } from '../flow/param-flags.js';
import { runFlow, assertSucceeded, type RunOutcome } from '../runtime/run.js';
import { resumeFlow } from '../runtime/resume.js';
import type { TaskSpec } from '../compute/task/spec.js';

interface RunFlags {
  datastoreRoot?: string;
  maxWorkers?: string;
  maxNumSplits: string;
  tag: string[];
  with?: string[];
  isolation: 'worker' | 'process';
  quiet?: boolean;
  /** the flow class, when FILE has several */
  flow?: string;
  /** commander's --no-cache: false when given */
  cache?: boolean;
  recompute?: string;
}

/** `--recompute a,b` → ['a', 'b'] (an empty name is an error) */
function recomputeSteps(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const names = v.split(',').map((s) => s.trim());
  if (names.some((n) => !n)) throw new ParamError(`--recompute takes step names separated by commas, got ${JSON.stringify(v)}`);
  return names;
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new ParamError(`${name} must be a whole number ≥ 1, got ${JSON.stringify(v)}`);
  return Number(v);
}

/**
 * Flow parameters arrive as unknown options: --name value, --name=value, or a bare --flag, whose
 * meaning (true, or a missing value) the flow's parameter kinds decide (flagValues()).
 */
export function parseParamFlags(tokens: string[]): Record<string, FlagValue> {
  const out: Record<string, FlagValue> = {};
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!t.startsWith('--')) throw new ParamError(`unexpected argument ${JSON.stringify(t)} (parameters are --name value)`);
    const eq = t.indexOf('=');
    if (eq > 0) out[t.slice(2, eq)] = t.slice(eq + 1);
    else if (i + 1 < tokens.length && !tokens[i + 1].startsWith('--')) out[t.slice(2)] = tokens[++i];
    else out[t.slice(2)] = BARE_FLAG;
  }
  return out;
}

// ---- `run FILE --help`: the flow's parameters below the generic options, as Metaflow's `run --help`

/** The commands whose help lists the parameters of their FILE argument. */
const FLOW_HELP_COMMANDS = [['run'], ['resume'], ['argo-workflows', 'trigger']];

/** The parameter lines of a flow's help, or one line saying why they cannot be listed. */
export async function flowParamsHelp(file: string, flowName?: string): Promise<string> {
  try {
    const { loadFlowFile } = await import('../flow/load.js');
    const { flow } = await loadFlowFile(file, flowName);
    if (!flow.params.length) return `\nFlow parameters (${flow.name}): none`;
    const rows = flow.params.map((p) => {
      const o = p.options;
      const notes = [
        o.required ? 'required' : '',
        o.default !== undefined && !o.secret ? `default: ${JSON.stringify(o.default)}` : '',
        o.env ? `env: $${o.env}` : '',
        o.secret ? 'secret: never stored' : '',
      ].filter(Boolean);
      return [`--${p.name} <${p.type}>`, [o.help ?? '', notes.length ? `(${notes.join('; ')})` : ''].filter(Boolean).join(' ')];
    });
    const width = Math.max(...rows.map(([term]) => term.length)) + 2;
    return [`\nFlow parameters (${flow.name}):`, ...rows.map(([term, text]) => `  ${term.padEnd(width)}${text}`.trimEnd())].join('\n');
  } catch (err: any) {
    const why = String(err?.message ?? err).split('\n')[0];
    return `\nFlow parameters: cannot be listed: ${why}`;
  }
}

/** `--flow NAME` or `--flow=NAME` anywhere in argv */
function flowFlag(argv: string[]): string | undefined {
  const i = argv.indexOf('--flow');
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--flow='))?.slice('--flow='.length);
}

/**
 * Commander prints help synchronously, so before parsing: when argv asks for the help of one of
 * FLOW_HELP_COMMANDS with a FILE, load the flow and append its parameters to that command's help.
 */
export async function addFlowParamsHelp(program: Command, argv: string[]): Promise<void> {
  if (!argv.some((a) => a === '--help' || a === '-h')) return;
  let cmd = program;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') return;
    if (token.startsWith('-')) {
      // skip the value of a known option that takes one (`--tag x FILE --help`)
      const opt = cmd.options.find((o: Option) => o.long === token || o.short === token);
      if (opt && (opt.required || opt.optional) && !token.includes('=')) i++;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === token || c.aliases().includes(token));
    if (sub) {
      cmd = sub;
      names.push(sub.name());
      continue;
    }
    // the first operand: the flow file, when this command takes one
    if (FLOW_HELP_COMMANDS.some((path) => path.join(' ') === names.join(' '))) cmd.addHelpText('after', await flowParamsHelp(token, flowFlag(argv)));
    return;
  }
}

/**
 * One line per step whose request was wrong by the resources card's thresholds (over its tasks
 * that ran in this run), silent when every step is ok. Printed with --quiet too: they are the
 * run's summary, not task output. Judged from the figures the runner summed as each task's record
 * became durable (the same judgement `flowbook advise` makes from the stored records); the
 * judgement loads only when some step may be wrong. Best effort: a failure prints nothing.
 */
async function resourceNotes(o: RunOutcome): Promise<string[]> {
  try {
    if (!o.usage.mayAdvise()) return [];
    const { judgeTally } = await import('../cards/usage/right-size.js');
    // the same sentence as `flowbook advise`: where it ran, against what, and only a change that fits
    return judgeTally(o.usage).filter((u) => u.verdict !== 'ok').map((u) => `note: step ${u.step}, ${u.advice}  (flowbook advise ${o.run.flowName}/${o.run.runId})`);
  } catch {
    return [];
  }
}

async function report(o: RunOutcome): Promise<void> {
  const notes = await resourceNotes(o);
  const t = o.tasks;
  const parts = [`${t.done} ran`, t.cloned ? `${t.cloned} cloned` : '', t.cached ? `${t.cached} cached` : '', t.retried ? `${t.retried} retried` : '', t.failed ? `${t.failed} failed` : '']
    .filter(Boolean)
    .join(', ');
  const id = `${o.run.flowName}/${o.run.runId}`;
  console.error(`${o.ok ? 'Done' : 'Failed'}: ${id} ${o.ok ? 'succeeded' : 'failed'} in ${o.seconds.toFixed(2)} s (tasks: ${parts})`);
  if (o.ok) {
    console.error(`  artifacts: npx flowbook dump ${id}`);
    console.error(`  in Node or a notebook: await Flow('${o.run.flowName}').run('${o.run.runId}')  (or .latestSuccessfulRun)`);
  }
  for (const n of notes) console.error(n);
}

export async function runCommand(file: string, flags: RunFlags, cmd: Command): Promise<number> {
  const rest = [...cmd.args];
  rest.splice(rest.indexOf(file), 1);
  const outcome = await runFlow({
    file,
    flowName: flags.flow,
    root: flags.datastoreRoot,
    params: parseParamFlags(rest),
    tags: flags.tag,
    maxWorkers: int('--max-workers', flags.maxWorkers),
    maxNumSplits: int('--max-num-splits', flags.maxNumSplits),
    isolation: flags.isolation,
    with: flags.with,
    quiet: flags.quiet,
    noCache: flags.cache === false,
    recompute: recomputeSteps(flags.recompute),
  });
  await report(outcome);
  assertSucceeded(outcome);
  return 0;
}

export async function resumeCommand(file: string, step: string | undefined, flags: RunFlags & { originRunId?: string }): Promise<number> {
  const outcome = await resumeFlow({
    file,
    flowName: flags.flow,
    step,
    originRunId: flags.originRunId,
    with: flags.with,
    root: flags.datastoreRoot,
    tags: flags.tag,
    maxWorkers: int('--max-workers', flags.maxWorkers),
    maxNumSplits: int('--max-num-splits', flags.maxNumSplits),
    isolation: flags.isolation,
    quiet: flags.quiet,
    noCache: flags.cache === false,
    recompute: recomputeSteps(flags.recompute),
  });
  console.error(`Resumed from ${outcome.run.flowName}/${outcome.run.originRunId}:`);
  const listed = (names: string[], n: number) => (names.length ? ':\n    ' + names.join('\n    ') + (n > names.length ? `\n    … and ${n - names.length} more` : '') : '');
  console.error(`  cloned ${outcome.tasks.cloned} task(s)${listed(outcome.clonedTasks, outcome.tasks.cloned)}`);
  console.error(`  ran ${outcome.tasks.done} task(s)${listed(outcome.ranTasks, outcome.tasks.done)}`);
  await report(outcome);
  assertSucceeded(outcome);
  return 0;
}

/** One task in this process: the entry a Kubernetes pod runs. Exit code 0 only when it is DONE. */
export async function stepCommand(flags: { taskSpec: string }): Promise<number> {
  let spec: TaskSpec;
  try {
    spec = JSON.parse(flags.taskSpec);
  } catch {
    throw new ParamError('--task-spec is not valid JSON');
  }
  const { runJobTask } = await import('../compute/pod-entry.js');
  const r = await runJobTask(spec);
  if (!r.ok) console.error(`error: ${r.pathspec} failed: ${r.error?.type}: ${r.error?.message}`);
  return r.ok ? 0 : 1;
}
