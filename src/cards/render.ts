// Render a task's cards in its own process and store them beside the task:
//   <Flow>/runs/<run>/<step>/<task>/cards/<id or type-index>.html
// At task end every card is rendered whole; while the task runs, current.card.refresh() writes
// the components appended so far (throttled by the card's refreshInterval) for the card server.
import type { FlowDatastore } from '../datastore/store.js';
import type { TaskDone } from '../datastore/metadata.js';
import type { CardSpec } from '../flow/decorators.js';
import type { CardCollector, CardHandle } from './collector.js';
import { page } from './html.js';
import type { CardComponent } from './components/component.js';
import { Error as ErrorComponent } from './components/basic.js';
import { cardComponents } from './components/all.js';
import { vegaScripts } from './vega-scripts.js';
import { BUILTIN_CARD_TYPES } from './types/builtin.js';
import { cardTypeCatalog } from './types/catalog.js';
import { cardTask } from './types/card-task.js';

/** Metaflow's default card timeout */
export const DEFAULT_TIMEOUT_S = 45;

export function cardName(spec: { id?: string; type?: string }, i: number): string {
  return spec.id ?? `${spec.type ?? 'default'}-${i}`;
}

/** The heading of card `name` of a task: the same for the live and the final version. */
function cardHeading(pathspec: string, spec: CardSpec, name: string, live = false): { title: string; subtitle: string } {
  const [flow, , step, taskId] = pathspec.split('/');
  return { title: `${flow} · ${step} · task ${taskId}`, subtitle: `${pathspec} — card ${name} (${spec.type ?? 'default'})${live ? ', live' : ''}` };
}

/** One self-contained page from components; a component that throws becomes an error box. */
export function cardHtml(components: CardComponent[], o: { title: string; subtitle?: string; deadline?: number }): string {
  const parts: string[] = [];
  let needsVega = false;
  for (const [i, c] of components.entries()) {
    if (o.deadline !== undefined && performance.now() > o.deadline) {
      parts.push(new ErrorComponent(`the card's timeout passed: ${components.length - i} of ${components.length} components not rendered`, 'Card timed out').render());
      break;
    }
    try {
      parts.push(c.render());
      needsVega ||= (c as { needs?: string }).needs === 'vega';
    } catch (err) {
      parts.push(new ErrorComponent(err, 'A component failed to render').render());
    }
  }
  const scripts = needsVega ? vegaScripts() : undefined;
  return page({ title: o.title, subtitle: o.subtitle, body: parts.join('\n'), scripts: scripts?.head, tailScripts: scripts?.tail });
}

/** What the card's type contributes before the components the step appended. */
async function typeBody(store: FlowDatastore, done: TaskDone, spec: CardSpec, params: Record<string, unknown>, flowFile: string | undefined): Promise<CardComponent[]> {
  const type = spec.type ?? 'default';
  const builtin = BUILTIN_CARD_TYPES.find((t) => t.type === type);
  const catalog = builtin ? undefined : await cardTypeCatalog(flowFile ?? process.cwd());
  const found = builtin ? { def: builtin, file: undefined } : catalog!.types.get(type);
  if (!found) {
    const yours = [...catalog!.types.values()].filter((t) => t.file).map((t) => t.def.type);
    const looked = catalog!.searched.length ? catalog!.searched.join(', ') : 'no cards/ folder above the flow, FLOWBOOK_CARDS unset';
    throw new Error(`unknown card type '${type}' (built-in: ${BUILTIN_CARD_TYPES.map((t) => t.type).join(', ')}; yours: ${yours.join(', ') || 'none'}, from ${looked})${catalog!.errors.length ? `; could not load: ${catalog!.errors.join('; ')}` : ''}`);
  }
  try {
    const parts = await found.def.render(cardTask(store, done, params), cardComponents, { store, done });
    if (!Array.isArray(parts)) throw new Error('render must return an array of components');
    return parts;
  } catch (err: any) {
    throw found.file ? new Error(`card type '${type}' (${found.file}) failed: ${err?.message ?? err}`, { cause: err }) : err;
  }
}

function withTimeout<T>(p: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`card timed out after ${seconds} s`)), seconds * 1000)))]).finally(() => clearTimeout(timer));
}

/** Render every card of a finished task; `flowFile` tells where the project's own card types are. */
export async function renderTaskCards(store: FlowDatastore, done: TaskDone, collector: CardCollector, params: Record<string, unknown>, flowFile?: string): Promise<string[]> {
  const runId = done.pathspec.split('/')[1];
  const written: string[] = [];
  for (const [i, { spec, handle }] of collector.cards.entries()) {
    const name = cardName(spec, i);
    const timeout = spec.timeout ?? DEFAULT_TIMEOUT_S;
    const deadline = performance.now() + timeout * 1000;
    let body: CardComponent[];
    try {
      body = [...(await withTimeout(typeBody(store, done, spec, params, flowFile), timeout)), ...handle.components];
    } catch (err) {
      body = [new ErrorComponent(err, 'This card failed to render'), ...handle.components];
    }
    const html = cardHtml(body, { ...cardHeading(done.pathspec, spec, name), deadline });
    const key = `${store.taskKey(runId, done.step, done.taskId)}/cards/${name}.html`;
    await store.backend.put(key, html);
    written.push(key);
  }
  return written;
}

/**
 * current.card.refresh() while the task runs: write what each card has so far, at most once per
 * refreshInterval (default 1 s) with a trailing write, so the card server can show progress.
 */
export function liveCardWriter(store: FlowDatastore, pathspec: string, collector: CardCollector): { refresh(h: CardHandle): void; close(): Promise<void> } {
  const [, runId, step, taskId] = pathspec.split('/');
  const state = new Map<CardHandle, { last: number; timer?: NodeJS.Timeout }>();
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  const write = (handle: CardHandle, spec: CardSpec, name: string) => {
    if (closed) return;
    const html = cardHtml([{ render: () => '<p class="meta running">task running — this card refreshes as it goes</p>' }, ...handle.components], cardHeading(pathspec, spec, name, true));
    chain = chain.then(() => store.backend.put(`${store.taskKey(runId, step, taskId)}/cards/${name}.html`, html)).catch(() => undefined);
  };
  const refresh = (handle: CardHandle) => {
    const i = collector.cards.findIndex((c) => c.handle === handle);
    const { spec } = collector.cards[i];
    const name = cardName(spec, i);
    const every = (spec.refreshInterval ?? 1) * 1000;
    const s = state.get(handle) ?? { last: 0 };
    state.set(handle, s);
    const wait = s.last + every - Date.now();
    if (wait <= 0) {
      s.last = Date.now();
      write(handle, spec, name);
    } else if (!s.timer) {
      s.timer = setTimeout(() => {
        s.timer = undefined;
        s.last = Date.now();
        write(handle, spec, name);
      }, wait);
      s.timer.unref();
    }
  };
  // the final render must not be overwritten by a late live one
  const close = async () => {
    closed = true;
    for (const s of state.values()) clearTimeout(s.timer);
    await chain;
  };
  return { refresh, close };
}
