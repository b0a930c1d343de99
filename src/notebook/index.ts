// flowbook in a tslab notebook: `await show(x)` displays a DataFrame or Arrow table, a card, a
// card component, a chart or a run; `await runFlow(file, params)` runs a flow in a child process,
// `await spin(file, step)` one task of it again (`flowbook spin`), returning the spin task.
// tslab compiles cells to CommonJS, so nothing here (nor in 'flowbook') uses top-level await, and
// ESM-only packages with top-level await (vega 6) are loaded here with import(), never by a cell.
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import { execa } from 'execa';
import path from 'node:path';
import { RunObject } from '../client/run.js';
import { TaskObject } from '../client/task.js';
import { Flow } from '../client/index.js';
import { datastoreRoot, storeFor } from '../client/context.js';
import { cardHtml } from '../cards/render.js';
import type { CardComponent } from '../cards/components/component.js';
import { VegaLite } from '../cards/components/vega-lite.js';
import { cardFrameHtml, runHtml, type RunSummary } from './html.js';
import { tabular, tableHtml } from '../client/table-html.js';
import { FlowbookError, TaskFailedError, type TaskFailedOptions } from '../errors.js';
import { PACKAGE_ROOT } from './runner.js';
import { loadRunTasks } from '../cards/run-records.js';
import { taskUse } from '../cards/usage/task-use.js';
import type { TaskUse } from '../cards/usage/right-size.js';
import { resourceAdvice, type StepAdvice } from '../cards/usage/advice.js';

export { cardFrameHtml, runHtml } from './html.js';
export { tabular, tableHtml } from '../client/table-html.js';

const req = createRequire(import.meta.url);

type Mime = 'text/html' | 'image/svg+xml' | 'text/plain';

/** Send a display_data through tslab when in a kernel; print plain text otherwise. */
function emit(mime: Mime, body: string, plain: string): void {
  let display: { raw(m: string, b: string): void } | undefined;
  try {
    display = req('tslab').display;
    display!.raw(mime, body);
    return;
  } catch {
    // not inside a tslab kernel (tslab says "Not ready"), or tslab is not installed
  }
  console.log(plain);
}

interface StoredCard {
  id: string;
  path: string;
  html(): Promise<string>;
}
const isStoredCard = (x: any): x is StoredCard => x && typeof x.id === 'string' && typeof x.path === 'string' && typeof x.html === 'function';
const isComponent = (x: any): x is CardComponent => x && typeof x.render === 'function';

/** How show() displays a value. */
export interface ShowOptions {
  /** rows shown at the head and at the tail of a table. Default 5 */
  rows?: number;
  /** iframe height for cards, in px. Default 520 */
  height?: number;
  /** a line above a card, or a card component's page title. Default: a stored card's `card <id> — <path>`; for components none */
  title?: string;
}

/**
 * Display anything flowbook makes: a DataFrame or Arrow table (shape, dtypes, head and tail), a
 * stored card (`(await task.cards)[0]`) or a card component in a contained iframe, a VegaLite chart
 * as static SVG, a Run as a summary; anything else as text.
 */
export async function show(x: unknown, o: ShowOptions = {}): Promise<void> {
  const t = tabular(x, o.rows ?? 5);
  if (t) return emit('text/html', tableHtml(t), `${t.kind}: ${t.rows} rows × ${t.columns.length} columns [${t.columns.join(', ')}]`);
  if (x instanceof RunObject) {
    const s = await runSummary(x);
    return emit('text/html', runHtml(s), `${s.pathspec} ${s.status}`);
  }
  if (isStoredCard(x)) return emit('text/html', cardFrameHtml(await x.html(), { height: o.height, title: o.title ?? `card ${x.id} — ${x.path}` }), `card ${x.id}: ${x.path}`);
  if (x instanceof VegaLite) {
    const svg = await chartSvg(x.spec);
    return emit('image/svg+xml', svg, `chart (${svg.length} bytes of SVG)`);
  }
  if (isComponent(x) || (Array.isArray(x) && x.length && x.every(isComponent))) {
    const parts = Array.isArray(x) ? (x as CardComponent[]) : [x];
    const html = cardHtml(parts, { title: o.title ?? '' });
    return emit('text/html', cardFrameHtml(html, { height: o.height }), `card with ${parts.length} component(s)`);
  }
  const text = inspect(x, { depth: 4, maxArrayLength: 50, breakLength: 100 });
  return emit('text/plain', text, text);
}

/** A run's summary: status, duration, parameters, steps with their task and failure counts. */
export async function runSummary(run: RunObject): Promise<RunSummary> {
  const steps: RunSummary['steps'] = [];
  for (const s of await run.steps()) {
    const tasks = await s.tasks();
    let failed = 0;
    for (const t of tasks) if (!t.successful && (await t.attempts).at(-1)?.status === 'failed') failed++;
    steps.push({ name: s.id, tasks: tasks.length, failed });
  }
  return {
    pathspec: run.pathspec,
    status: run.status,
    createdAt: run.createdAt.toISOString(),
    durationSeconds: run.durationSeconds,
    user: run.user,
    tags: run.userTags,
    params: run.params,
    steps,
    failure: run.failure ? `${run.failure.pathspec}: ${run.failure.message}` : undefined,
  };
}

let vegaLibs: Promise<[any, any]> | undefined;

/** A vega-lite spec rendered to SVG in Node (vega 6 is ESM with top-level await: imported here, not in a cell). */
export async function chartSvg(spec: Record<string, unknown>): Promise<string> {
  vegaLibs ??= Promise.all([import('vega'), import('vega-lite')]);
  const [vega, vl] = await vegaLibs;
  const compiled = vl.compile(spec as any).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** How the notebook's runFlow() runs the CLI. */
export interface RunFlowOptions {
  /** datastore root. Default: the one this process's client reads */
  root?: string;
  /** working directory of the run; relative params resolve here. Default: the flowbook project */
  cwd?: string;
  /** variables added to this process's environment for the run. Default: none */
  env?: Record<string, string>;
  /** echo the run's output. Default true */
  echo?: boolean;
  /** `--tag`s of the run. Default: none */
  tags?: string[];
  /** `--max-workers`: tasks running at once. Default: the CLI's (FLOWBOOK_CORES, else the machine's cores) */
  maxWorkers?: number;
}

/**
 * Run a flow with the CLI in a child process (the kernel stays clean, a crash stays there) and
 * return the finished run. Parameters are flow parameters: `{ urls: 'samples', model: 'auto' }`.
 */
export async function runFlow(file: string, params: Record<string, string | number | boolean> = {}, o: RunFlowOptions = {}): Promise<RunObject> {
  const cwd = o.cwd ?? PACKAGE_ROOT;
  // the run goes where this notebook's client reads
  const root = o.root ? path.resolve(o.root) : datastoreRoot();
  const args = [path.join(PACKAGE_ROOT, 'bin/flowbook.js'), 'run', path.resolve(cwd, file), '--datastore-root', root, '--quiet'];
  for (const [k, v] of Object.entries(params)) args.push(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v));
  for (const t of o.tags ?? []) args.push('--tag', t);
  if (o.maxWorkers) args.push('--max-workers', String(o.maxWorkers));
  const r = await execa(process.execPath, args, { cwd, env: { ...o.env, FORCE_COLOR: '0' }, reject: false, all: true });
  if (o.echo !== false && r.all) console.log(r.all);
  const m = /(?:Done|Failed): (\w+)\/(\S+) /.exec(r.all ?? '');
  if (r.exitCode !== 0) {
    // the CLI's one error line, as the cell's error: `TaskFailedError: run HelloFlow/17… failed at …/start/1: boom`
    const said = (r.all ?? '').split('\n').filter((l) => l.startsWith('error: ')).at(-1)?.slice('error: '.length);
    // made here, so that the error's first frame is runFlow, the cell's call
    if (m && said) throw new TaskFailedError(said, await failureFields(m[1], m[2]));
    throw new FlowbookError(`flowbook run ${file} failed (exit ${r.exitCode}): ${said ?? (r.all ?? '').trim().split('\n').at(-1) ?? 'no output'}`);
  }
  if (!m) throw new FlowbookError(`flowbook run ${file}: cannot find the run id in its output`);
  return Flow(m[1]).run(m[2]);
}

/** How the notebook's spin() runs `flowbook spin`. */
export interface SpinOptions extends Pick<RunFlowOptions, 'root' | 'cwd' | 'env' | 'echo'> {
  /** the past run (`Flow/RUN`, RUN may be `latest`) or task (`Flow/RUN/STEP/TASK`) whose inputs it reads. Default: your latest successful run */
  from?: string;
  /** which of the step's tasks in that run, in foreach order. Default 0, the first */
  index?: number;
}

/**
 * Run one task of `step` again, with a past task's inputs and the step's current code, in a spin
 * run that never becomes latest (`flowbook spin` in a child process), and return that task:
 * `show(await task.data.x)`, `show((await task.cards)[0])`. A failed spin throws its one line.
 */
export async function spin(file: string, step: string, o: SpinOptions = {}): Promise<TaskObject> {
  const cwd = o.cwd ?? PACKAGE_ROOT;
  const root = o.root ? path.resolve(o.root) : datastoreRoot();
  const args = [path.join(PACKAGE_ROOT, 'bin/flowbook.js'), 'spin', path.resolve(cwd, file), step, '--datastore-root', root, '--quiet'];
  if (o.from !== undefined) args.push('--from', o.from);
  if (o.index !== undefined) args.push('--index', String(o.index));
  const r = await execa(process.execPath, args, { cwd, env: { ...o.env, FORCE_COLOR: '0' }, reject: false, all: true });
  if (o.echo !== false && r.all) console.log(r.all);
  const said = (r.all ?? '').split('\n').filter((l) => l.startsWith('error: ')).at(-1)?.slice('error: '.length);
  if (r.exitCode !== 0) {
    const failed = /^Failed: (\S+)/m.exec(r.all ?? '');
    if (failed && said) throw new TaskFailedError(said, { pathspec: failed[1], step, run: failed[1].split('/').slice(0, 2).join('/'), cause: await Promise.resolve().then(() => new TaskObject(failed[1]).exception).catch(() => undefined) });
    throw new FlowbookError(said ?? `flowbook spin ${file} ${step} failed (exit ${r.exitCode}): ${(r.all ?? '').trim().split('\n').at(-1) ?? 'no output'}`);
  }
  const m = /^Spun: (\S+)/m.exec(r.all ?? '');
  if (!m) throw new FlowbookError(`flowbook spin ${file} ${step}: cannot find the spin task in its output`);
  return new TaskObject(m[1]);
}

/**
 * The fields of the TaskFailedError a library run throws (the failed task, its step, its stored
 * error), read back from the failed run's record. What cannot be read stays undefined.
 */
async function failureFields(flowName: string, runId: string): Promise<TaskFailedOptions> {
  const run = `${flowName}/${runId}`;
  const failure = await Flow(flowName)
    .run(runId)
    .then((r) => r.failure)
    .catch(() => undefined);
  const step = failure?.pathspec.split('/')[2];
  const cause = step ? await new TaskObject(failure!.pathspec).exception.catch(() => undefined) : undefined;
  return { pathspec: failure?.pathspec ?? run, step, run, cause };
}

/** What each task of a run requested and used, and the right-sizing advice per step (the resources card, as data). */
export async function resourceReport(run: RunObject): Promise<{ tasks: TaskUse[]; advice: StepAdvice[] }> {
  const { store } = storeFor(run.flowName);
  const tasks = (await loadRunTasks(store, run.id)).map(taskUse).filter((u): u is TaskUse => !!u);
  return { tasks, advice: resourceAdvice(tasks) };
}
