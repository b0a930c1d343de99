// Tables as Arrow IPC streams: apache-arrow Tables as they are, danfo DataFrames converted to a
// Table (dtypes and a non-default index kept in the schema metadata). Neither library is loaded
// until a table is actually stored or read: apache-arrow costs ≈ 100 ms, danfojs-node ≈ 0.8 s (tfjs).
//
// Which apache-arrow? The package ships two builds, and `import 'apache-arrow'` (flows, the
// client: ESM) and `require('apache-arrow')` (tslab notebooks compile to CommonJS) get different
// module instances. Arrow's writer tells tables and record batches apart with `instanceof`, so a
// Table made by one build cannot be written by the other (the CJS `tableToIPC` throws on an ESM
// table). serialize() is synchronous, so it loads the ESM build with require(esm) — on by default
// since Node 20.19 — which yields the very module instance `import()` gives; a table made by the
// CJS build is written by the CJS build (already in require's cache, since its maker loaded it).
import { createRequire } from 'node:module';
import { SerializationError } from '../errors.js';

type ArrowLib = typeof import('apache-arrow');
type ArrowTable = import('apache-arrow').Table;

const req = createRequire(import.meta.url);

let esmArrow: ArrowLib | undefined;
let cjsArrow: ArrowLib | undefined;
let cjsPath: string | undefined;

const cjsEntry = (): string => (cjsPath ??= req.resolve('apache-arrow'));

/** apache-arrow's ESM build, loaded synchronously (the same instance `import('apache-arrow')` gives). */
export function arrowSync(): ArrowLib {
  if (esmArrow) return esmArrow;
  // exports map: node+require → Arrow.node.js, node+import → Arrow.node.mjs, side by side
  const esmFile = cjsEntry().replace(/\.js$/, '.mjs');
  try {
    esmArrow = req(esmFile) as ArrowLib;
  } catch (err: any) {
    if (err?.code !== 'ERR_REQUIRE_ESM' && err?.code !== 'ERR_REQUIRE_ASYNC_MODULE') throw err;
    throw new SerializationError(
      'reading or storing an Arrow table synchronously needs require(esm) (Node ≥ 20.19); use the async API (serializeAsync / deserialize)',
      { cause: err },
    );
  }
  return esmArrow;
}

/** apache-arrow's ESM build, by dynamic import (works on every Node 20). */
export async function arrowAsync(): Promise<ArrowLib> {
  return (esmArrow ??= await import('apache-arrow'));
}

export const arrowLoaded = (): boolean => esmArrow !== undefined;

/** The apache-arrow build that made this table (see the top of this file). */
function arrowFor(table: object, name: string): ArrowLib {
  if (esmArrow && table instanceof esmArrow.Table) return esmArrow;
  // CommonJS build: only if something already required it, it is the cheap check
  if (!cjsArrow && req.cache[cjsEntry()]) cjsArrow = req(cjsEntry()) as ArrowLib;
  if (cjsArrow && table instanceof cjsArrow.Table) return cjsArrow;
  if (!esmArrow) {
    const esm = arrowSync();
    if (table instanceof esm.Table) return esm;
  }
  throw new SerializationError(
    `cannot serialize artifact '${name}': this Arrow table comes from another copy of apache-arrow than flowbook's; build it with the project's apache-arrow`,
  );
}

export const isArrowTable = (v: any): boolean =>
  v !== null && typeof v === 'object' && v.constructor?.name === 'Table' && 'schema' in v && 'batches' in v;

/** danfo DataFrame by its shape, so that detecting one never imports danfojs-node. */
export const isDanfoFrame = (v: any): boolean =>
  v !== null &&
  typeof v === 'object' &&
  v.constructor?.name === 'DataFrame' &&
  Array.isArray(v.columns) &&
  Array.isArray(v.dtypes) &&
  ('getColumnData' in v || 'values' in v);

export function tableToBytes(table: object, name: string): Buffer {
  const lib = arrowFor(table, name);
  const ipc = lib.tableToIPC(table as ArrowTable, 'stream');
  return Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength);
}

export function bytesToTable(bytes: Uint8Array): ArrowTable {
  return arrowSync().tableFromIPC(bytes);
}

const DTYPES_KEY = 'flowbook.danfo.dtypes';
const INDEX_KEY = 'flowbook.danfo.index';

const isInt32 = (x: number) => (x | 0) === x && !Object.is(x, -0);
const isMissing = (x: unknown) => x === null || x === undefined;

/**
 * A danfo DataFrame → Arrow IPC, read straight from the frame's column arrays (no danfo import).
 * danfo holds JS numbers: float32 columns are stored as Float64 (exact), int32 as Int32 when every
 * value fits, booleans as Bool, everything else as Utf8; null/undefined are Arrow nulls. The
 * frame's own dtypes go in the schema metadata, so the frame comes back with them.
 */
export function danfoToBytes(df: any, name: string): Buffer {
  const lib = arrowSync();
  const columns: string[] = [...df.columns];
  const dtypes: string[] = [...df.dtypes];
  const rows = Array.isArray(df.index) ? df.index.length : 0;
  let data: unknown[][];
  const cd = df.getColumnData;
  if (Array.isArray(cd) && cd.length === columns.length) data = cd;
  else if (rows === 0) data = columns.map(() => []);
  else data = columns.map((c) => df.column(c).values);

  const fields: import('apache-arrow').Field[] = [];
  const children: import('apache-arrow').Data[] = [];
  columns.forEach((col, i) => {
    const values = data[i] ?? [];
    let nulls = 0;
    let allNumbers = true;
    let allInt32 = true;
    let allBooleans = true;
    for (let j = 0; j < values.length; j++) {
      const x = values[j];
      if (isMissing(x)) nulls++;
      else if (typeof x === 'number') {
        allBooleans = false;
        if (allInt32 && !isInt32(x)) allInt32 = false;
      } else {
        allNumbers = false;
        allInt32 = false;
        if (typeof x !== 'boolean') allBooleans = false;
      }
    }
    const dt = dtypes[i];
    let vector: import('apache-arrow').Vector;
    if ((dt === 'int32' || dt === 'float32') && allNumbers && values.length > 0) {
      if (dt === 'int32' && allInt32) {
        vector = nulls ? lib.vectorFromArray(values, new lib.Int32()) : lib.makeVector(Int32Array.from(values as number[]));
      } else {
        vector = nulls ? lib.vectorFromArray(values, new lib.Float64()) : lib.makeVector(Float64Array.from(values as number[]));
      }
    } else if (dt === 'boolean' && allBooleans && values.length > 0) {
      vector = lib.vectorFromArray(values, new lib.Bool());
    } else {
      // danfo calls a column of empty strings int32 and mixes types in 'string': trust the values
      if (dt !== 'string' && values.length > 0) dtypes[i] = 'string';
      const strings = values.map((x) => (isMissing(x) ? null : String(x)));
      vector = lib.vectorFromArray(strings, new lib.Utf8());
    }
    // vectorFromArray / makeVector build one chunk: the column is its single Data
    fields.push(new lib.Field(col, vector.type, vector.nullCount > 0));
    children.push(vector.data[0]!);
  });

  const meta = new Map<string, string>([[DTYPES_KEY, JSON.stringify(dtypes.slice(0, columns.length))]]);
  const index: unknown[] = Array.isArray(df.index) ? df.index : [];
  if (!index.every((x, j) => x === j)) {
    if (!index.every((x) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)))) {
      throw new SerializationError(`cannot serialize artifact '${name}': the DataFrame's index must be strings or numbers`);
    }
    meta.set(INDEX_KEY, JSON.stringify(index));
  }
  // built by hand, not with `new Table({...})`: an object of columns would reorder integer-like names
  const schema = new lib.Schema(fields, meta);
  const struct = lib.makeData({ type: new lib.Struct(fields), length: rows, nullCount: 0, children });
  const table = new lib.Table(schema, [new lib.RecordBatch(schema, struct)]);
  const ipc = lib.tableToIPC(table, 'stream');
  return Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength);
}

/** Arrow IPC → danfo DataFrame; `danfo` is the loaded danfojs-node module. */
export function bytesToDanfo(bytes: Uint8Array, danfo: any): unknown {
  const lib = arrowSync();
  const t = lib.tableFromIPC(bytes);
  const meta = t.schema.metadata;
  const dtypes: string[] | undefined = meta.has(DTYPES_KEY) ? JSON.parse(meta.get(DTYPES_KEY)!) : undefined;
  const index: unknown[] | undefined = meta.has(INDEX_KEY) ? JSON.parse(meta.get(INDEX_KEY)!) : undefined;
  const columns = t.schema.fields.map((f) => f.name);
  const n = t.numRows;
  if (n === 0) return new danfo.DataFrame([], { columns });
  const cols: unknown[][] = t.schema.fields.map((f, i) => {
    const v = t.getChildAt(i)!;
    const numeric = lib.DataType.isInt(f.type) || lib.DataType.isFloat(f.type);
    return numeric && v.nullCount === 0 ? Array.from(v.toArray() as ArrayLike<number>) : Array.from(v as Iterable<unknown>);
  });
  // row-major with explicit columns: an object of columns would reorder integer-like names
  const rows: unknown[][] = new Array(n);
  for (let r = 0; r < n; r++) {
    const row = new Array(cols.length);
    for (let c = 0; c < cols.length; c++) row[c] = cols[c]![r];
    rows[r] = row;
  }
  const options: Record<string, unknown> = { columns };
  if (dtypes && dtypes.length === columns.length) options.dtypes = dtypes;
  if (index) options.index = index;
  return new danfo.DataFrame(rows, options);
}
