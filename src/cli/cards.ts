// `flowbook card list|get|view`: cards are HTML files stored beside their task.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Run, Step, Task, namespace, setDatastoreRoot, type Task as TaskT } from '../client/index.js';
import { resolvePathspec } from './pathspec.js';
import { NameError, NotFoundError } from '../errors.js';

/** `Flow`, `Flow/latest/…` and `Flow/latest-successful/…`: the resolver dump and logs use too. */
async function resolveLatest(pathspec: string): Promise<string[]> {
  return (await resolvePathspec(pathspec)).split('/');
}

async function tasksOf(pathspec: string, root?: string): Promise<TaskT[]> {
  if (root) setDatastoreRoot(root);
  namespace(null);
  const parts = await resolveLatest(pathspec);
  const p = parts.join('/');
  if (parts.length === 4) return [Task(p)];
  if (parts.length === 3) return Step(p).tasks();
  if (parts.length === 2) return (await Promise.all((await Run(p).steps()).map((s) => s.tasks()))).flat();
  throw new NameError(`card commands take Flow, Flow/run, Flow/run/step or Flow/run/step/task (run may be 'latest' or 'latest-successful'), got ${JSON.stringify(pathspec)}`);
}

/** One task's card: a task pathspec, or a step with a single task. */
async function oneCard(pathspec: string, id: string | undefined, root?: string) {
  const tasks = await tasksOf(pathspec, root);
  if (pathspec.split('/').length < 3 || tasks.length !== 1) {
    throw new NameError(`name one task: Flow/run/step/task, or a step with one task (${pathspec} has ${tasks.length} tasks)`);
  }
  const [task] = tasks;
  const cards = await task.cards;
  if (!cards.length) throw new NotFoundError(`task ${task.pathspec} has no cards (add @card to its step)`);
  const card = id ? cards.find((c) => c.id === id) : cards[0];
  if (!card) throw new NotFoundError(`task ${task.pathspec} has no card '${id}' (it has: ${cards.map((c) => c.id).join(', ')})`);
  return { ...card, task: task.pathspec };
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

/** A file a browser can open: the card itself in a local datastore, a temp copy of one in S3. */
async function localFile(card: { id: string; path: string; html(): Promise<string> }, task: string): Promise<string> {
  if (!card.path.startsWith('s3://')) return card.path;
  const file = path.join(os.tmpdir(), 'flowbook-cards', ...task.split('/'), `${card.id}.html`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, await card.html());
  return file;
}

export async function viewCommand(pathspec: string, flags: { id?: string; datastoreRoot?: string }): Promise<number> {
  const found = await oneCard(pathspec, flags.id, flags.datastoreRoot);
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
