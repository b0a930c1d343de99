// `flowbook card list|get|view`: cards are HTML files stored beside their task.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Run, Step, Task, setDatastoreRoot, type Task as TaskT } from '../client/index.js';
import { isFlowFile, readAnyNamespace, resolveTarget } from './pathspec.js';
import { flowExists } from '../client/flow-names.js';
import { NameError, NotFoundError } from '../errors.js';

/** Which run a short form (FILE STEP, Flow/STEP, `latest`) picked, on stderr: stdout is the card. */
const say = (line: string) => console.error(line);

/**
 * The tasks `FILE|PATHSPEC [STEP]` name: a flow file or name, then a step, means that step of the
 * flow's latest run (Metaflow's `python flow.py card view STEP`); see resolveTarget.
 */
async function tasksOf(target: string, step: string | undefined, root?: string): Promise<{ pathspec: string; tasks: TaskT[] }> {
  readAnyNamespace(root);
  const p = await resolveTarget(target, step, say);
  const n = p.split('/').length;
  if (n === 4) return { pathspec: p, tasks: [Task(p)] };
  if (n === 3) return { pathspec: p, tasks: await Step(p).tasks() };
  if (n === 2) return { pathspec: p, tasks: (await Promise.all((await Run(p).steps()).map((s) => s.tasks()))).flat() };
  throw new NameError(`card commands take FILE [STEP], Flow[/STEP], Flow/run[/step[/task]] (run may be 'latest' or 'latest-successful'), got ${JSON.stringify(target)}`);
}

/**
 * One task's card: a task pathspec, or a step. A step with several tasks shows its first task
 * that has the card, as Metaflow shows a step's first task, and says so and how to pick another.
 */
async function oneCard(target: string, step: string | undefined, id: string | undefined, root?: string) {
  const { pathspec, tasks } = await tasksOf(target, step, root);
  if (pathspec.split('/').length < 3) throw new NameError(`name a step or a task: ${target} STEP, or Flow/run/step[/task] (${pathspec} is a whole run; its cards: flowbook card list ${pathspec})`);
  if (!tasks.length) throw new NotFoundError(`step ${pathspec} has no tasks yet`, { pathspec });
  const withCards = await Promise.all(tasks.map(async (task) => ({ task, cards: await task.cards })));
  const has = withCards.filter((t) => (id ? t.cards.some((c) => c.id === id) : t.cards.length));
  const chosen = has[0] ?? withCards[0];
  const { task, cards } = chosen;
  if (!cards.length) throw new NotFoundError(`task ${task.pathspec} has no cards (add @card to its step)`, { pathspec: task.pathspec });
  const card = id ? cards.find((c) => c.id === id) : cards[0];
  if (!card) throw new NotFoundError(`task ${task.pathspec} has no card '${id}' (it has: ${cards.map((c) => c.id).join(', ')})`, { pathspec: task.pathspec });
  if (tasks.length > 1) say(`step ${pathspec} has ${tasks.length} tasks: the card of its first, ${task.pathspec} (another: ${pathspec}/TASK_ID; all of them: flowbook card list ${pathspec})`);
  return { ...card, task: task.pathspec };
}

export async function listCommand(target: string, step: string | undefined, flags: { datastoreRoot?: string }): Promise<number> {
  let count = 0;
  const { pathspec, tasks } = await tasksOf(target, step, flags.datastoreRoot);
  for (const t of tasks) {
    for (const c of await t.cards) {
      console.log(`${t.pathspec}  ${c.id}  ${c.path}`);
      count++;
    }
  }
  if (!count) console.error(`no cards under ${[target, step].filter(Boolean).join(' ')}${pathspec !== target ? ` (${pathspec})` : ''}`);
  return 0;
}

/**
 * `card get FILE|Flow STEP [OUT]` or `card get PATHSPEC [OUT]`: after a flow (a file or a bare name)
 * comes its step, after a pathspec the output file.
 */
export async function getCommand(target: string, second: string | undefined, third: string | undefined, flags: { id?: string; datastoreRoot?: string }): Promise<number> {
  if (flags.datastoreRoot) setDatastoreRoot(flags.datastoreRoot);
  // a bare name is a flow (a step follows) or a step of some flow (the file follows)
  const afterFlow = isFlowFile(target) || (!target.includes('/') && (await flowExists(target)));
  if (!afterFlow && third !== undefined) throw new NameError(`card get PATHSPEC [FILE] takes one file, got ${JSON.stringify(second)} and ${JSON.stringify(third)}`);
  const [step, file] = afterFlow ? [second, third] : [undefined, second];
  const card = await oneCard(target, step, flags.id, flags.datastoreRoot);
  const html = await card.html();
  if (file) fs.writeFileSync(file, html);
  else process.stdout.write(html);
  return 0;
}

/** A file a browser can open: the card itself in a local datastore, a temp copy of one in S3. */
async function localFile(card: { id: string; path: string; html(): Promise<string> }, task: string): Promise<string> {
  if (!card.path.startsWith('s3://')) return card.path;
  const file = path.join(os.tmpdir(), 'flowbook-cards', ...task.split('/'), `${card.id}.html`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, await card.html());
  return file;
}

export async function viewCommand(target: string, step: string | undefined, flags: { id?: string; datastoreRoot?: string }): Promise<number> {
  const found = await oneCard(target, step, flags.id, flags.datastoreRoot);
  const card = { ...found, path: await localFile(found, found.task) };
  // open a browser only where there is a display; otherwise say where the file is
  if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) {
    const opened = await execa('xdg-open', [card.path]).then(() => true, () => false);
    if (opened) {
      console.log(`opened ${card.path}`);
      return 0;
    }
  }
  console.log(card.path);
  return 0;
}

export async function serverCommand(flags: { port?: string; host?: string; datastoreRoot?: string }): Promise<number> {
  const { startCardServer } = await import('../cards/server.js');
  const { resolveRoot } = await import('../datastore/store.js');
  const root = resolveRoot(flags.datastoreRoot);
  const server = await startCardServer({ root, port: Number(flags.port ?? 8324) });
  console.log(`card server: ${server.url}  (datastore ${root}; Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const stop = () => void server.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
