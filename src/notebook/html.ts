// HTML for notebook outputs: DataFrames and Arrow tables as bounded tables (shape, dtypes, head
// and tail), cards contained in an iframe, a run as a summary. Every value is escaped.
import { escapeHtml } from '../cards/html.js';

const STYLE = `<style>
.fb-nb { font: 13px/1.4 system-ui, "DejaVu Sans", sans-serif; }
.fb-nb .fb-meta { color: #5c6573; font-size: 12px; margin: 2px 0 6px; }
.fb-nb table { border-collapse: collapse; }
.fb-nb th, .fb-nb td { padding: 2px 8px; border-bottom: 1px solid #e3e6eb; text-align: left; vertical-align: top; max-width: 360px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.fb-nb th .fb-dtype { display: block; color: #5c6573; font-weight: normal; font-size: 11px; }
.fb-nb td.fb-num { text-align: right; font-variant-numeric: tabular-nums; }
.fb-nb .fb-ok { color: #2a7f62; } .fb-nb .fb-bad { color: #b3261e; } .fb-nb .fb-run { color: #b05a1a; }
</style>`;

const MAX_CELL = 120;

function cell(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint') return `<td class="fb-num">${escapeHtml(typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v)}</td>`;
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const short = s.length > MAX_CELL ? `${s.slice(0, MAX_CELL)}…` : s;
  return `<td title="${escapeHtml(s.slice(0, 2000))}">${escapeHtml(short)}</td>`;
}

export interface Tabular {
  kind: string;
  rows: number;
  columns: string[];
  dtypes: string[];
  /** row label and values, for the rows shown */
  head: Row[];
  tail: Row[];
}

type Row = [unknown, unknown[]];

/** A danfo DataFrame, an Arrow Table or an array of plain objects, reduced to what a notebook shows. */
export function tabular(x: any, n = 5): Tabular | undefined {
  const t = tableShape(x);
  if (!t) return undefined;
  const { row, ...shape } = t;
  const range = (from: number, to: number): Row[] => Array.from({ length: Math.max(0, to - from) }, (_, k) => row(from + k));
  const head = Math.min(n, shape.rows);
  return { ...shape, head: range(0, head), tail: shape.rows > 2 * n ? range(shape.rows - n, shape.rows) : range(head, shape.rows) };
}

/** What each kind of table is: its size, columns, dtypes, and row i as (label, values). */
function tableShape(x: any): (Omit<Tabular, 'head' | 'tail'> & { row(i: number): Row }) | undefined {
  if (x?.constructor?.name === 'DataFrame' && Array.isArray(x.columns) && Array.isArray(x.shape)) {
    const values = x.values as unknown[][];
    const index = x.index as unknown[];
    return { kind: 'DataFrame', rows: x.shape[0], columns: x.columns, dtypes: x.dtypes, row: (i) => [index[i], values[i]] };
  }
  if (x?.constructor?.name === 'Table' && x.schema?.fields && typeof x.numRows === 'number') {
    const columns: string[] = x.schema.fields.map((f: any) => f.name);
    const dtypes = x.schema.fields.map((f: any) => String(f.type));
    return {
      kind: 'Arrow Table',
      rows: x.numRows,
      columns,
      dtypes,
      row: (i) => {
        const r = x.get(i);
        return [i, columns.map((c) => r?.[c])];
      },
    };
  }
  if (Array.isArray(x) && x.length && x.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r) && Object.getPrototypeOf(r) === Object.prototype)) {
    const columns = [...new Set(x.flatMap((r) => Object.keys(r)))];
    const dtypes = columns.map((c) => [...new Set(x.map((r) => (r[c] === null || r[c] === undefined ? undefined : Array.isArray(r[c]) ? 'array' : typeof r[c])).filter(Boolean))].join('|'));
    return { kind: 'rows', rows: x.length, columns, dtypes, row: (i) => [i, columns.map((c) => x[i][c])] };
  }
  return undefined;
}

export function tableHtml(t: Tabular): string {
  const head = `<tr><th></th>${t.columns.map((c, i) => `<th>${escapeHtml(c)}<span class="fb-dtype">${escapeHtml(t.dtypes[i] ?? '')}</span></th>`).join('')}</tr>`;
  const body = (rows: Tabular['head']) => rows.map(([label, r]) => `<tr><th>${escapeHtml(label)}</th>${r.map(cell).join('')}</tr>`).join('');
  const gap = t.rows > t.head.length + t.tail.length ? `<tr><th>⋮</th>${t.columns.map(() => '<td>⋮</td>').join('')}</tr>` : '';
  return `${STYLE}<div class="fb-nb fb-df"><div class="fb-meta">${escapeHtml(`${t.kind}: ${t.rows} rows × ${t.columns.length} columns`)}</div><table><thead>${head}</thead><tbody>${body(t.head)}${gap}${body(t.tail)}</tbody></table></div>`;
}

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
