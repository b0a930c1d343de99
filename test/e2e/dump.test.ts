// `flowbook dump` as a person reads it (tables, long arrays, no library internals), `--json` for
// machines, `--out` files that other tools open without flowbook, and `latest` /
// `latest-successful` in the pathspecs of dump, logs and card.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect, beforeAll } from 'vitest';
import { flowbook, fixture, tempDir, errorLine } from './helpers.js';

const root = tempDir();
const out = tempDir('flowbook-dump-out-');
let goodId = '';
let failedId = '';

const runId = (stderr: string) => /ScoresFlow\/(\d+)/.exec(stderr)![1];

beforeAll(() => {
  const ok = flowbook(['run', fixture('scores.ts'), '--n', '12', '--records', '500'], { root });
  expect(ok.code, ok.stderr).toBe(0);
  goodId = runId(ok.stderr + ok.stdout);
  // the newest run failed: `latest` is it, `latest-successful` the one before
  const bad = flowbook(['run', fixture('scores.ts'), '--n', '2', '--fail'], { root });
  expect(bad.code).toBe(1);
  failedId = runId(bad.stderr + bad.stdout);
  expect(failedId).not.toBe(goodId);
}, 120_000);

describe('dump prints what a person can read', () => {
  it('a run: tables with shape, rows and column types; a long array as its length and first items; no danfo internals', () => {
    const d = flowbook(['dump', 'ScoresFlow/latest-successful'], { root });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toContain(`ScoresFlow/${goodId}: succeeded`);
    expect(d.stdout).not.toMatch(/\$dataIncolumnFormat|\$config|\$index/);
    expect(d.stdout).toContain('DataFrame: 2 rows × 3 columns');
    expect(d.stdout).toMatch(/title\s+audioSeconds\s+words\n\s+0\s+jfk\s+11\s+23\n\s+1\s+kitchen\s+4\.19375\s+15/);
    expect(d.stdout).toContain('columns: title: string, audioSeconds: float64, words: int64');
    expect(d.stdout).toContain('array of records: 500 rows × 6 columns');
    expect(d.stdout).toContain('columns: model: string, seconds: float64, wer.wer: float64, wer.hits: int64, index: int64,');
    expect(d.stdout).toContain('samples (array, ');
    expect(d.stdout).toContain('array of 1,000 numbers, first 10: [ 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, … ]');
    expect(d.stdout).toContain('n (number, 2 bytes, sha256 ');
    expect(d.stdout.split('\n').length).toBeLessThan(40);
  });

  it('one table artifact shows its first and last rows', () => {
    const d = flowbook(['dump', `ScoresFlow/${goodId}/end/15/scores`], { root });
    expect(d.code, d.stderr).toBe(0);
    const lines = d.stdout.split('\n');
    expect(lines[0]).toBe('array of records: 500 rows × 6 columns');
    expect(lines[1]).toMatch(/^\s+model\s+seconds\s+wer\.wer\s+wer\.hits\s+index\s+count$/);
    expect(lines.filter((l) => /^\s*\d+\s+(tiny|base|small)\s/.test(l)).map((l) => l.trim().split(/\s+/)[0])).toEqual(['0', '1', '2', '3', '4', '495', '496', '497', '498', '499']);
  });

  it("a step: its tasks as a table, nested artifacts as dotted columns", () => {
    const d = flowbook(['dump', 'ScoresFlow/latest-successful/score'], { root });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain(`ScoresFlow/${goodId}/score tasks: 12 rows × `);
    expect(d.stdout).toMatch(/task_id\s+task_index\s+successful/);
    expect(d.stdout).toMatch(/wer\.wer: float64, wer\.substitutions: int64/);
  });

  it('--json is JSON: a DataFrame as records, a step as records', () => {
    const whole = flowbook(['dump', 'ScoresFlow/latest-successful', '--json'], { root });
    expect(whole.code, whole.stderr).toBe(0);
    const data = JSON.parse(whole.stdout);
    expect(data.frame).toEqual([
      { title: 'jfk', audioSeconds: 11, words: 23 },
      { title: 'kitchen', audioSeconds: 4.19375, words: 15 },
    ]);
    expect(data.samples).toHaveLength(1000);
    const step = JSON.parse(flowbook(['dump', 'ScoresFlow/latest-successful/score', '--json', '--fields', 'wer,tokens'], { root }).stdout);
    expect(step[2]).toEqual({ task_id: '4', task_index: 2, successful: true, 'wer.wer': 0.2, 'wer.substitutions': 2, 'wer.deletions': 4, tokens: ['t0', 't1'] });
  });
});

describe('dump --out writes files other tools open', () => {
  it("a step's tasks as an Arrow IPC file, read back by apache-arrow in a separate process (and pyarrow when installed)", () => {
    const file = path.join(out, 'tasks.arrow');
    const d = flowbook(['dump', `ScoresFlow/${goodId}/score`, '--fields', 'seconds,wer,tokens,note', '--out', file], { root });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout.trim()).toBe(`wrote 12 rows × 9 columns to ${file} (Arrow IPC file)`);
    const code = `
      import fs from 'node:fs';
      import { tableFromIPC } from 'apache-arrow';
      const t = tableFromIPC(fs.readFileSync(${JSON.stringify(file)}));
      console.log(JSON.stringify({
        rows: t.numRows,
        types: t.schema.fields.map((f) => f.name + ':' + f.type),
        seconds: t.getChild('seconds').get(1),
        subs: String(t.getChild('wer.substitutions').get(5)),
        tokens: [...t.getChild('tokens').get(2)],
        id: t.getChild('task_id').get(0),
      }));`;
    const c = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
    expect(c.status, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout)).toEqual({
      rows: 12,
      types: ['task_id:Utf8', 'task_index:Int64', 'successful:Bool', 'seconds:Float64', 'tokens:List<Utf8>', 'note:Utf8', 'wer.wer:Float64', 'wer.substitutions:Int64', 'wer.deletions:Int64'],
      seconds: 4.19375,
      subs: '5',
      tokens: ['t0', 't1'],
      id: '2',
    });
    // the IPC file format's magic at both ends: what polars, DuckDB and pyarrow look for
    const bytes = fs.readFileSync(file);
    expect(bytes.subarray(0, 6).toString()).toBe('ARROW1');
    expect(bytes.subarray(-6).toString()).toBe('ARROW1');
    if (spawnSync('python3', ['-c', 'import pyarrow'], { encoding: 'utf8' }).status === 0) {
      const py = spawnSync('python3', ['-c', `import pyarrow.ipc as ipc; t = ipc.open_file(${JSON.stringify(file)}).read_all(); print(t.num_rows, t.schema.field('wer.substitutions').type)`], { encoding: 'utf8' });
      expect(py.stdout.trim()).toBe('12 int64');
    }
  });

  it("a step's tasks and table artifacts as Parquet, read back by hyparquet (a second, pure-JS reader) in a separate process", () => {
    const tasks = path.join(out, 'tasks.parquet');
    const d = flowbook(['dump', `ScoresFlow/${goodId}/score`, '--fields', 'seconds,wer,tokens,note', '--out', tasks], { root });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout.trim()).toBe(`wrote 12 rows × 9 columns to ${tasks} (Parquet)`);
    const scores = path.join(out, 'scores.parquet');
    expect(flowbook(['dump', `ScoresFlow/${goodId}/end/15/scores`, '--out', scores], { root }).stdout.trim()).toBe(`wrote 500 rows × 6 columns to ${scores} (Parquet)`);
    const frame = path.join(out, 'frame.parquet');
    expect(flowbook(['dump', `ScoresFlow/${goodId}/end/15/frame`, '--out', frame], { root }).code).toBe(0);
    // each file's columns (name: physical type/logical type) and rows, as hyparquet reads them
    const code = `
      import fs from 'node:fs';
      import { parquetMetadata, parquetSchema, parquetReadObjects } from 'hyparquet';
      const type = (t) => t.element.logical_type?.type === 'LIST' ? 'list<' + type(t.children[0].children[0]) + '>' : (t.element.logical_type?.type ?? t.element.type);
      const read = async (f) => {
        const b = fs.readFileSync(f);
        const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
        const md = parquetMetadata(file);
        return { columns: parquetSchema(md).children.map((c) => c.element.name + ':' + type(c)), rows: await parquetReadObjects({ file }) };
      };
      const out = {};
      for (const f of ${JSON.stringify([tasks, scores, frame])}) out[f.split('/').pop()] = await read(f);
      console.log(JSON.stringify(out, (k, v) => (typeof v === 'bigint' ? 'bigint ' + v : v)));`;
    const c = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
    expect(c.status, c.stderr).toBe(0);
    const got = JSON.parse(c.stdout);
    expect(got['tasks.parquet'].columns).toEqual(['task_id:STRING', 'task_index:INT64', 'successful:BOOLEAN', 'seconds:DOUBLE', 'tokens:list<STRING>', 'note:STRING', 'wer.wer:DOUBLE', 'wer.substitutions:INT64', 'wer.deletions:INT64']);
    expect(got['tasks.parquet'].rows).toHaveLength(12);
    // task 0 has no WER and no note: missing, not 0 or ''
    expect(got['tasks.parquet'].rows[0]).toEqual({ task_id: '2', task_index: 'bigint 0', successful: true, seconds: 0.30000000000000004, tokens: [], note: null, 'wer.wer': null, 'wer.substitutions': null, 'wer.deletions': null });
    expect(got['tasks.parquet'].rows[5]).toEqual({ task_id: '7', task_index: 'bigint 5', successful: true, seconds: 5.3, tokens: ['t0', 't1'], note: 'odd', 'wer.wer': 0.5, 'wer.substitutions': 'bigint 5', 'wer.deletions': 'bigint 10' });
    expect(got['scores.parquet'].columns).toEqual(['model:STRING', 'seconds:DOUBLE', 'wer.wer:DOUBLE', 'wer.hits:INT64', 'index:INT64', 'count:INT64']);
    expect(got['scores.parquet'].rows).toHaveLength(500);
    expect(got['scores.parquet'].rows[499]).toEqual({ model: 'base', seconds: 499 / 7, 'wer.wer': 0.99, 'wer.hits': 'bigint 499', index: 'bigint 499', count: 'bigint 1' });
    // a danfo DataFrame: its float32 label does not make whole numbers integers
    expect(got['frame.parquet']).toEqual({
      columns: ['title:STRING', 'audioSeconds:DOUBLE', 'words:INT64'],
      rows: [
        { title: 'jfk', audioSeconds: 11, words: 'bigint 23' },
        { title: 'kitchen', audioSeconds: 4.19375, words: 'bigint 15' },
      ],
    });
  });

  it('a table artifact as .arrow, .csv and .json', () => {
    const art = `ScoresFlow/${goodId}/end/15/scores`;
    const arrow = path.join(out, 'scores.arrow');
    expect(flowbook(['dump', art, '--out', arrow], { root }).stdout.trim()).toBe(`wrote 500 rows × 6 columns to ${arrow} (Arrow IPC file)`);
    const csv = path.join(out, 'scores.csv');
    expect(flowbook(['dump', art, '--out', csv], { root }).code).toBe(0);
    const lines = fs.readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(501);
    expect(lines[0]).toBe('model,seconds,wer.wer,wer.hits,index,count');
    expect(lines[8]).toBe(`base,${7 / 7},0.07,7,7,1`);
    const json = path.join(out, 'frame.json');
    expect(flowbook(['dump', `ScoresFlow/${goodId}/end/15/frame`, '--out', json], { root }).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(json, 'utf8'))[1]).toEqual({ title: 'kitchen', audioSeconds: 4.19375, words: 15 });
  });

  it('what cannot be exported says so in one line', () => {
    const scalar = flowbook(['dump', `ScoresFlow/${goodId}/end/15/n`, '--out', path.join(out, 'n.arrow')], { root });
    expect(scalar.code).toBe(1);
    expect(errorLine(scalar)).toMatch(/^error: artifact 'n' is not a table: /);
    const ext = flowbook(['dump', `ScoresFlow/${goodId}/end/15/scores`, '--out', path.join(out, 'x.xlsx')], { root });
    expect(ext.code).toBe(1);
    expect(errorLine(ext)).toContain('the file\'s extension says the format: .arrow (Arrow IPC file), .parquet, .csv or .json');
    expect(fs.existsSync(path.join(out, 'x.xlsx'))).toBe(false);
    const run = flowbook(['dump', `ScoresFlow/${goodId}`, '--out', path.join(out, 'r.arrow')], { root });
    expect(errorLine(run)).toMatch(/^error: --out exports a table artifact/);
  });
});

describe('latest and latest-successful in pathspecs', () => {
  it('dump, logs and card resolve them; a flow with no successful run says so', () => {
    const latest = flowbook(['dump', 'ScoresFlow/latest'], { root });
    expect(latest.stderr).toContain(`ScoresFlow/${failedId}: failed`);
    const logs = flowbook(['logs', 'ScoresFlow/latest-successful/start'], { root });
    expect(logs.code, logs.stderr).toBe(0);
    const cards = flowbook(['card', 'list', 'ScoresFlow/latest-successful/end'], { root });
    expect(cards.code, cards.stderr).toBe(0);
    expect(cards.stderr).toContain('no cards under ScoresFlow/latest-successful/end');
    const one = flowbook(['dump', 'ScoresFlow/latest-successful/end/15/n'], { root });
    expect(one.stdout.trim()).toBe('12');
    const fresh = tempDir();
    expect(flowbook(['run', fixture('scores.ts'), '--n', '1', '--fail', '--quiet'], { root: fresh }).code).toBe(1);
    const none = flowbook(['dump', 'ScoresFlow/latest-successful'], { root: fresh });
    expect(none.code).toBe(1);
    expect(errorLine(none)).toBe('error: flow ScoresFlow has no successful runs');
  }, 60_000);
});
