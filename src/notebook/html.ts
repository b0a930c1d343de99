// HTML for notebook outputs: cards contained in an iframe, a run as a summary (tables:
// client/table-html.ts). Every value is escaped.
import { escapeHtml } from '../cards/html.js';
import { STYLE } from '../client/table-html.js';

/** A card page contained in a sandboxed iframe: it scrolls inside a bounded height (Metaflow #1232). */
export function cardFrameHtml(
  html: string,
  o: {
    /** a line above the frame. Default: none */
    title?: string;
    /** the frame's height, px. Default 520 */
    height?: number;
  } = {},
): string {
  // a number only: it is written into the iframe's style attribute
  const h = Number.isFinite(Number(o.height)) && Number(o.height) > 0 ? Number(o.height) : 520;
  const title = o.title ? `<div class="fb-meta">${escapeHtml(o.title)}</div>` : '';
  return `${STYLE}<div class="fb-nb fb-card">${title}<iframe class="fb-card-frame" sandbox="allow-scripts" style="width:100%;height:${h}px;border:1px solid #e3e6eb;resize:vertical" srcdoc="${escapeHtml(html)}"></iframe></div>`;
}

export interface RunSummary {
  pathspec: string;
  status: string;
  createdAt: string;
  durationSeconds?: number;
  user: string;
  tags: string[];
  params: Record<string, unknown>;
  steps: { name: string; tasks: number; failed: number }[];
  failure?: string;
}

export function runHtml(r: RunSummary): string {
  const cls = r.status === 'succeeded' ? 'fb-ok' : r.status === 'failed' ? 'fb-bad' : 'fb-run';
  const failed = r.steps.reduce((a, s) => a + s.failed, 0);
  const rows: [string, string][] = [
    ['run', escapeHtml(r.pathspec)],
    ['status', `<span class="${cls}">${escapeHtml(r.status)}</span>${r.failure ? ` — ${escapeHtml(r.failure)}` : ''}`],
    ['started', escapeHtml(r.createdAt)],
    ['duration', r.durationSeconds === undefined ? '—' : escapeHtml(`${r.durationSeconds.toFixed(2)} s`)],
    ['user / tags', escapeHtml([r.user, ...r.tags].join(', '))],
    ['parameters', Object.entries(r.params).map(([k, v]) => `${escapeHtml(k)}=<code>${escapeHtml(JSON.stringify(v))}</code>`).join(' ') || '—'],
    ['steps', r.steps.map((s) => `${escapeHtml(s.name)} (${s.tasks}${s.failed ? `, <span class="fb-bad">${s.failed} failed</span>` : ''})`).join(' → ')],
    ['tasks failed', failed ? `<span class="fb-bad">${failed}</span>` : '0'],
  ];
  return `${STYLE}<div class="fb-nb fb-run-summary"><table>${rows.map(([k, v]) => `<tr><th>${k}</th><td style="white-space:normal">${v}</td></tr>`).join('')}</table></div>`;
}
