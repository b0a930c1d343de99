// The run timeline: a Gantt of its tasks (start to end, one row per worker or pod, coloured by
// step), the picture that shows idle cores, stragglers and a critical path.
import type { CardComponent } from './component.js';
import { escapeHtml } from '../html.js';
import { VegaLite } from './vega-lite.js';
import { chartSpec } from '../templates.js';
import type { RunTask } from '../run-records.js';

export class RunTimeline implements CardComponent {
  readonly needs = 'vega' as const;
  constructor(
    readonly tasks: RunTask[],
    readonly opts: {
      /** the heading. Default 'Run timeline' */
      title?: string;
    } = {},
  ) {}
  render(): string {
    const title = `<h2>${escapeHtml(this.opts.title ?? 'Run timeline')}</h2>`;
    if (!this.tasks.length) return `${title}<p class="meta">No tasks yet.</p>`;
    const t0 = Math.min(...this.tasks.map((t) => Date.parse(t.startedAt)));
    const now = Date.now();
    const data = this.tasks.map((t) => {
      const start = (Date.parse(t.startedAt) - t0) / 1000;
      const end = ((t.finishedAt ? Date.parse(t.finishedAt) : now) - t0) / 1000;
      return { task: t.pathspec.split('/').slice(2).join('/'), step: t.step, status: t.status === 'cached' ? `cached ← ${t.cachedFrom}` : t.status, where: t.where || '(unknown)', start: +start.toFixed(3), end: +Math.max(end, start + 0.005).toFixed(3), seconds: +(end - start).toFixed(3) };
    });
    const span = Math.max(...data.map((d) => d.end));
    const rows = new Set(data.map((d) => d.where)).size;
    // @cache hits did not run: they sit on a row of their own, and the caption counts them
    const cached = this.tasks.filter((t) => t.status === 'cached').length;
    const spec = chartSpec('timeline.vl.json');
    spec.height = Math.max(60, rows * 28);
    const chart = new VegaLite(
      spec,
      { data, caption: `${data.length} tasks over ${span.toFixed(1)} s on ${rows - (cached ? 1 : 0)} worker(s)${cached ? `; ${cached} cached by @cache (reused, not run)` : ''}` },
    );
    return title + chart.render();
  }
}
