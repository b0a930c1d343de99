// `flowbook card list|get|view`: cards are HTML files stored beside their task.
import fs from 'node:fs';
import { execa } from 'execa';
import { Run, Step, Task, namespace, setDatastoreRoot, type Task as TaskT } from '../client/index.js';
import { NameError, NotFoundError } from '../errors.js';

async function tasksOf(pathspec: string, root?: string): Promise<TaskT[]> {
  if (root) setDatastoreRoot(root);
  namespace(null);
  const n = pathspec.split('/').length;
  if (n === 4) return [Task(pathspec)];
  if (n === 3) return Step(pathspec).tasks();
  if (n === 2) return (await Promise.all((await Run(pathspec).steps()).map((s) => s.tasks()))).flat();
  throw new NameError(`card commands take Flow/run, Flow/run/step or Flow/run/step/task, got ${JSON.stringify(pathspec)}`);
}

async function oneCard(pathspec: string, id: string | undefined, root?: string) {
  const [task] = await tasksOf(pathspec, root);
  if (pathspec.split('/').length !== 4) throw new NameError(`name one task: Flow/run/step/task (got ${pathspec})`);
  const cards = await task.cards;
  if (!cards.length) throw new NotFoundError(`task ${task.pathspec} has no cards (add @card to its step)`);
  const card = id ? cards.find((c) => c.id === id) : cards[0];
  if (!card) throw new NotFoundError(`task ${task.pathspec} has no card '${id}' (it has: ${cards.map((c) => c.id).join(', ')})`);
  return card;
}

export async function listCommand(pathspec: string, flags: { datastoreRoot?: string }): Promise<number> {
  let count = 0;
  for (const t of await tasksOf(pathspec, flags.datastoreRoot)) {
    for (const c of await t.cards) {
      console.log(`${t.pathspec}  ${c.id}  ${c.path}`);
      count++;
    }
  }
  if (!count) console.error(`no cards under ${pathspec}`);
  return 0;
}

export async function getCommand(pathspec: string, file: string | undefined, flags: { id?: string; datastoreRoot?: string }): Promise<number> {
  const card = await oneCard(pathspec, flags.id, flags.datastoreRoot);
  const html = await card.html();
  if (file) fs.writeFileSync(file, html);
  else process.stdout.write(html);
  return 0;
}

export async function viewCommand(pathspec: string, flags: { id?: string; datastoreRoot?: string }): Promise<number> {
  const card = await oneCard(pathspec, flags.id, flags.datastoreRoot);
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
