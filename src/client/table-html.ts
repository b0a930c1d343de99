// A DataFrame, an Arrow table or an array of plain records as the bounded HTML table a notebook
// shows (shape, dtypes, head and tail). Every value is escaped.
import { escapeHtml } from '../cards/html.js';

/** the notebook outputs' stylesheet (tables, cards, run summaries share it) */
export const STYLE = `<style>
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

