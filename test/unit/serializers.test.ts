// Serializers: the right one per type, exact round trips, determinism, and clear refusals.
import { describe, it, expect } from 'vitest';
import crypto from 'node:crypto';
import { serialize, serializeAsync, deserialize, compressIfItPays, decompress, NUMBERS_MIN_LENGTH } from '../../src/datastore/serializers.js';
import { SerializationError } from '../../src/errors.js';

async function roundTrip(v: unknown) {
  const s = await serializeAsync(v, 'x');
  return { s, back: await deserialize(s.bytes, s.serializer, s.type) };
}

describe('serializers', () => {
  it('plain data is JSON and round-trips exactly', async () => {
    const v = { a: 1, b: 'two', c: [true, null, { d: 1.5 }] };
    const { s, back } = await roundTrip(v);
    expect(s.serializer).toBe('json');
    expect(s.type).toBe('object');
    expect(back).toEqual(v);
  });

  it('values JSON would change go to v8: -0, NaN, undefined, holes, shared references', async () => {
    for (const v of [[-0], [NaN], { a: undefined }, [1, , 3], [Infinity]]) {
      const { s, back } = await roundTrip(v);
      expect(s.serializer).toBe('v8');
      expect(back).toEqual(v);
    }
    const shared = { k: 1 };
    const { back } = await roundTrip({ a: shared, b: shared });
    expect((back as any).a).toBe((back as any).b);
  });

  it('Map, Set, Date, BigInt, typed arrays via v8', async () => {
    const v = { m: new Map([['a', new Set([1, 2])]]), d: new Date(5), n: 10n ** 30n, f: new Float64Array([1.5, 2.5]) };
    const { s, back } = await roundTrip(v);
    expect(s.serializer).toBe('v8');
    expect(back).toEqual(v);
    expect((await roundTrip(new Map([[1, 2]]))).s.type).toBe('Map');
  });

  it('Buffer and Uint8Array are raw, a Buffer without a copy', async () => {
    const buf = crypto.randomBytes(1000);
    const s = serialize(buf, 'b');
    expect(s.serializer).toBe('raw');
    expect(s.bytes).toBe(buf);
    const u = new Uint8Array([1, 2, 3]);
    const { back } = await roundTrip(u);
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(back)).toBe(false);
    expect([...(back as Uint8Array)]).toEqual([1, 2, 3]);
  });

  it('an Arrow table is Arrow IPC', async () => {
    const { tableFromArrays } = await import('apache-arrow');
    const t = tableFromArrays({ i: Int32Array.from([1, 2]), f: Float64Array.from([0.5, 1.5]), s: ['a', 'b'], b: [true, false] });
    const { s, back } = await roundTrip(t);
    expect(s.serializer).toBe('arrow');
    expect(s.type).toBe('arrow.Table');
    expect((back as any).numRows).toBe(2);
    expect((back as any).toArray().map((r: any) => r.toJSON())).toEqual([
      { i: 1, f: 0.5, s: 'a', b: true },
      { i: 2, f: 1.5, s: 'b', b: false },
    ]);
  });

  it('a danfo DataFrame round-trips through Arrow with its dtypes', async () => {
    const dfd: any = await import('danfojs-node');
    const df = new (dfd.default ?? dfd).DataFrame({ title: ['a', 'b'], rtf: [0.25, 0.5], words: [10, 20] });
    const { s, back } = await roundTrip(df);
    expect(s.type).toBe('danfo.DataFrame');
    expect((back as any).columns).toEqual(['title', 'rtf', 'words']);
    expect((back as any).dtypes).toEqual(df.dtypes);
    expect((back as any).values).toEqual(df.values);
    // a column of empty strings stays strings (danfo infers int32 for it)
    const blank = new (dfd.default ?? dfd).DataFrame([{ note: '', n: 1 }, { note: '', n: 2 }]);
    const again = await roundTrip(blank);
    expect((again.back as any).column('note').values).toEqual(['', '']);
    expect((again.back as any).column('n').values).toEqual([1, 2]);
  }, 30_000);


  it('a missing number in a DataFrame comes back as NaN in a numeric column, never as a string', async () => {
    const dfd: any = await import('danfojs-node');
    // records with null where nothing was measured: danfo calls these columns float32 and keeps the nulls
    const df = new (dfd.default ?? dfd).DataFrame([{ title: 'a', wer: null, words: 3 }, { title: 'b', wer: 0.25, words: null }, { title: 'c', wer: null, words: 5 }]);
    const back = (await roundTrip(df)).back as any;
    expect(back.dtypes).toEqual(['string', 'float32', 'float32']);
    expect(back.column('wer').values).toEqual([NaN, 0.25, NaN]);
    expect(back.column('words').values).toEqual([3, NaN, 5]);
    expect(back.column('wer').mean()).toBe(0.25);
  }, 30_000);
  it('the same value always gives the same bytes', () => {
    const mk = () => ({ a: [1, 2, 3], m: new Map([['x', 1]]) });
    expect(serialize(mk(), 'a').bytes.equals(serialize(mk(), 'a').bytes)).toBe(true);
    expect(serialize([1, 2], 'a').bytes.equals(serialize([1, 2], 'a').bytes)).toBe(true);
  });

  it('refuses what is not data, with the path to it', () => {
    class Foo {}
    const cases: [unknown, string][] = [
      [() => 1, "cannot serialize artifact 'x': a function is not data (at x)"],
      [{ config: { handler() {} } }, "cannot serialize artifact 'x': a function is not data (at x.config.handler)"],
      [[1, Symbol('s')], "cannot serialize artifact 'x': a symbol is not data (at x[1])"],
      [{ inner: new Foo() }, "cannot serialize artifact 'x': instance of class Foo (at x.inner); store plain data, a Map/Set/Date, a typed array, a Buffer or an Arrow table/DataFrame"],
      [Promise.resolve(1), "cannot serialize artifact 'x': a Promise is not data (await it first) (at x)"],
      [new Map([['k', () => 1]]), `cannot serialize artifact 'x': a function is not data (at x.get("k"))`],
    ];
    for (const [v, msg] of cases) {
      expect(() => serialize(v, 'x')).toThrow(SerializationError);
      expect(() => serialize(v, 'x')).toThrow(msg);
    }
  });

  it('compresses only when it pays', () => {
    const random = crypto.randomBytes(1 << 20);
    expect(compressIfItPays(random).encoding).toBe('none');
    expect(compressIfItPays(Buffer.from('ab')).encoding).toBe('none');
    const text = Buffer.from('the quick brown fox '.repeat(5000));
    const c = compressIfItPays(text);
    expect(c.encoding).toBe('gzip');
    expect(decompress(c.data, c.encoding).equals(text)).toBe(true);
  });

  it('a million numbers are binary, not JSON, and read back as a plain array', async () => {
    const xs = Array.from({ length: 1_000_000 }, (_, i) => i * 0.5);
    const { s, back } = await roundTrip(xs);
    expect(s.serializer).toBe('numbers');
    expect(s.type).toBe('array');
    expect(s.bytes.length).toBe(8 + 8 * xs.length); // a small header, then float64s
    expect(Array.isArray(back)).toBe(true);
    const ys = back as number[];
    expect(ys.length).toBe(xs.length);
    expect([ys[0], ys[1], ys.at(-1)]).toEqual([0, 0.5, 499_999.5]);
    expect(ys.every((y, i) => y === xs[i])).toBe(true);
  });

  it('a big number array round-trips exactly: int32s, NaN, ±Infinity, -0, and the same bytes each time', async () => {
    const n = NUMBERS_MIN_LENGTH;
    const ints = Array.from({ length: n }, (_, i) => (i % 2 ? -i : i * 1000));
    const a = await roundTrip(ints);
    expect(a.s.serializer).toBe('numbers');
    expect(a.s.bytes.length).toBe(8 + 4 * n); // all int32: 4 bytes each
    expect(Array.isArray(a.back)).toBe(true);
    expect(a.back).toEqual(ints);
    const odd = Array.from({ length: n }, (_, i) => i * 0.25);
    odd.splice(0, 5, NaN, Infinity, -Infinity, -0, 2 ** 40);
    const b = await roundTrip(odd);
    expect(b.s.serializer).toBe('numbers');
    expect(Array.isArray(b.back)).toBe(true);
    expect(b.back).toEqual(odd);
    expect(Object.is((b.back as number[])[3], -0)).toBe(true);
    expect(serialize(odd, 'a').bytes.equals(serialize([...odd], 'a').bytes)).toBe(true);
    // read back from an unaligned copy of the bytes too
    const shifted = Buffer.alloc(b.s.bytes.length + 1).fill(0);
    b.s.bytes.copy(shifted, 1);
    expect(await deserialize(shifted.subarray(1), 'numbers', 'array')).toEqual(odd);
  });

  it('short, mixed or holey number arrays keep their serializer', async () => {
    const short = Array.from({ length: NUMBERS_MIN_LENGTH - 1 }, (_, i) => i);
    expect(serialize(short, 'x').serializer).toBe('json');
    const mixed: unknown[] = Array.from({ length: NUMBERS_MIN_LENGTH }, (_, i) => i);
    mixed.push('a string');
    const m = await roundTrip(mixed);
    expect(m.s.serializer).toBe('json');
    expect(m.back).toEqual(mixed);
    const holey = Array.from({ length: NUMBERS_MIN_LENGTH }, (_, i) => i);
    delete holey[7];
    const h = await roundTrip(holey);
    expect(h.s.serializer).toBe('v8');
    expect(7 in (h.back as number[])).toBe(false);
  });

  it('a corrupt numbers artifact is refused, not misread', async () => {
    await expect(deserialize(Buffer.from('FBNUMS\x01d1234567', 'latin1'), 'numbers', 'array')).rejects.toThrow(/corrupt/);
    await expect(deserialize(Buffer.from('not numbers at all'), 'numbers', 'array')).rejects.toThrow(SerializationError);
  });

  it('a serializer that fails is a SerializationError naming the artifact, with the original as cause', () => {
    // JSON too long: the walk reads the value once, JSON.stringify then fails as V8 does past its max string length
    let reads = 0;
    const tooLong = {
      get big() {
        if (reads++) throw new RangeError('Invalid string length');
        return 1;
      },
    };
    let err: any;
    try {
      serialize(tooLong, 'xs');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.message).toBe(
      "artifact 'xs' cannot be stored: it is too large for JSON (RangeError: Invalid string length); store big data as a typed array, an Arrow table or bytes",
    );
    expect(err.cause).toBeInstanceOf(RangeError);
    // anything else thrown while storing: named too
    const throwing = {
      get oops() {
        throw new TypeError('boom');
      },
    };
    expect(() => serialize(throwing, 'cfg')).toThrow(SerializationError);
    expect(() => serialize(throwing, 'cfg')).toThrow("artifact 'cfg' cannot be stored: TypeError: boom");
  });
});
