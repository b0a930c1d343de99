// Render a task's cards at its end, in its own process, and store them beside the task:
//   <Flow>/runs/<run>/<step>/<task>/cards/<id or type-index>.html
import type { FlowDatastore } from '../datastore/store.js';
import type { TaskDone } from '../datastore/metadata.js';
import type { CardCollector } from './collector.js';
import { defaultCardBody } from './default-card.js';
import { page } from './html.js';
import { Error as ErrorComponent, type CardComponent } from './components.js';

export function cardName(spec: { id?: string; type?: string }, i: number): string {
  return spec.id ?? `${spec.type ?? 'default'}-${i}`;
}

export async function renderTaskCards(store: FlowDatastore, done: TaskDone, collector: CardCollector, params: Record<string, unknown>): Promise<string[]> {
  const [flow, runId] = done.pathspec.split('/');
  const written: string[] = [];
  for (const [i, { spec, handle }] of collector.cards.entries()) {
    const name = cardName(spec, i);
    let body: CardComponent[];
    try {
      body = [...(spec.type === 'default' || !spec.type ? await defaultCardBody(store, done, params) : []), ...handle.components];
    } catch (err) {
      body = [new ErrorComponent(err, 'This card failed to render')];
    }
    const parts = body.map((c) => {
      try {
        return c.render();
      } catch (err) {
        return new ErrorComponent(err, 'A component failed to render').render();
      }
    });
    const html = page({ title: `${flow} · ${done.step} · task ${done.taskId}`, subtitle: `${done.pathspec} — card ${name} (${spec.type ?? 'default'})`, body: parts.join('\n') });
    const key = `${store.taskKey(runId, done.step, done.taskId)}/cards/${name}.html`;
    await store.backend.put(key, html);
    written.push(key);
  }
  return written;
}
