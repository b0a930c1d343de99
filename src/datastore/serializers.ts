// PLACEHOLDER until the full serializers land: json, v8, raw and gzip-when-it-pays.
import v8 from 'node:v8';
import zlib from 'node:zlib';
import { SerializationError } from '../errors.js';

export type SerializerName = 'json' | 'v8' | 'arrow' | 'raw';
export interface Serialized { bytes: Buffer; serializer: SerializerName; type: string }

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

export function serialize(value: unknown, name: string): Serialized {
  if (Buffer.isBuffer(value)) return { bytes: value, serializer: 'raw', type: 'Buffer' };
  if (typeof value === 'function') throw new SerializationError(`cannot serialize artifact '${name}': a function is not data (at ${name})`);
  try {
    const s = JSON.stringify(value);
    if (s !== undefined && JSON.stringify(JSON.parse(s)) === s) {
      return { bytes: Buffer.from(s), serializer: 'json', type: describeType(value) };
    }
  } catch { /* fall through */ }
  return { bytes: v8.serialize(value), serializer: 'v8', type: describeType(value) };
}

export function deserializeSync(bytes: Buffer | Uint8Array, serializer: SerializerName, type: string): unknown {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (serializer === 'raw') return b;
  if (serializer === 'json') return JSON.parse(b.toString('utf8'));
  return v8.deserialize(b);
}

export async function deserialize(bytes: Buffer | Uint8Array, serializer: SerializerName, type: string): Promise<unknown> {
  return deserializeSync(bytes, serializer, type);
}

export function compressIfItPays(bytes: Buffer): { data: Buffer; encoding: 'none' | 'gzip' } {
  if (bytes.length < 512) return { data: bytes, encoding: 'none' };
  const sample = bytes.subarray(0, 65536);
  if (zlib.gzipSync(sample, { level: 1 }).length > 0.9 * sample.length) return { data: bytes, encoding: 'none' };
  return { data: zlib.gzipSync(bytes, { level: 1 }), encoding: 'gzip' };
}

export function decompress(data: Buffer, encoding: 'none' | 'gzip'): Buffer {
  return encoding === 'gzip' ? zlib.gunzipSync(data) : data;
}
