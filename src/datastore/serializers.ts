// Serializers by type. One walk of the value decides: JSON for plain data that round-trips
// exactly, v8 for Map/Set/Date/BigInt/typed arrays (and -0, NaN, undefined, shared references),
// Arrow IPC for tables (apache-arrow Table, danfo DataFrame), raw for bytes. Anything else —
// functions, symbols, class instances — is refused with the path to the bad value.
import v8 from 'node:v8';
import zlib from 'node:zlib';
import { SerializationError } from '../errors.js';

export type SerializerName = 'json' | 'v8' | 'arrow' | 'raw';
export interface Serialized {
  bytes: Buffer;
  serializer: SerializerName;
  type: string;
}

// apache-arrow costs ≈ 75 ms to load: only when a table is stored or read. It must be its ESM
// build, the one flows import: a Table made by one build is mis-encoded by the other's writer.
let arrowLib: typeof import('apache-arrow') | undefined;
const arrow = () => {
  if (!arrowLib) throw new SerializationError('internal: apache-arrow is not loaded (call loadSerializersFor first)');
  return arrowLib;
};
// danfojs-node costs ≈ 0.8 s (tfjs): only when a DataFrame is read back
let danfoLib: any;
async function danfo(): Promise<any> {
  if (!danfoLib) {
    const m: any = await import('danfojs-node');
    danfoLib = m.default ?? m;
  }
  return danfoLib;
}

/** Load what reading these artifacts needs (Arrow, danfo), so reads can then be synchronous. */
export async function loadSerializersFor(refs: Iterable<{ serializer: SerializerName; type: string }>): Promise<void> {
  for (const r of refs) {
    if (r.serializer === 'arrow') arrowLib ??= await import('apache-arrow');
    if (r.type === 'danfo.DataFrame') await danfo();
  }
}

const isArrowTable = (v: any) => v?.constructor?.name === 'Table' && 'schema' in v && 'batches' in v;
const isDanfoFrame = (v: any) => v?.constructor?.name === 'DataFrame' && Array.isArray(v.columns) && Array.isArray(v.dtypes);

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value !== 'object') return typeof value;
  if (isArrowTable(value)) return 'arrow.Table';
  if (isDanfoFrame(value)) return 'danfo.DataFrame';
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? 'object' : (proto?.constructor?.name ?? 'object');
}

class Refusal {
  constructor(
    readonly what: string,
    readonly path: string,
    readonly hint = '',
  ) {}
}

/** One walk: 'json' when JSON round-trips the value exactly, 'v8' when only v8 does; throws Refusal. */
function walk(v: unknown, path: string, seen: Set<object>): 'json' | 'v8' {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return 'json';
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? 'json' : 'v8';
    case 'bigint':
    case 'undefined':
      return 'v8';
    case 'function':
      throw new Refusal('a function is not data', path);
    case 'symbol':
      throw new Refusal('a symbol is not data', path);
  }
  if (v === null) return 'json';
  const obj = v as object;
  if (seen.has(obj)) return 'v8'; // shared or circular: v8 keeps the references
  seen.add(obj);
  let kind: 'json' | 'v8' = 'json';
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) kind = 'v8'; // a hole
      else if (walk(obj[i], `${path}[${i}]`, seen) === 'v8') kind = 'v8';
    }
    return kind;
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto === Object.prototype || proto === null) {
    for (const k of Object.keys(obj)) if (walk((obj as any)[k], `${path}.${k}`, seen) === 'v8') kind = 'v8';
    return kind;
  }
  if (obj instanceof Map) {
    let i = 0;
    for (const [k, x] of obj) {
      walk(k, `${path}.<key ${i}>`, seen);
      walk(x, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : i})`, seen);
      i++;
    }
    return 'v8';
  }
  if (obj instanceof Set) {
    let i = 0;
    for (const x of obj) walk(x, `${path}.<item ${i++}>`, seen);
    return 'v8';
  }
  if (obj instanceof Date || obj instanceof RegExp || obj instanceof ArrayBuffer || ArrayBuffer.isView(obj) || obj instanceof Error) return 'v8';
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) return 'v8';
  if (obj instanceof Promise) throw new Refusal('a Promise is not data (await it first)', path);
  if (obj instanceof WeakMap || obj instanceof WeakSet) throw new Refusal(`a ${proto.constructor.name} cannot be stored`, path);
  if (isArrowTable(obj) || isDanfoFrame(obj)) throw new Refusal('a table inside another value cannot be stored; make the table its own artifact', path);
  throw new Refusal(
    `instance of class ${proto?.constructor?.name ?? '(anonymous)'}`,
    path,
    '; store plain data, a Map/Set/Date, a typed array, a Buffer or an Arrow table/DataFrame',
  );
}

/** serialize(), loading apache-arrow first when the value is a table. */
export async function serializeAsync(value: unknown, name: string): Promise<Serialized> {
  if (isArrowTable(value) || isDanfoFrame(value)) arrowLib ??= await import('apache-arrow');
  return serialize(value, name);
}

export function serialize(value: unknown, name: string): Serialized {
  if (Buffer.isBuffer(value)) return { bytes: value, serializer: 'raw', type: 'Buffer' };
  if (value instanceof Uint8Array) {
    return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength), serializer: 'raw', type: 'Uint8Array' };
  }
  if (isArrowTable(value)) return { bytes: Buffer.from(arrow().tableToIPC(value as any, 'stream')), serializer: 'arrow', type: 'arrow.Table' };
  if (isDanfoFrame(value)) return { bytes: danfoToIPC(value), serializer: 'arrow', type: 'danfo.DataFrame' };
  let kind: 'json' | 'v8';
  try {
    kind = walk(value, name, new Set());
  } catch (err) {
    if (err instanceof Refusal) throw new SerializationError(`cannot serialize artifact '${name}': ${err.what} (at ${err.path})${err.hint}`);
    throw err;
  }
  const type = describeType(value);
  if (kind === 'json') return { bytes: Buffer.from(JSON.stringify(value), 'utf8'), serializer: 'json', type };
  try {
    return { bytes: v8.serialize(value), serializer: 'v8', type };
  } catch (err: any) {
    throw new SerializationError(`cannot serialize artifact '${name}': ${err?.message ?? err}`, { cause: err });
  }
}

/** danfo keeps plain column arrays: build an Arrow table from them, with the dtypes in the schema. */
function danfoToIPC(df: any): Buffer {
  const { tableFromArrays, tableToIPC, Table, Schema } = arrow();
  const cols: string[] = df.columns;
  // danfo calls a column of empty strings int32: trust the values, not the inferred dtype
  const dtypes: string[] = [...df.dtypes];
  const data: Record<string, unknown> = {};
  cols.forEach((c, i) => {
    const values = df.column(c).values as unknown[];
    const numeric = (dtypes[i] === 'float32' || dtypes[i] === 'int32') && values.every((v) => typeof v === 'number');
    if (numeric) data[c] = Float64Array.from(values as number[]);
    else if (dtypes[i] === 'boolean' && values.every((v) => typeof v === 'boolean')) data[c] = values;
    else {
      dtypes[i] = 'string';
      data[c] = values.map((v) => (v === null || v === undefined ? null : String(v)));
    }
  });
  const t = tableFromArrays(data as any);
  const meta = new Map(t.schema.metadata);
  meta.set('flowbook.danfo.dtypes', JSON.stringify(dtypes));
  const withMeta = new Table(new Schema(t.schema.fields, meta), t.batches);
  return Buffer.from(tableToIPC(withMeta, 'stream'));
}

/** A danfo DataFrame from its Arrow IPC bytes (danfo must be loaded). */
function ipcToDanfo(bytes: Uint8Array): unknown {
  const t = arrow().tableFromIPC(bytes);
  const dtypes = JSON.parse(t.schema.metadata.get('flowbook.danfo.dtypes') ?? 'null');
  const data: Record<string, unknown[]> = {};
  for (const f of t.schema.fields) data[f.name] = Array.from(t.getChild(f.name)!.toArray() as ArrayLike<unknown>);
  return new danfoLib.DataFrame(data, dtypes ? { dtypes } : undefined);
}

const asBuffer = (b: Buffer | Uint8Array) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export function deserializeSync(bytes: Buffer | Uint8Array, serializer: SerializerName, type: string): unknown {
  const b = asBuffer(bytes);
  switch (serializer) {
    case 'raw':
      return type === 'Uint8Array' ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : b;
    case 'json':
      return JSON.parse(b.toString('utf8'));
    case 'v8':
      return v8.deserialize(b);
    case 'arrow':
      if (type === 'danfo.DataFrame') {
        if (!danfoLib) throw new SerializationError('a DataFrame artifact is read with the async API (await ...data())');
        return ipcToDanfo(b);
      }
      return arrow().tableFromIPC(b);
  }
}

export async function deserialize(bytes: Buffer | Uint8Array, serializer: SerializerName, type: string): Promise<unknown> {
  await loadSerializersFor([{ serializer, type }]);
  return deserializeSync(bytes, serializer, type);
}

/** gzip (fast level) only when a sample shows it pays; random or tiny data is stored as is. */
export function compressIfItPays(bytes: Buffer): { data: Buffer; encoding: 'none' | 'gzip' } {
  if (bytes.length < 512) return { data: bytes, encoding: 'none' };
  const sample = bytes.subarray(0, 65536);
  if (zlib.gzipSync(sample, { level: 1 }).length > 0.9 * sample.length) return { data: bytes, encoding: 'none' };
  const data = zlib.gzipSync(bytes, { level: 1 });
  return data.length < 0.9 * bytes.length ? { data, encoding: 'gzip' } : { data: bytes, encoding: 'none' };
}

export function decompress(data: Buffer, encoding: 'none' | 'gzip'): Buffer {
  return encoding === 'gzip' ? zlib.gunzipSync(data) : data;
}
