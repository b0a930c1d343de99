// The Parquet writer (src/client/parquet.ts, parquet-wasm = arrow-rs) checked by a second,
// independent reader: hyparquet (pure JavaScript, its own Thrift and Snappy decoders). Same rows,
// same column names, Parquet types a pandas/DuckDB user expects, NaN and null as missing, nested
// lists; and what Parquet cannot hold refused with the column's name.
import { describe, it, expect } from 'vitest';
import * as A from 'apache-arrow';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { arrowToParquet, rowsToParquet, valueToParquet } from '../../src/client/parquet.js';
import { rowsToArrow } from '../../src/client/dataframe.js';
import { FlowbookError } from '../../src/errors.js';

type Tree = ReturnType<typeof parquetSchema>;

/** A column's Parquet type as a short name: physical + logical, lists and structs spelled out. */
function typeName(t: Tree): string {
  const e = t.element;
  if (e.logical_type?.type === 'LIST') return `list<${typeName(t.children[0].children[0])}>`;
  if (t.children.length) return `struct<${t.children.map((c) => `${c.element.name}: ${typeName(c)}`).join(', ')}>`;
  const lt = e.logical_type as any;
  if (lt?.type === 'STRING') return 'string';
  if (lt?.type === 'TIMESTAMP') return `timestamp[${String(lt.unit).toLowerCase()}${lt.isAdjustedToUTC ? ', UTC' : ''}]`;
  if (lt?.type === 'INTEGER') return `int${lt.bitWidth}`;
  return String(e.type).toLowerCase();
}

/** What the second reader sees: the file's magic, its columns with their types, its rows. */
async function readBack(bytes: Uint8Array) {
  expect(bytes).toBeInstanceOf(Uint8Array);
  expect(Buffer.from(bytes.subarray(0, 4)).toString()).toBe('PAR1');
  expect(Buffer.from(bytes.subarray(-4)).toString()).toBe('PAR1');
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const md = parquetMetadata(file);
  const columns = Object.fromEntries(parquetSchema(md).children.map((c) => [c.element.name, typeName(c)]));
  const codecs = new Set(md.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)));
  return { columns, rows: await parquetReadObjects({ file }), numRows: Number(md.num_rows), codecs };
}

// a step's rows as Step.rows() gives them: scalars, a nested object, lists, nulls, a NaN
const rows = [
  { task_id: '2', task_index: 0, successful: true, seconds: 4.19375, wer: null, tokens: [], note: null, at: new Date(Date.UTC(2026, 0, 2)) },
  { task_id: '3', task_index: 1, successful: false, seconds: NaN, wer: { wer: 0.1, hits: 3 }, tokens: ['t0'], note: 'odd', at: null },
  { task_id: '4', task_index: 2, successful: true, seconds: 2.3, wer: { wer: 0.2, hits: 4 }, tokens: ['t0', 't1'], note: 'ü "quoted", comma', at: new Date(Date.UTC(2026, 0, 3, 4, 5, 6, 7)) },
];

describe('Parquet from a table', () => {
  it("a step's rows: same rows and column names, int64/double/string/boolean/timestamp/list types, null and NaN as missing", async () => {
    const back = await readBack(await rowsToParquet(rows, 'step F/1/score'));
    expect(back.numRows).toBe(3);
    expect(back.codecs).toEqual(new Set(['SNAPPY']));
    expect(back.columns).toEqual({
      task_id: 'string',
      task_index: 'int64',
      successful: 'boolean',
      seconds: 'double',
      tokens: 'list<string>',
      note: 'string',
      at: 'timestamp[millis]',
      'wer.wer': 'double',
      'wer.hits': 'int64',
    });
    expect(back.rows).toEqual([
      { task_id: '2', task_index: 0n, successful: true, seconds: 4.19375, tokens: [], note: null, at: new Date(Date.UTC(2026, 0, 2)), 'wer.wer': null, 'wer.hits': null },
      { task_id: '3', task_index: 1n, successful: false, seconds: null, tokens: ['t0'], note: 'odd', at: null, 'wer.wer': 0.1, 'wer.hits': 3n },
      { task_id: '4', task_index: 2n, successful: true, seconds: 2.3, tokens: ['t0', 't1'], note: 'ü "quoted", comma', at: new Date(Date.UTC(2026, 0, 3, 4, 5, 6, 7)), 'wer.wer': 0.2, 'wer.hits': 4n },
    ]);
  });

  it('an array of records with lists of structs (segments) and NaN inside a list; a column of mixed types as strings', async () => {
    const segs = [
      { title: 'jfk', segments: [{ text: 'ask not', start: 0, score: 0.5 }, { text: 'what', start: 1.5, score: NaN }], mixed: 1 },
      { title: 'kitchen', segments: [], mixed: 'two' },
    ];
    const back = await readBack(await valueToParquet(segs, 'transcripts'));
    expect(back.columns).toEqual({ title: 'string', segments: 'list<struct<text: string, start: double, score: double>>', mixed: 'string' });
    expect(back.rows).toEqual([
      { title: 'jfk', segments: [{ text: 'ask not', start: 0, score: 0.5 }, { text: 'what', start: 1.5, score: null }], mixed: '1' },
      { title: 'kitchen', segments: [], mixed: 'two' },
    ]);
  });

  it('an object of equal-length arrays; a table with no rows keeps its columns', async () => {
    const back = await readBack(await valueToParquet({ model: ['tiny', 'base'], wer: [0.25, 0.125] }, 'cols'));
    expect(back.rows).toEqual([{ model: 'tiny', wer: 0.25 }, { model: 'base', wer: 0.125 }]);
    const arrowEmpty = new A.Table({ a: A.vectorFromArray([], new A.Float64()), b: A.vectorFromArray([], new A.Utf8()) });
    const empty = await readBack(await valueToParquet(arrowEmpty, 'empty'));
    expect(empty.numRows).toBe(0);
    expect(empty.columns).toEqual({ a: 'double', b: 'string' });
    expect(empty.rows).toEqual([]);
  });

  it("an Arrow table artifact is written as it is: its own int32, dictionary and UTC timestamp types", async () => {
    const t = new A.Table({
      n: A.vectorFromArray([1, null, 3], new A.Int32()),
      model: A.vectorFromArray(['tiny', 'base', 'tiny'], new A.Dictionary(new A.Utf8(), new A.Int32())),
      at: A.vectorFromArray([new Date(1000), new Date(2000), null], new A.TimestampMillisecond('UTC')),
      x: A.vectorFromArray([NaN, 1.5, null], new A.Float64()),
    });
    const back = await readBack(await valueToParquet(t, 'arrow'));
    expect(back.columns).toEqual({ n: 'int32', model: 'string', at: 'timestamp[millis, UTC]', x: 'double' });
    expect(back.rows).toEqual([
      { n: 1, model: 'tiny', at: new Date(1000), x: NaN }, // an Arrow NaN is the table's own value: kept
      { n: null, model: 'base', at: new Date(2000), x: 1.5 },
      { n: 3, model: 'tiny', at: null, x: null },
    ]);
  });
});

describe('what Parquet cannot hold is one clear error', () => {
  it('an Arrow union column, even inside a list, names the column and its type', async () => {
    const union = new A.DenseUnion([0, 1], [new A.Field('a', new A.Int32()), new A.Field('b', new A.Utf8())]);
    const data = A.makeData({
      type: union,
      length: 1,
      nullCount: 0,
      typeIds: new Int8Array([0]),
      valueOffsets: new Int32Array([0]),
      children: [A.makeData({ type: new A.Int32(), length: 1, data: new Int32Array([5]) }), A.makeData({ type: new A.Utf8(), length: 0, valueOffsets: new Int32Array([0]), data: new Uint8Array() })],
    });
    const t = new A.Table({ ok: A.vectorFromArray([1.5], new A.Float64()), u: A.makeVector(data) });
    const err = await arrowToParquet(t, "artifact 'mixed'").catch((e) => e);
    expect(err).toBeInstanceOf(FlowbookError);
    expect(err.message).toBe("artifact 'mixed': column 'u' is Union<Int32 | Utf8>, which Parquet cannot hold; convert it (to strings or numbers) before writing Parquet");
    expect(err.message).not.toContain('\n');
    const list = A.makeData({ type: new A.List(new A.Field('item', union, true)), length: 1, nullCount: 0, valueOffsets: new Int32Array([0, 1]), child: data });
    const inList = await arrowToParquet(new A.Table({ l: A.makeVector(list) }), 'step F/1/s').catch((e) => e);
    expect(inList.message).toBe("step F/1/s: column 'l' is List<Union<Int32 | Utf8>> (holding Union<Int32 | Utf8>), which Parquet cannot hold; convert it (to strings or numbers) before writing Parquet");
    // the writer still works after a refusal
    expect((await readBack(await valueToParquet(new A.Table({ ok: t.getChild('ok')! }), 'ok'))).rows).toEqual([{ ok: 1.5 }]);
  });

  it('an integer past 64 bits is refused, never wrapped (toArrow too)', async () => {
    const err = await rowsToParquet([{ id: 1n }, { id: 2n ** 64n + 5n }], 'step F/1/s').catch((e) => e);
    expect(err).toBeInstanceOf(FlowbookError);
    expect(err.message).toBe("step F/1/s: column 'id': 18446744073709551621 does not fit a 64-bit integer (Arrow's and Parquet's largest); store it as a string");
    await expect(rowsToArrow([{ id: -(2n ** 63n) - 1n }])).rejects.toThrow("column 'id': -9223372036854775809 does not fit a 64-bit integer");
    const min = await readBack(await rowsToParquet([{ id: -(2n ** 63n) }, { id: 2n ** 63n - 1n }], 'edges'));
    expect(min.rows).toEqual([{ id: -(2n ** 63n) }, { id: 2n ** 63n - 1n }]);
  });

  it('a value that is not a table says what a table is', async () => {
    await expect(valueToParquet(42, 'n')).rejects.toThrow(/^artifact 'n' is not a table: a table is an array of records/);
  });
});
