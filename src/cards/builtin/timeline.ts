// The run timeline: a Gantt of its tasks (start to end, one row per worker or pod, coloured by
// step), the picture that shows idle cores, stragglers and a critical path.
import type { CardComponent } from '../components.js';
import { escapeHtml } from '../html.js';
import { VegaLite } from '../vega.js';
import type { TaskRecord } from '../run-records.js';

export class RunTimeline implements CardComponent {
  readonly needs = 'vega' as const;
  constructor(
    readonly tasks: TaskRecord[],
    readonly opts: { title?: string } = {},
  ) {}
  render(): string {
    const title = `<h2>${escapeHtml(this.opts.title ?? 'Run timeline')}</h2>`;
    if (!this.tasks.length) return `${title}<p class="meta">No tasks yet.</p>`;
    const t0 = Math.min(...this.tasks.map((t) => Date.parse(t.startedAt)));
    const now = Date.now();
    const data = this.tasks.map((t) => {
      const start = (Date.parse(t.startedAt) - t0) / 1000;
      const end = ((t.finishedAt ? Date.parse(t.finishedAt) : now) - t0) / 1000;
      return { task: t.pathspec.split('/').slice(2).join('/'), step: t.step, status: t.status, where: t.where || '(unknown)', start: +start.toFixed(3), end: +Math.max(end, start + 0.005).toFixed(3), seconds: +(end - start).toFixed(3) };
    });
    const span = Math.max(...data.map((d) => d.end));
    const rows = new Set(data.map((d) => d.where)).size;
    const chart = new VegaLite(
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        width: 760,
        height: Math.max(60, rows * 28),
        mark: { type: 'bar', cornerRadius: 2, stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          y: { field: 'where', type: 'nominal', title: 'worker @ host' },
          x: { field: 'start', type: 'quantitative', title: 'seconds since the first task started' },
          x2: { field: 'end' },
          color: { field: 'step', type: 'nominal', sort: null },
          opacity: { condition: { test: "datum.status === 'running'", value: 0.5 }, value: 1 },
          tooltip: [{ field: 'task' }, { field: 'step' }, { field: 'status' }, { field: 'where' }, { field: 'start', format: '.2f' }, { field: 'end', format: '.2f' }, { field: 'seconds', format: '.2f' }],
        },
      },
      { data, caption: `${data.length} tasks over ${span.toFixed(1)} s on ${rows} worker(s)` },
    );
    return title + chart.render();
  }
}
