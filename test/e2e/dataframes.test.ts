// Dataframes and Arrow tables from the client, used the way a data scientist does in a notebook:
// print(), head(), tail(), sortValues(), groupby().mean(), query — at 4 rows, 100 and 10,000.
import { describe, it, expect, beforeAll, vi } from 'vitest';
import { flowbook, fixture, tempDir } from './helpers.js';
import { Flow, namespace, setDatastoreRoot, type Run } from '../../src/client/index.js';

const root = tempDir();
let small: Run;
let big: Run;

const run = (...args: string[]) => {
  const r = flowbook(['run', fixture('scores.ts'), '--quiet', ...args], { root });
  expect(r.code, r.stderr).toBe(0);
};

/** What print() writes (danfo prints with console.log). */
function printed(df: any): string {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    df.print();
    return log.mock.calls.map((c) => c.join(' ')).join('\n');
  } finally {
    log.mockRestore();
  }
}
const dataRows = (text: string) => text.split('\n').filter((l) => /^║ \d+ /.test(l)).length;

beforeAll(async () => {
  setDatastoreRoot(root);
  namespace(null);
  run('--n', '4');
  small = (await Flow('ScoresFlow').latestSuccessfulRun)!;
  run('--n', '100', '--records', '10000');
  big = (await Flow('ScoresFlow').latestSuccessfulRun)!;
}, 120_000);

describe('step.toDataFrame()', () => {
  it('a 4-task step prints its 4 rows; the task index is the task_index column, not danfo\'s index', async () => {
    const df = await small.step('score').toDataFrame();
    expect(df.shape[0]).toBe(4);
    expect(df.columns.slice(0, 3)).toEqual(['task_id', 'task_index', 'successful']);
    expect(df.index).toEqual([0, 1, 2, 3]); // danfo's own index, not a column
    expect(df.column('task_index').values).toEqual([0, 1, 2, 3]);
    expect(dataRows(printed(df))).toBe(4);
    expect(dataRows(printed(df.head(3)))).toBe(3);
    expect(df.tail(2).column('task_index').values).toEqual([2, 3]);
  });

  it('a 100-task step: print, head, tail, sortValues, groupby().mean() and query work', async () => {
    const df = await big.step('score').toDataFrame();
    expect(df.shape[0]).toBe(100);
    expect(dataRows(printed(df))).toBeGreaterThan(0);
    expect(dataRows(printed(df.head(3)))).toBe(3);
    expect(df.tail(3).column('task_index').values).toEqual([97, 98, 99]);
    const sorted = df.sortValues('seconds', { ascending: false });
    expect(sorted.column('task_index').values.slice(0, 2)).toEqual([99, 98]);
    // nested artifacts are dotted columns of numbers, not JSON strings
    expect(df.columns).toEqual(expect.arrayContaining(['wer.wer', 'wer.substitutions', 'wer.deletions']));
    expect(df.columns).not.toContain('wer');
    expect(df.column('wer.substitutions').values.slice(1, 4)).toEqual([1, 2, 3]);
    // as in pandas 2, mean() needs numeric columns: pick them (task_id and model are strings)
    const means = df.groupby(['model']).col(['wer.substitutions', 'seconds']).mean();
    const byModel = Object.fromEntries(means.column('model').values.map((m: string, i: number) => [m, means.column('wer.substitutions_mean').values[i]]));
    // model = ['tiny','base','small'][i % 3]: base is tasks 1, 4, …, 97
    expect(byModel.base).toBeCloseTo(Array.from({ length: 33 }, (_, k) => 3 * k + 1).reduce((a, b) => a + b) / 33, 9);
    const slow = df.query(df.column('seconds').gt(90));
    expect(slow.column('task_index').values).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    // floats keep every digit
    expect(df.column('seconds').values[1]).toBe(4.19375);
    expect(df.column('seconds').values[0]).toBe(0.1 + 0.2);
  });

  it('named fields: a list artifact is JSON text in danfo (it has no list dtype)', async () => {
    const df = await small.step('score').toDataFrame(['tokens', 'note']);
    expect(df.columns).toEqual(['task_id', 'task_index', 'successful', 'tokens', 'note']);
    expect(df.column('tokens').values).toEqual(['[]', '["t0"]', '["t0","t1"]', '[]']);
    expect(df.column('note').values).toEqual([null, 'odd', null, 'odd']);
  });
});

describe('step.toArrow()', () => {
  it('keeps float64 and int64, lists as lists, nested objects as dotted columns; ids are strings', async () => {
    const t = await big.step('score').toArrow(['seconds', 'wer', 'tokens']);
    const types = Object.fromEntries(t.schema.fields.map((f: any) => [f.name, String(f.type)]));
    expect(types).toEqual({
      task_id: 'Utf8',
      task_index: 'Int64',
      successful: 'Bool',
      seconds: 'Float64',
      tokens: 'List<Utf8>',
      'wer.wer': 'Float64',
      'wer.substitutions': 'Int64',
      'wer.deletions': 'Int64',
    });
    expect(t.numRows).toBe(100);
    expect(t.getChild('seconds').get(1)).toBe(4.19375);
    expect(t.getChild('task_id').get(0)).toBe('2');
    expect([...t.getChild('tokens').get(2)]).toEqual(['t0', 't1']);
    expect(t.getChild('wer.wer').get(0)).toBeNull();
    expect(t.getChild('wer.substitutions').get(5)).toBe(5n);
  });
});

describe('runsTable()', () => {
  it('run ids are strings (13-digit millisecond ids do not fit an int32); the frame sorts and prints', async () => {
    const runs = await Flow('ScoresFlow').runsTable();
    expect(runs.shape[0]).toBe(2);
    expect(runs.dtypes[runs.columns.indexOf('id')]).toBe('string');
    expect([...runs.column('id').values].sort()).toEqual([small.id, big.id].sort());
    expect(runs.column('param_n').values.sort((a: number, b: number) => a - b)).toEqual([4, 100]);
    expect(dataRows(printed(runs.sortValues('param_n')))).toBe(2);
  });
});

describe('DataArtifact.toDataFrame()', () => {
  it('an array of 10,000 records: flattened, and print, head, tail, sortValues, groupby, query work', async () => {
    const end = (await big.endTask)!;
    const art = await end.artifact('scores');
    const df = await art.toDataFrame();
    expect(df.shape).toEqual([10000, 6]);
    // `index` and `count` would hide DataFrame.index and DataFrame.count(): they get a trailing _
    expect(df.columns).toEqual(['model', 'seconds', 'wer.wer', 'wer.hits', 'index_', 'count_']);
    expect(df.index.length).toBe(10000);
    const out = printed(df);
    expect(dataRows(out)).toBeGreaterThan(0);
    expect(out).not.toContain('$dataIncolumnFormat');
    expect(dataRows(printed(df.head(3)))).toBe(3);
    expect(df.tail(1).column('wer.hits').values).toEqual([9999]);
    expect(df.sortValues('wer.hits', { ascending: false }).head(1).column('index_').values).toEqual([9999]);
    const means = df.groupby(['model']).mean();
    expect(means.shape[0]).toBe(3);
    expect(df.query(df.column('wer.wer').ge(0.99)).shape[0]).toBe(100);
    expect(df.column('seconds').values[3]).toBe(3 / 7);

    const t = await art.toArrow();
    expect(t.numRows).toBe(10000);
    expect(t.schema.fields.map((f: any) => `${f.name}:${f.type}`)).toEqual([
      'model:Utf8', 'seconds:Float64', 'wer.wer:Float64', 'wer.hits:Int64', 'index:Int64', 'count:Int64',
    ]);
  }, 60_000);

  it('a DataFrame artifact converts to Arrow with float64 and int64 columns', async () => {
    const end = (await big.endTask)!;
    const t = await (await end.artifact('frame')).toArrow();
    expect(t.schema.fields.map((f: any) => `${f.name}:${f.type}`)).toEqual(['title:Utf8', 'audioSeconds:Float64', 'words:Int64']);
    expect(t.getChild('audioSeconds').get(1)).toBe(4.19375);
  });

  it('a value that is not a table says what a table is', async () => {
    const end = (await big.endTask)!;
    await expect((await end.artifact('n')).toDataFrame()).rejects.toThrow("artifact 'n' is not a table: a table is an array of records");
  });
});
