// The body of the default card (default.ts): what the task was and did — metadata, its flow
// graph, parameters, artifacts (bounded previews), resource use against the request.
import { inspect } from 'node:util';
import type { FlowDatastore } from '../../datastore/store.js';
import type { TaskDone } from '../../datastore/metadata.js';
import { escapeHtml } from '../html.js';
import { Table } from '../components/basic.js';
import type { CardComponent } from '../components/component.js';
import { graphSvg } from './graph-svg.js';

const PREVIEW_BYTES = 64 * 1024;

export async function defaultCardBody(store: FlowDatastore, done: TaskDone, params: Record<string, unknown>): Promise<CardComponent[]> {
  const out: CardComponent[] = [];
  const section = (title: string, html: string): CardComponent => ({ render: () => `<h2>${escapeHtml(title)}</h2>${html}` });
  out.push(
    section(
      'Task',
      new Table([
        ['pathspec', done.pathspec],
        ['attempt', done.attempt],
        ['started', done.startedAt],
        ['finished', done.finishedAt],
        ['foreach', done.foreachStack.map((f) => `${f.step}[${f.index}/${f.count}] over ${f.field}`).join(' › ') || '—'],
        ...(done.cachedFrom ? [['cached from', `${done.cachedFrom} (@cache: reused, not run)`]] : done.origin ? [['cloned from', done.origin]] : []),
      ]).render(),
    ),
  );
  const run = await store.readRun(done.pathspec.split('/')[1]).catch(() => undefined);
  if (run?.graph) out.push(section('Flow', graphSvg(run.graph, done.step)));
  if (Object.keys(params).length) out.push(section('Parameters', new Table(Object.entries(params).map(([k, v]) => ({ name: k, value: v }))).render()));
  const r = done.resources;
  if (r) {
    const mem = r.peakRssBytes / 2 ** 20;
    out.push(
      section(
        'Resources',
        new Table([
          { measure: 'wall seconds', used: r.wallSeconds, requested: '' },
          { measure: 'CPU seconds (user + system)', used: r.cpuUserSeconds + r.cpuSystemSeconds, requested: `${r.requested.cpu} cpu` },
          { measure: 'average cores busy', used: r.wallSeconds ? (r.cpuUserSeconds + r.cpuSystemSeconds) / r.wallSeconds : 0, requested: r.requested.cpu },
          // records from before processPeakRssBytes hold the process's peak in peakRssBytes
          { measure: r.processPeakRssBytes === undefined ? 'peak RSS (MiB)' : "peak memory, the task's own (MiB)", used: mem, requested: r.requested.memory ? `${r.requested.memory} MiB` : '—' },
          ...(r.processPeakRssBytes === undefined ? [] : [{ measure: 'peak RSS of its process, worker included (MiB)', used: r.processPeakRssBytes / 2 ** 20, requested: '' }]),
          { measure: 'host / worker', used: `${r.host} / ${r.worker}`, requested: '' },
        ]).render(),
      ),
    );
  }
  const rows: Record<string, unknown>[] = [];
  for (const [name, ref] of Object.entries(done.artifacts)) {
    let preview = `(${(ref.size / 2 ** 20).toFixed(1)} MiB: not previewed)`;
    if (ref.size <= PREVIEW_BYTES) {
      try {
        preview = inspect(await store.getArtifact(name, ref), { depth: 2, maxArrayLength: 10, maxStringLength: 300, breakLength: 80 });
      } catch (err: any) {
        preview = `(cannot read: ${err?.message ?? err})`;
      }
    }
    rows.push({ name, type: ref.type, bytes: ref.size, preview: { render: () => `<pre>${escapeHtml(preview)}</pre>` } });
  }
  out.push(section('Artifacts', new Table(rows).render()));
  return out;
}
