// How a table looks wherever it is printed: a danfo DataFrame or an Arrow table as a cell's last
// expression is the HTML table `show()` gives (the flowbook kernel asks `mimeBundle` for it), and
// in a Node REPL or `console.log` a text table (`util.inspect.custom`) — not danfo's internals
// (`DataFrame { '$dataIncolumnFormat': …`) nor Arrow's batches.
//
// Synchronous on purpose: tslab prints the last value with console.log, and util.inspect.custom
// cannot await.
import { inspect } from 'node:util';
import { tabular, tableHtml, type Tabular } from './table-html.js';
import { tableText } from './table-text.js';
import { inferKind, type Columns } from './table.js';

/** An object's own display, as IPython's `_repr_mimebundle_`: `{ 'text/html': …, 'text/plain': … }`. */
export const DISPLAY = Symbol.for('flowbook.display');

export type MimeBundle = { 'text/plain': string } & Partial<Record<'text/html' | 'image/svg+xml', string>>;

const ROWS = 5;

export const isTable = (x: any): boolean =>
  (x?.constructor?.name === 'DataFrame' && '$dataIncolumnFormat' in x) || (x?.constructor?.name === 'Table' && !!x.schema?.fields && 'batches' in x);

/** The rows shown (head and tail) as columns, with their labels, for the text renderer. */
function shownColumns(t: Tabular): { columns: Columns; labels: unknown[] } {
  const rows = [...t.head, ...t.tail];
  const columns = t.columns.map((name, j) => {
    const values = rows.map(([, r]) => (r[j] === undefined ? null : r[j]));
    return { name, kind: inferKind(values), values };
  });
  return { columns: { columns, numRows: rows.length }, labels: rows.map(([label]) => label) };
}

/** A DataFrame or Arrow table as text: shape, head and tail in aligned columns, each column's type. */
export function tableAsText(
  x: unknown,
  o: {
    /** characters per line. Default 100 */
    width?: number;
    /** rows shown at the head and at the tail. Default 5 */
    rows?: number;
  } = {},
): string | undefined {
  if (!isTable(x)) return undefined;
  const t = tabular(x, o.rows ?? ROWS)!;
  const { columns, labels } = shownColumns(t);
  return tableText(columns, { what: t.kind, width: o.width, sample: { labels, headRows: t.head.length, totalRows: t.rows }, dtypes: t.dtypes });
}

/**
 * Makes every table of `x`'s class print as a table (its prototype gets util.inspect.custom and
 * the display method): the frames flowbook hands out, and those derived from them (`df.head()`,
 * `df.sortValues(…)`) which are new objects of the same class. Returns `x`.
 */
export function displayable<T>(x: T): T {
  if (!isTable(x)) return x;
  // the base class: danfojs-node's DataFrame extends danfo's own, whose methods (head, sortValues…) make the base
  let proto = Object.getPrototypeOf(x);
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) if (p.constructor?.name === proto.constructor.name) proto = p;
  if (!Object.prototype.hasOwnProperty.call(proto, DISPLAY)) {
    Object.defineProperties(proto, {
      [DISPLAY]: {
        configurable: true,
        value(this: unknown) {
          return tableBundle(this);
        },
      },
      [inspect.custom]: {
        configurable: true,
        value(this: unknown) {
          return tableAsText(this, { width: process.stdout.isTTY ? process.stdout.columns : undefined });
        },
      },
    });
  }
  return x;
}

export function tableBundle(x: unknown): MimeBundle {
  return { 'text/html': tableHtml(tabular(x, ROWS)!), 'text/plain': tableAsText(x)! };
}
