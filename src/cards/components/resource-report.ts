// ResourceReport: requested vs used, per task — the Grafana view that found the seeds' 9x
// slowdown, automatic. A task whose use exceeds its request by more than 1.5x (a pod would be
// throttled or killed) or stays under 0.3x of it (cores and memory reserved for nothing) gets a
// warning, and its step the judgement of usage/right-size.ts: against what (its @resources, a
// smaller local slot, a pod's request) and only the decorator that fits what was measured.
import type { CardComponent } from './component.js';
import { Table } from './basic.js';
import { escapeHtml } from '../html.js';
import { VegaLite } from './vega-lite.js';
import { chartSpec } from '../templates.js';
import type { RunTask } from '../run-records.js';
import { OVER_USE, UNDER_USE, MIN_WALL_FOR_CPU, type TaskUse } from '../usage/right-size.js';
import { taskUse } from '../usage/task-use.js';
import { resourceAdvice } from '../usage/advice.js';

export class ResourceReport implements CardComponent {
  readonly needs = 'vega' as const;
  constructor(
    readonly tasks: RunTask[],
    readonly opts: {
      /** the heading. Default 'Resources: requested vs used' */
      title?: string;
    } = {},
  ) {}
  render(): string {
    const title = `<h2>${escapeHtml(this.opts.title ?? 'Resources: requested vs used')}</h2>`;
    const uses = this.tasks.map(taskUse).filter((u): u is TaskUse => !!u);
    if (!uses.length) return `${title}<p class="meta">No finished tasks with resource records.</p>`;
    const advice = resourceAdvice(uses);
    const adviceHtml = advice.length
      ? advice
          .map((a) => {
            const head = `<span class="warn">⚠ step ${escapeHtml(a.step)}</span>: ${a.warnings.length} warning${a.warnings.length === 1 ? '' : 's'} over ${a.tasks} task${a.tasks > 1 ? 's' : ''}${a.warnings.length ? ` (e.g. ${escapeHtml(a.warnings[0])})` : ''}.`;
            const fix = a.decorator ? ` Recommended: <code>${escapeHtml(a.decorator)}</code> <span class="meta">(now cpu ${escapeHtml(a.current.cpu)}, memory ${escapeHtml(a.current.memory ? `${a.current.memory} MiB` : 'not set')})</span>` : '';
            return `<div class="advice">${head}${fix} <span class="meta">${escapeHtml(a.advice)}</span></div>`;
          })
          .join('')
      : `<p>Every task used between ${UNDER_USE}x and ${OVER_USE}x of what it requested (CPU judged on tasks of ${MIN_WALL_FOR_CPU} s or more).</p>`;
    const table = new Table(
      uses.map((u) => ({
        task: u.task,
        'wall s': u.wallSeconds,
        'cpu req': u.cpuRequested,
        'cores used': u.cpuUsed,
        'mem req MiB': u.memoryRequestedMiB || '—',
        'peak MiB': u.memoryUsedMiB,
        warnings: u.warnings.length ? { render: () => u.warnings.map((w) => `<div class="warn">${escapeHtml(w)}</div>`).join('') } : '',
      })),
    );
    const bars = uses.flatMap((u) => [
      { task: u.task, measure: 'CPU (cores)', kind: 'requested', value: u.cpuRequested },
      { task: u.task, measure: 'CPU (cores)', kind: 'used', value: +u.cpuUsed.toFixed(3) },
      ...(u.memoryRequestedMiB ? [{ task: u.task, measure: 'memory (MiB)', kind: 'requested', value: u.memoryRequestedMiB }] : []),
      { task: u.task, measure: 'memory (MiB)', kind: 'used', value: +u.memoryUsedMiB.toFixed(1) },
    ]);
    const chart = new VegaLite(chartSpec('resources.vl.json'), { data: bars });
    return `${title}${adviceHtml}${chart.render()}${table.render()}`;
  }
}
