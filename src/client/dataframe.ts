// DataFrame and Arrow adapters over the column model in table.ts. danfojs-node (a second or more
// to import: tfjs) and apache-arrow are imported only here, and only when a frame is asked for.
import { FlowbookError } from '../errors.js';
import { importDanfo } from '../dataframes-peer.js';
import { columnsToRecords, isPlainObject, jsonCell, rowsToColumns, type Column, type Columns, type Kind } from './table.js';

type ArrowLib = typeof import('apache-arrow');
let arrowLib: ArrowLib | undefined;
const arrow = async (): Promise<ArrowLib> => (arrowLib ??= await import('apache-arrow'));

export const isArrowTable = (v: any): boolean => !!v && typeof v === 'object' && v.constructor?.name === 'Table' && 'schema' in v && 'batches' in v;
export const isDanfoFrame = (v: any): boolean => !!v && typeof v === 'object' && v.constructor?.name === 'DataFrame' && '$dataIncolumnFormat' in v;
/** A non-empty array of plain objects: what `toDataFrame()` reads as rows. */
export const isRecords = (v: unknown): v is Record<string, unknown>[] => Array.isArray(v) && v.length > 0 && v.every(isPlainObject);
/** `{ a: [..], b: [..] }`, every value an array of one length: read as columns. */
const isColumnar = (v: unknown): v is Record<string, unknown[]> => {
  if (!isPlainObject(v)) return false;
  const lens = Object.values(v).map((x) => (Array.isArray(x) ? x.length : -1));
  return lens.length > 0 && lens.every((n) => n >= 0 && n === lens[0]);
};
/** Anything `tableColumns` turns into a table. */
export const isTableLike = (v: unknown): boolean => isArrowTable(v) || isDanfoFrame(v) || isRecords(v) || isColumnar(v);

// ---------- anything → columns

/** An Arrow cell as plain JS: lists as arrays, structs as objects, timestamps as Dates. Int64 stays bigint. */
function arrowCell(v: any, type: any, A: ArrowLib): unknown {
  if (v === null || v === undefined) return null;
  if (A.DataType.isTimestamp(type) || A.DataType.isDate(type)) return new Date(Number(v));
  if (A.DataType.isList(type) || A.DataType.isFixedSizeList(type)) return Array.from(v as Iterable<unknown>, (x) => arrowCell(x, type.children[0].type, A));
  if (A.DataType.isStruct(type)) return Object.fromEntries(type.children.map((f: any) => [f.name, arrowCell(v[f.name], f.type, A)]));
  if (A.DataType.isDictionary(type)) return arrowCell(v, type.dictionary, A);
  return v;
}

function arrowHint(type: any, A: ArrowLib): Kind | undefined {
  if (A.DataType.isFloat(type)) return { t: 'float64' };
  if (A.DataType.isInt(type)) return { t: 'int64' };
  if (A.DataType.isTimestamp(type) || A.DataType.isDate(type)) return { t: 'timestamp' };
  if (A.DataType.isUtf8(type) || A.DataType.isLargeUtf8?.(type) || A.DataType.isDictionary(type)) return { t: 'string' };
  return undefined;
}

const DANFO_HINTS: Record<string, Kind> = { float32: { t: 'float64' }, int32: { t: 'int64' }, string: { t: 'string' }, boolean: { t: 'bool' } };

/** A table artifact (array of records, `{col: [...]}`, Arrow table, danfo DataFrame) as columns. */
export async function tableColumns(v: unknown, name: string): Promise<Columns> {
  if (isRecords(v)) return rowsToColumns(v);
  if (isColumnar(v)) {
    const n = Object.values(v)[0].length;
    return rowsToColumns(Array.from({ length: n }, (_, i) => Object.fromEntries(Object.entries(v).map(([k, col]) => [k, col[i]]))));
  }
  if (isDanfoFrame(v)) {
    const df = v as any;
    const cols: string[] = df.columns;
    const data = cols.map((c) => df.column(c).values as unknown[]);
    const rows = Array.from({ length: df.shape[0] }, (_, i) => Object.fromEntries(cols.map((c, j) => [c, numOrNull(data[j][i])])));
    const hints = Object.fromEntries(cols.map((c, j) => [c, DANFO_HINTS[df.dtypes[j]]]).filter(([, h]) => h));
    return withEmptyColumns(rowsToColumns(rows, hints), cols);
  }
  if (isArrowTable(v)) {
    const A = await arrow();
    const t = v as any;
    const fields: any[] = t.schema.fields;
    const vectors = fields.map((f) => t.getChild(f.name));
    const rows = Array.from({ length: t.numRows }, (_, i) => Object.fromEntries(fields.map((f, j) => [f.name, arrowCell(vectors[j].get(i), f.type, A)])));
    const hints = Object.fromEntries(fields.map((f) => [f.name, arrowHint(f.type, A)]).filter(([, h]) => h));
    return withEmptyColumns(rowsToColumns(rows, hints), fields.map((f) => f.name));
  }
  throw new FlowbookError(`artifact '${name}' is not a table: a table is an array of records, an object of equal-length arrays, an Arrow table or a DataFrame`);
}

/** danfo holds a missing number as NaN: a table holds it as null. */
const numOrNull = (x: unknown) => (typeof x === 'number' && Number.isNaN(x) ? null : x);

/** A table with no rows still has its columns. */
function withEmptyColumns(c: Columns, names: string[]): Columns {
  if (c.numRows > 0) return c;
  return { numRows: 0, columns: names.map((name) => ({ name, kind: { t: 'null' }, values: [] })) };
}

// ---------- columns → Arrow

function arrowType(k: Kind, A: ArrowLib): any {
  switch (k.t) {
    case 'float64':
      return new A.Float64();
    case 'int64':
      return new A.Int64();
    case 'bool':
      return new A.Bool();
    case 'timestamp':
      return new A.TimestampMillisecond();
    case 'list':
      return new A.List(new A.Field('item', arrowType(k.of, A), true));
    case 'struct':
      return new A.Struct(Object.entries(k.fields).map(([n, f]) => new A.Field(n, arrowType(f, A), true)));
    default:
      return new A.Utf8(); // string, json (mixed) and all-null columns
  }
}

/** Arrow's Int64 would keep only the low 64 bits of a bigint past ±2⁶³: refused, never wrapped. */
const INT64_MAX = 2n ** 63n - 1n;
function int64(b: bigint): bigint {
  if (b > INT64_MAX || b < -INT64_MAX - 1n) throw new FlowbookError(`${b} does not fit a 64-bit integer (Arrow's and Parquet's largest); store it as a string`);
  return b;
}

/** A value in the shape the Arrow builder for `k` takes. */
function arrowValue(v: unknown, k: Kind): unknown {
  if (v === null || v === undefined) return null;
  switch (k.t) {
    case 'float64':
      return Number(v);
    case 'int64':
      return int64(typeof v === 'bigint' ? v : BigInt(v as number));
    case 'timestamp':
      return v instanceof Date ? v : new Date(v as number);
    case 'list':
      return Array.from(v as ArrayLike<unknown>, (x) => arrowValue(x, k.of));
    case 'struct':
      return Object.fromEntries(Object.keys(k.fields).map((n) => [n, arrowValue((v as any)[n], k.fields[n])]));
    case 'string':
    case 'bool':
      return v;
    default:
      return jsonCell(v);
  }
}

export async function columnsToArrow(c: Columns): Promise<any> {
  const A = await arrow();
  if (!c.columns.length) return new A.Table();
  const vectors = Object.fromEntries(
    c.columns.map((col) => {
      let values: unknown[];
      try {
        values = col.values.map((v) => arrowValue(v, col.kind));
      } catch (e) {
        throw e instanceof FlowbookError ? new FlowbookError(`column '${col.name}': ${e.message}`) : e;
      }
      return [col.name, A.vectorFromArray(values, arrowType(col.kind, A))];
    }),
  );
  return new A.Table(vectors);
}

/** An Arrow IPC file (the random-access "Feather v2" format polars, DuckDB and pyarrow open). */
export async function arrowFileBytes(table: any): Promise<Uint8Array> {
  return (await arrow()).tableToIPC(table, 'file');
}

// ---------- columns → danfo

/**
 * Column names that would hide a DataFrame's own members: danfo defines each column as a property
 * of the frame, so a column named `index`, `values` or `count` breaks print(), head(), sortValues().
 */
let reserved: Set<string> | undefined;
function reservedNames(DataFrame: any): Set<string> {
  if (reserved) return reserved;
  reserved = new Set<string>();
  const probe = new DataFrame({ probe: [1] });
  for (let o = probe; o; o = Object.getPrototypeOf(o)) for (const k of Object.getOwnPropertyNames(o)) reserved.add(k);
  reserved.delete('probe');
  return reserved;
}

/** danfo's dtype for a column, and its values as danfo holds them (see the README: what danfo can't hold). */
function danfoColumn(col: Column): { dtype: string; values: unknown[] } {
  switch (col.kind.t) {
    case 'float64':
    case 'int64': {
      // danfo's labels are float32/int32 but it keeps JS numbers (doubles): no precision is lost;
      // a missing number is NaN, as in pandas. Past 2^53 an int64 is rounded.
      const values = col.values.map((v) => (v === null ? NaN : Number(v)));
      const int32 = col.kind.t === 'int64' && values.every((v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31);
      return { dtype: int32 ? 'int32' : 'float32', values };
    }
    case 'bool':
      return { dtype: 'boolean', values: col.values };
    case 'string':
      return { dtype: 'string', values: col.values };
    case 'timestamp':
      return { dtype: 'string', values: col.values.map((v) => (v === null ? null : (v as Date).toISOString())) };
    default:
      // lists, mixed types: danfo has no list dtype, so JSON text
      return { dtype: 'string', values: col.values.map(jsonCell) };
  }
}

export async function columnsToDataFrame(c: Columns): Promise<any> {
  const { DataFrame } = await importDanfo();
  const taken = reservedNames(DataFrame);
  const names = c.columns.map((col) => (taken.has(col.name) ? `${col.name}_` : col.name));
  if (c.numRows === 0) return new DataFrame([], { columns: names });
  const cols = c.columns.map(danfoColumn);
  return new DataFrame(Object.fromEntries(names.map((n, i) => [n, cols[i].values])), { dtypes: cols.map((x) => x.dtype) });
}

// ---------- the entry points the client uses

export async function rowsToDataFrame(rows: Record<string, unknown>[]): Promise<any> {
  return columnsToDataFrame(rowsToColumns(rows));
}

export async function rowsToArrow(rows: Record<string, unknown>[]): Promise<any> {
  return columnsToArrow(rowsToColumns(rows));
}

export async function valueToDataFrame(v: unknown, name: string): Promise<any> {
  if (isDanfoFrame(v)) return v;
  return columnsToDataFrame(await tableColumns(v, name));
}

export async function valueToArrow(v: unknown, name: string): Promise<any> {
  if (isArrowTable(v)) return v;
  return columnsToArrow(await tableColumns(v, name));
}

export { columnsToRecords };
