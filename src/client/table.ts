// Tables, independent of any library: rows of artifacts → named, typed columns. DataFrames,
// Arrow tables, CSV and the CLI's text tables are all built from this one shape, so a column has
// the same name and type everywhere.
//
// Rules: nested plain objects become dotted columns (`wer.wer`, `wer.substitutions`); arrays stay
// lists; integers that fit a double exactly are int64, other numbers float64; a column whose values
// disagree in type holds strings (JSON for objects and lists), so nothing is silently dropped.

/** A column's type. `list` and `struct` appear as lists of values (a struct only inside a list). */
export type Kind =
  | { t: 'null' }
  | { t: 'float64' }
  | { t: 'int64' }
  | { t: 'bool' }
  | { t: 'string' }
  | { t: 'timestamp' }
  | { t: 'json' } // values of mixed types, held as strings
  | { t: 'list'; of: Kind }
  | { t: 'struct'; fields: Record<string, Kind> };

export interface Column {
  name: string;
  kind: Kind;
  values: unknown[]; // as given (numbers, bigints, strings, booleans, Dates, arrays, objects) or null
}

export interface Columns {
  columns: Column[];
  numRows: number;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

const isList = (v: unknown): v is unknown[] => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));

/** `{ wer: { wer: 0.5, hits: 3 } }` → `{ 'wer.wer': 0.5, 'wer.hits': 3 }`; arrays are kept whole. */
export function flattenRow(row: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    const name = prefix + k;
    if (isPlainObject(v) && Object.keys(v).length) flattenRow(v, `${name}.`, out);
    else out[name] = v === undefined ? null : v;
  }
  return out;
}

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return { t: 'null' };
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { t: 'int64' } : { t: 'float64' };
  if (typeof v === 'bigint') return { t: 'int64' };
  if (typeof v === 'boolean') return { t: 'bool' };
  if (typeof v === 'string') return { t: 'string' };
  if (v instanceof Date) return { t: 'timestamp' };
  if (isList(v)) return { t: 'list', of: inferKind(Array.from(v as ArrayLike<unknown>)) };
  if (isPlainObject(v)) return { t: 'struct', fields: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, kindOf(x)])) };
  return { t: 'json' };
}

function merge(a: Kind, b: Kind): Kind {
  if (a.t === 'null') return b;
  if (b.t === 'null') return a;
  if (a.t === 'json' || b.t === 'json') return { t: 'json' };
  if ((a.t === 'int64' && b.t === 'float64') || (a.t === 'float64' && b.t === 'int64')) return { t: 'float64' };
  if (a.t === 'list' && b.t === 'list') return { t: 'list', of: merge(a.of, b.of) };
  if (a.t === 'struct' && b.t === 'struct') {
    const fields = { ...a.fields };
    for (const [k, kind] of Object.entries(b.fields)) fields[k] = k in fields ? merge(fields[k], kind) : kind;
    return { t: 'struct', fields };
  }
  return a.t === b.t ? a : { t: 'json' };
}

export function inferKind(values: unknown[]): Kind {
  let kind: Kind = { t: 'null' };
  for (const v of values) {
    kind = merge(kind, kindOf(v));
    if (kind.t === 'json') break;
  }
  return kind;
}

/** A kind's name as a user reads it (`float64`, `list<string>`). */
export function kindName(k: Kind): string {
  if (k.t === 'list') return `list<${kindName(k.of)}>`;
  if (k.t === 'struct') return `struct<${Object.entries(k.fields).map(([n, f]) => `${n}: ${kindName(f)}`).join(', ')}>`;
  if (k.t === 'json') return 'string (mixed)';
  if (k.t === 'null') return 'null';
  return k.t;
}

/** One cell as plain JSON-able data (bigints that a double holds exactly become numbers). */
export function plainCell(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? null : v > 0 ? 'Infinity' : '-Infinity';
  if (v instanceof Date) return v.toISOString();
  if (isList(v)) return Array.from(v as ArrayLike<unknown>, plainCell);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainCell(x)]));
  return v;
}

/** A cell of a `json` column: strings as they are, anything else as JSON. */
export const jsonCell = (v: unknown): string | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(plainCell(v));

/**
 * Rows → columns. `hints` fixes the kind of a column whose source said it (a DataFrame's
 * float32 column of whole numbers stays float64; an Arrow timestamp stays a timestamp).
 */
export function rowsToColumns(rows: Record<string, unknown>[], hints: Record<string, Kind> = {}): Columns {
  const flat = rows.map((r) => flattenRow(r));
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of flat) for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), names.push(k));
  const columns = names.map((name) => {
    const values = flat.map((r) => (r[name] === undefined ? null : r[name]));
    const inferred = inferKind(values);
    const hint = hints[name];
    const kind = hint && (inferred.t === 'null' || merge(hint, inferred).t === hint.t) ? hint : inferred;
    return { name, kind, values };
  });
  // `wer: null` in one row and `wer: {…}` in another: the dotted columns carry the nulls
  const nested = (name: string) => names.some((n) => n.startsWith(`${name}.`));
  return { columns: columns.filter((c) => c.kind.t !== 'null' || !nested(c.name)), numRows: rows.length };
}

/** Columns → rows of plain values, with the dotted names (what CSV and `--json` write). */
export function columnsToRecords(c: Columns): Record<string, unknown>[] {
  return Array.from({ length: c.numRows }, (_, i) =>
    Object.fromEntries(c.columns.map((col) => [col.name, col.kind.t === 'json' ? jsonCell(col.values[i]) : plainCell(col.values[i])])),
  );
}
