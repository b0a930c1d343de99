// Serializers by type. One walk of the value decides: JSON for plain data that round-trips
// exactly, v8 for Map/Set/Date/BigInt/typed arrays (and -0, NaN, undefined, shared references),
// Arrow IPC for tables (apache-arrow Table, danfo DataFrame), raw for bytes, 'numbers' for a big
// plain array of numbers (binary, read back as a plain array). Anything else — functions,
// symbols, class instances — is refused with the path to the bad value; any other failure of a
// serializer is a SerializationError naming the artifact.
import os from 'node:os';
import v8 from 'node:v8';
import zlib from 'node:zlib';
import { SerializationError } from '../errors.js';
import { importDanfo } from '../dataframes-peer.js';

export type SerializerName = 'json' | 'v8' | 'arrow' | 'raw' | 'numbers';
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
  danfoLib ??= await importDanfo();
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
      if (!(i in obj)) {
        kind = 'v8'; // a hole
        continue;
      }
      const x = obj[i];
      // primitives inline: no path string per element of a big array
      if (typeof x === 'number') {
        if (!Number.isFinite(x) || Object.is(x, -0)) kind = 'v8';
      } else if (typeof x !== 'string' && typeof x !== 'boolean' && walk(x, `${path}[${i}]`, seen) === 'v8') kind = 'v8';
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

/** Store the value as bytes; every failure is a SerializationError naming the artifact. */
export function serialize(value: unknown, name: string): Serialized {
  let out: Serialized;
  try {
    out = serializeValue(value, name);
  } catch (err) {
    throw serializationError(err, name);
  }
  checkArtifactSize(name, out.bytes.length);
  return out;
}

/**
 * The largest artifact flowbook stores: 2 GiB - 1 byte serialized, what Node can write to and
 * read from a file in one call (and the largest single-buffer S3 body the SDK accepts). Past it
 * the artifact is refused with its name and size — before any byte is written — instead of a raw
 * RangeError from deep inside fs or the SDK.
 */
export const MAX_ARTIFACT_BYTES = 2 ** 31 - 1;

export function checkArtifactSize(name: string, bytes: number): void {
  if (bytes > MAX_ARTIFACT_BYTES) {
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
    throw new SerializationError(`artifact '${name}' is ${gib(bytes)} serialized, more than the ${gib(MAX_ARTIFACT_BYTES + 1)} an artifact can hold: split it into several artifacts (or keep it in a file and store its path)`);
  }
}

function serializationError(err: unknown, name: string): SerializationError {
  if (err instanceof SerializationError) return err;
  if (err instanceof Refusal) return new SerializationError(`cannot serialize artifact '${name}': ${err.what} (at ${err.path})${err.hint}`);
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (err instanceof RangeError && /invalid string length/i.test(err.message)) {
    return new SerializationError(
      `artifact '${name}' cannot be stored: it is too large for JSON (${what}); store big data as a typed array, an Arrow table or bytes`,
      { cause: err },
    );
  }
  return new SerializationError(`artifact '${name}' cannot be stored: ${what}`, { cause: err });
}

function serializeValue(value: unknown, name: string): Serialized {
  if (Buffer.isBuffer(value)) return { bytes: value, serializer: 'raw', type: 'Buffer' };
  if (value instanceof Uint8Array) {
    return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength), serializer: 'raw', type: 'Uint8Array' };
  }
  if (isArrowTable(value)) return { bytes: Buffer.from(arrow().tableToIPC(value as any, 'stream')), serializer: 'arrow', type: 'arrow.Table' };
  if (isDanfoFrame(value)) return { bytes: danfoToIPC(value), serializer: 'arrow', type: 'danfo.DataFrame' };
  if (Array.isArray(value) && value.length >= NUMBERS_MIN_LENGTH) {
    const bytes = encodeNumbers(value);
    if (bytes) return { bytes, serializer: 'numbers', type: 'array' };
  }
  const kind = walk(value, name, new Set());
  const type = describeType(value);
  if (kind === 'json') return { bytes: Buffer.from(JSON.stringify(value), 'utf8'), serializer: 'json', type };
  return { bytes: v8.serialize(value), serializer: 'v8', type };
}

// ---- 'numbers': a big plain array of numbers -------------------------------------------------
// JSON of 60M numbers takes minutes, then fails at V8's max string length. Such an array is
// stored as an 8-byte header — 'FBNUMS', format version 1, element kind ('i' int32, 'd' float64)
// — then its elements, little-endian; it reads back as a plain Array of numbers.
/** a plain array at least this long, of numbers only, is stored as 'numbers' (shorter ones stay JSON) */
export const NUMBERS_MIN_LENGTH = 100_000;
const NUMBERS_MAGIC = 'FBNUMS';
const NUMBERS_VERSION = 1;
const NUMBERS_HEADER = 8;
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The array as 'numbers' bytes, or undefined when it holds anything but numbers (or holes). */
function encodeNumbers(xs: unknown[]): Buffer | undefined {
  // one pass that only reads: numbers only, and are they all int32 (-0 is not)?
  let int32 = true;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (typeof x !== 'number') return undefined; // a hole reads as undefined: such arrays go to v8
    if (int32 && ((x | 0) !== x || (x === 0 && 1 / x < 0))) int32 = false;
  }
  // then one allocation, filled by the typed array's bulk copy; an own ArrayBuffer keeps it aligned
  const size = int32 ? 4 : 8;
  const bytes = Buffer.allocUnsafeSlow(NUMBERS_HEADER + xs.length * size);
  bytes.write(NUMBERS_MAGIC, 0, 'latin1');
  bytes[6] = NUMBERS_VERSION;
  bytes[7] = (int32 ? 'i' : 'd').charCodeAt(0);
  const body = bytes.subarray(NUMBERS_HEADER);
  (int32 ? new Int32Array(bytes.buffer, NUMBERS_HEADER, xs.length) : new Float64Array(bytes.buffer, NUMBERS_HEADER, xs.length)).set(xs as number[]);
  if (!LITTLE_ENDIAN) (int32 ? body.swap32() : body.swap64());
  return bytes;
}

function decodeNumbers(b: Buffer): number[] {
  if (b.length < NUMBERS_HEADER || b.toString('latin1', 0, 6) !== NUMBERS_MAGIC || b[6] !== NUMBERS_VERSION) {
    throw new SerializationError(`not a 'numbers' artifact of format version ${NUMBERS_VERSION} (is this flowbook older than the one that wrote it?)`);
  }
  const kind = String.fromCharCode(b[7]);
  const size = kind === 'i' ? 4 : kind === 'd' ? 8 : 0;
  if (!size || (b.length - NUMBERS_HEADER) % size) throw new SerializationError(`a 'numbers' artifact is corrupt (element kind ${JSON.stringify(kind)}, ${b.length} bytes)`);
  const n = (b.length - NUMBERS_HEADER) / size;
  let body: Uint8Array = b.subarray(NUMBERS_HEADER);
  // a typed array needs aligned bytes in this machine's order: else read from a copy
  if (body.byteOffset % size || !LITTLE_ENDIAN) {
    body = new Uint8Array(body);
    if (!LITTLE_ENDIAN) (size === 4 ? Buffer.from(body.buffer).swap32() : Buffer.from(body.buffer).swap64());
  }
  const view = size === 4 ? new Int32Array(body.buffer, body.byteOffset, n) : new Float64Array(body.buffer, body.byteOffset, n);
  // push keeps a packed array (new Array(n) of a big n is a slow dictionary one); faster than Array.from
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(view[i]);
  return out;
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
    // a missing number (danfo keeps null in a float32 column it built from records) is NaN, as in
    // pandas: the column stays numeric instead of turning into strings
    const missing = (v: unknown) => v === null || v === undefined;
    const numeric = (dtypes[i] === 'float32' || dtypes[i] === 'int32') && values.every((v) => typeof v === 'number' || missing(v));
    if (numeric) {
      data[c] = Float64Array.from(values, (v) => (missing(v) ? NaN : (v as number)));
      if (dtypes[i] === 'int32' && values.some((v) => missing(v) || Number.isNaN(v))) dtypes[i] = 'float32';
    }
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
    case 'numbers':
      return decodeNumbers(b);
    case 'arrow':
      if (type === 'danfo.DataFrame') {
        if (!danfoLib) throw new SerializationError('a DataFrame artifact is read with the async API (await ...data())');
        return ipcToDanfo(b);
      }
      return arrow().tableFromIPC(b);
    default:
      throw new SerializationError(`unknown serializer ${JSON.stringify(serializer)} (written by a newer flowbook?)`);
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
