// A table as text for a terminal, the way pandas prints one: shape, the first and last rows in
// aligned columns (wrapped into blocks of columns that fit the width), then each column's type.
import { kindName, jsonCell, type Column, type Columns } from './table.js';

/** How tableText prints a table. */
export interface TextOptions {
  /** what the table is: `DataFrame`, `Arrow table`, `array of records` (required: the first line says it) */
  what: string;
  /** characters per line (callers pass a terminal's width), at least 40. Default 100 */
  width?: number;
  /** rows shown from the start when the table is longer than head + tail. Default 5 */
  head?: number;
  /** rows shown from the end when the table is longer than head + tail. Default 5 */
  tail?: number;
  /** longest cell, in characters (longer ones end in …). Default 30 */
  maxCell?: number;
  /**
   * `c` holds only the rows to show of a larger table (its head, then its tail): their labels,
   * how many of them are the head, and the table's size. Default: `c` is the whole table
   */
  sample?: { labels: unknown[]; headRows: number; totalRows: number };
  /** each column's type as its source names it (danfo's float32, Arrow's Utf8), for the kinds inferred. Default: the inferred kinds' names */
  dtypes?: string[];
}

function cell(v: unknown, col: Column, maxCell: number): string {
  let s: string;
  if (v === null || v === undefined) s = 'null';
  else if (typeof v === 'number') s = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  else if (typeof v === 'bigint') s = v.toString();
  else if (v instanceof Date) s = v.toISOString();
  else if (typeof v === 'string') s = col.kind.t === 'json' ? v : v.replace(/\s+/g, ' ');
  else s = jsonCell(v) ?? 'null';
  return s.length > maxCell ? `${s.slice(0, maxCell - 1)}…` : s;
}

const numeric = (c: Column) => c.kind.t === 'float64' || c.kind.t === 'int64';

export function tableText(c: Columns, opts: TextOptions): string {
  const width = Math.max(40, opts.width ?? 100);
  const head = opts.head ?? 5;
  const tail = opts.tail ?? 5;
  const maxCell = opts.maxCell ?? 30;
  const total = opts.sample?.totalRows ?? c.numRows;
  const lines = [`${opts.what}: ${total} row${total === 1 ? '' : 's'} × ${c.columns.length} column${c.columns.length === 1 ? '' : 's'}`];
  if (!c.columns.length) return lines.join('\n');

  const sample = opts.sample;
  const cut = sample ? total > c.numRows : c.numRows > head + tail;
  const gapAt = sample ? sample.headRows : head;
  const rowIds = cut && !sample ? [...Array(head).keys(), ...Array.from({ length: tail }, (_, i) => c.numRows - tail + i)] : [...Array(c.numRows).keys()];
  const label = sample ? sample.labels.map(String) : rowIds.map(String);
  const labelWidth = Math.max(0, ...label.map((s) => s.length));
  const cols = c.columns.map((col) => {
    const cells = rowIds.map((i) => cell(col.values[i], col, maxCell));
    const w = Math.max(col.name.length, ...cells.map((s) => s.length));
    const pad = (s: string) => (numeric(col) ? s.padStart(w) : s.padEnd(w));
    return { header: pad(col.name), cells: cells.map(pad), w };
  });

  // blocks of columns that fit the width, each printed with the row labels
  for (let start = 0; start < cols.length; ) {
    let end = start;
    let used = labelWidth;
    while (end < cols.length && (end === start || used + 2 + cols[end].w <= width)) used += 2 + cols[end++].w;
    const block = cols.slice(start, end);
    if (start > 0) lines.push('');
    lines.push(`${''.padEnd(labelWidth)}  ${block.map((b) => b.header).join('  ')}`.trimEnd());
    rowIds.forEach((_, r) => {
      if (cut && r === gapAt) lines.push(`${'…'.padEnd(labelWidth)}  ${block.map((b) => '…'.padEnd(b.w)).join('  ')}`.trimEnd());
      lines.push(`${label[r].padStart(labelWidth)}  ${block.map((b) => b.cells[r]).join('  ')}`.trimEnd());
    });
    start = end;
  }

  // the types, wrapped to the width
  lines.push('');
  let line = 'columns:';
  for (const [i, col] of c.columns.entries()) {
    const t = `${col.name}: ${opts.dtypes?.[i] ?? kindName(col.kind)}${i < c.columns.length - 1 ? ',' : ''}`;
    if (line.trim() && line !== 'columns:' && line.length + 1 + t.length > width) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${t}`;
  }
  lines.push(line);
  return lines.join('\n');
}
