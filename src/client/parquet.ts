// Parquet files: what `toParquet()` and `dump … --out x.parquet` write. Tables become Arrow
// tables first (the types of table.ts, as toArrow() gives them), then parquet-wasm (arrow-rs's
// Parquet writer compiled to WebAssembly) turns the Arrow IPC stream into a Parquet file. Its 5 MB
// module is compiled on first use only, so nothing else pays for it.
//
// Two choices the field expects: a NaN number is written as null (missing), as pandas → Parquet
// does; Snappy compression (pyarrow's and Spark's default, read by every Parquet reader).
import { FlowbookError } from '../errors.js';
import { columnsToArrow, isArrowTable, tableColumns } from './dataframe.js';
import { rowsToColumns, type Columns, type Kind } from './table.js';

type ArrowLib = typeof import('apache-arrow');
type ParquetWasm = typeof import('parquet-wasm');
let libs: Promise<{ A: ArrowLib; P: ParquetWasm }> | undefined;
const load = () =>
  (libs ??= Promise.all([import('apache-arrow'), import('parquet-wasm')]).then(([A, P]) => ({ A, P: ((P as any).default ?? P) as ParquetWasm })));

/** NaN anywhere in a number column (or inside its lists and structs) → null: missing, not a value. */
function nanAsMissing(v: unknown, k: Kind): unknown {
  if (v === null || v === undefined) return null;
  if (k.t === 'float64') return typeof v === 'number' && Number.isNaN(v) ? null : v;
  if (k.t === 'list') return Array.from(v as ArrayLike<unknown>, (x) => nanAsMissing(x, k.of));
  if (k.t === 'struct') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([n, x]) => [n, k.fields[n] ? nanAsMissing(x, k.fields[n]) : x]));
  return v;
}
const needsNanPass = (k: Kind): boolean => k.t === 'float64' || (k.t === 'list' && needsNanPass(k.of)) || (k.t === 'struct' && Object.values(k.fields).some(needsNanPass));

/**
 * The Arrow types arrow-rs writes to Parquet and a second reader reads back (the tests check each
 * family). Anything else (unions, intervals) is refused by name here: arrow-rs panics on a union
 * inside WebAssembly ("unreachable"), which says nothing about the column.
 */
function unsupported(type: any, A: ArrowLib): string | undefined {
  const D = A.DataType;
  if (D.isDictionary(type)) return unsupported(type.dictionary, A);
  if (D.isList(type) || D.isFixedSizeList(type) || D.isStruct(type) || D.isMap(type)) {
    for (const child of type.children) {
      const bad = unsupported(child.type, A);
      if (bad) return bad;
    }
    return undefined;
  }
  const plain = [D.isNull, D.isBool, D.isInt, D.isFloat, D.isUtf8, D.isLargeUtf8, D.isBinary, D.isLargeBinary, D.isFixedSizeBinary, D.isDecimal, D.isDate, D.isTime, D.isTimestamp, D.isDuration];
  return plain.some((is) => is?.call(D, type)) ? undefined : String(type);
}

/** An apache-arrow Table as the bytes of a Parquet file. `what` names the table in errors. */
export async function arrowToParquet(table: any, what: string): Promise<Uint8Array> {
  const { A, P } = await load();
  for (const field of table.schema.fields) {
    const bad = unsupported(field.type, A);
    if (bad) throw new FlowbookError(`${what}: column '${field.name}' is ${field.type}${bad === String(field.type) ? '' : ` (holding ${bad})`}, which Parquet cannot hold; convert it (to strings or numbers) before writing Parquet`);
  }
  let wasmTable: any;
  try {
    wasmTable = P.Table.fromIPCStream(A.tableToIPC(table, 'stream'));
  } catch (e) {
    throw new FlowbookError(`${what}: parquet-wasm could not read the table: ${(e as Error)?.message ?? e}`);
  }
  const props = new P.WriterPropertiesBuilder().setCompression(P.Compression.SNAPPY).setCreatedBy('flowbook (parquet-wasm)').build();
  try {
    return P.writeParquet(wasmTable, props); // consumes wasmTable and props
  } catch (e) {
    throw new FlowbookError(`${what}: Parquet could not hold it: ${(e as Error)?.message ?? e}`);
  }
}

/** Columns (table.ts) as a Parquet file: the toArrow() types, NaN as missing. */
export async function columnsToParquet(c: Columns, what: string): Promise<Uint8Array> {
  const columns = c.columns.map((col) => (needsNanPass(col.kind) ? { ...col, values: col.values.map((v) => nanAsMissing(v, col.kind)) } : col));
  let table: any;
  try {
    table = await columnsToArrow({ ...c, columns });
  } catch (e) {
    throw e instanceof FlowbookError ? new FlowbookError(`${what}: ${e.message}`) : e;
  }
  return arrowToParquet(table, what);
}

/** A step's rows (one per task) as a Parquet file. */
export async function rowsToParquet(rows: Record<string, unknown>[], what: string): Promise<Uint8Array> {
  return columnsToParquet(rowsToColumns(rows), what);
}

/** A table artifact as a Parquet file: an Arrow table as it is, anything else through columns. */
export async function valueToParquet(v: unknown, name: string): Promise<Uint8Array> {
  if (isArrowTable(v)) return arrowToParquet(v, `artifact '${name}'`);
  return columnsToParquet(await tableColumns(v, name), `artifact '${name}'`);
}
