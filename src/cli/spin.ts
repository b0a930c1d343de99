// `flowbook spin FILE STEP [--from PATHSPEC] [--index N]`: one task of STEP again, with a past
// task's inputs and the step's current code (runtime/spin.ts), then what it did: the artifacts it
// set (as `dump` shows them, and whether each differs from the past task's), those it passed on
// unchanged, and its cards' files.
import { Task, type Task as TaskT } from '../client/index.js';
import { NameError, TaskFailedError } from '../errors.js';
import { spinStep } from '../runtime/spin.js';
import { readAnyNamespace } from './pathspec.js';
import { preview, type Look } from './inspect.js';

interface SpinFlags {
  from?: string;
  index?: string;
  datastoreRoot?: string;
  flow?: string;
  quiet?: boolean;
}

function indexFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new NameError(`--index takes a task's place among its step's tasks, 0 for the first, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Each artifact of the spin task against the past task's and the inputs': set, changed or not, or passed on. */
async function report(spun: TaskT, origin: TaskT): Promise<void> {
  const [arts, before, parents] = await Promise.all([spun.artifacts, origin.artifacts, spun.parentTasks]);
  const inputShas = new Map<string, Set<string>>();
  for (const p of parents) for (const a of await p.artifacts) inputShas.set(a.name, (inputShas.get(a.name) ?? new Set()).add(a.sha));
  const was = new Map(before.map((a) => [a.name, a.sha]));
  const set = arts.filter((a) => !inputShas.get(a.name)?.has(a.sha));
  const passedOn = arts.filter((a) => !set.includes(a));
  const look: Look = { width: process.stdout.isTTY ? process.stdout.columns : 100, head: 3, tail: 2, maxCell: 24 };
  console.log(set.length ? `artifacts it set (${set.length}):` : 'artifacts it set: none');
  for (const a of set) {
    const vs = !was.has(a.name) ? 'new: the past task had none' : was.get(a.name) === a.sha ? 'same value as the past task' : 'changed from the past task';
    const text = await preview(await a.data(), look);
    const head = `  ${a.name} (${a.type}, ${a.size} bytes, sha256 ${a.sha.slice(0, 12)}; ${vs}):`;
    console.log(text.includes('\n') ? `${head}\n${text.replace(/^(?=.)/gm, '    ')}` : `${head} ${text}`);
  }
  if (passedOn.length) console.log(`passed on unchanged from its input${parents.length === 1 ? '' : 's'}: ${passedOn.map((a) => a.name).join(', ')}`);
  const gone = before.filter((a) => !arts.some((x) => x.name === a.name)).map((a) => a.name);
  if (gone.length) console.log(`no longer set (the past task had them): ${gone.join(', ')}`);
  const cards = await spun.cards;
  if (cards.length) {
    console.log(`cards (${cards.length}):`);
    for (const c of cards) console.log(`  ${c.id}  ${c.path}`);
    console.log(`  open: flowbook card view ${spun.pathspec}${cards.length > 1 ? ' --id ID' : ''}`);
  }
}

export async function spinCommand(file: string, step: string, flags: SpinFlags): Promise<number> {
  const o = await spinStep({ file, step, from: flags.from, index: indexFlag(flags.index), flowName: flags.flow, root: flags.datastoreRoot, quiet: flags.quiet });
  const head = `${o.pathspec} (from ${o.origin}) in ${o.seconds.toFixed(2)} s`;
  if (!o.ok) {
    const e = o.result.error;
    console.error(`Failed: ${head}`);
    console.error(`  see its log: flowbook logs ${o.pathspec}`);
    throw new TaskFailedError(`spin of ${o.origin} failed at ${o.pathspec}: ${e?.type && !e.message?.startsWith(e.type) ? `${e.type}: ` : ''}${e?.message ?? 'failed'}${e?.where ? ` (at ${e.where})` : ''}`, {
      pathspec: o.pathspec,
      step,
      run: `${o.run.flowName}/${o.run.runId}`,
      cause: e,
    });
  }
  console.error(`Spun: ${head}; spin run ${o.run.flowName}/${o.run.runId} is never latest, the past run is unchanged`);
  readAnyNamespace(flags.datastoreRoot);
  await report(Task(o.pathspec), Task(o.origin));
  console.error(`  in Node or a notebook: await Task('${o.pathspec}')  (or spin() from 'flowbook/notebook')`);
  return 0;
}
