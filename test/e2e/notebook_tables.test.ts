// DataFrames and Arrow tables that display: as a cell's last expression on the flowbook kernel
// (run by `flowbook notebook run`, the real Jupyter server and tslab) the HTML table `show()`
// gives, and in plain Node (`console.log`, a REPL) a text table — never danfo's internals.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, REPO } from './helpers.js';

const root = tempDir();
type Out = { output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]> };
const join = (x: string | string[] | undefined) => (Array.isArray(x) ? x.join('') : x ?? '');
const html = (outs: Out[]) => outs.filter((o) => o.output_type === 'display_data' && o.data?.['text/html']).map((o) => join(o.data!['text/html']));
const stdout = (outs: Out[]) => outs.filter((o) => o.output_type === 'stream' && o.name === 'stdout').map((o) => join(o.text)).join('');

beforeAll(() => {
  const r = flowbook(['run', fixture('foreach.ts'), '--quiet', '--xs', '[1,2,3,4,5,6,7,8,9,10,11,12]'], { root });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe('tables as a cell’s last expression', () => {
  it('a DataFrame, a derived one, an Arrow table and a danfo frame made in the cell render as show()’s HTML table', () => {
    const cells = [
      "import { Flow, namespace } from 'flowbook';\nimport { show } from 'flowbook/notebook';\nimport * as dfd from 'danfojs-node';",
      "namespace(null);\nconst run = (await Flow('ForeachFlow').latestSuccessfulRun)!;\nconst df = await run.step('square').toDataFrame();",
      'df',
      'await show(df)',
      'df.head(2)',
      "await run.step('square').toArrow()",
      'new dfd.DataFrame({ a: [1, 2, 3], b: ["x", "y", "z"] })',
      'console.log(df)',
      '6 * 7',
    ];
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'flowbook', display_name: 'flowbook (TypeScript)', language: 'typescript' } },
      cells: cells.map((source, i) => ({ id: `c${i}`, cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source })),
    };
    // a project that depends on flowbook (and danfo): they resolve from the notebook's folder
    for (const dep of ['flowbook', 'danfojs-node']) {
      fs.mkdirSync(path.join(root, 'node_modules'), { recursive: true });
      fs.symlinkSync(dep === 'flowbook' ? REPO : path.join(REPO, 'node_modules', dep), path.join(root, 'node_modules', dep), 'dir');
    }
    const file = path.join(root, 'tables.ipynb');
    fs.writeFileSync(file, JSON.stringify(nb));
    const r = flowbook(['notebook', 'run', file], { root });
    expect(r.code, r.stderr).toBe(0);
    const out: Out[][] = JSON.parse(fs.readFileSync(file, 'utf8')).cells.map((c: { outputs: Out[] }) => c.outputs);
    for (const o of out) expect(stdout(o)).not.toContain('$dataIncolumnFormat');
    expect(out.flat().filter((o) => o.output_type === 'error' || o.name === 'stderr')).toEqual([]);

    // `df`: the same HTML table as `await show(df)`, and its text table as text/plain
    const [last] = html(out[2]);
    expect(last).toContain('<table>');
    expect(last).toContain('DataFrame: 12 rows × 5 columns');
    expect(last).toContain('<th>y<span class="fb-dtype">int32</span></th>');
    expect(html(out[3])).toEqual([last]);
    expect(join(out[2][0].data!['text/plain'])).toMatch(/^DataFrame: 12 rows × 5 columns\n +task_id +task_index +successful +y +idx\n/);
    expect(stdout(out[2])).toBe('');

    expect(html(out[4])[0]).toContain('DataFrame: 2 rows × 5 columns');
    expect(html(out[5])[0]).toContain('Arrow Table: 12 rows × 5 columns');
    expect(html(out[5])[0]).toContain('<table>');
    expect(html(out[6])[0]).toContain('DataFrame: 3 rows × 2 columns');

    // console.log prints text, as in Node: a readable table
    const logged = stdout(out[7]);
    expect(logged).toMatch(/^DataFrame: 12 rows × 5 columns\n/);
    expect(logged).toMatch(/\n11 +13 +11 +true +144 +11\n/);
    expect(logged).toContain('columns: task_id: string, task_index: int32, successful: boolean, y: int32, idx: int32');
    // anything else prints as tslab always did
    expect(stdout(out[8])).toBe('42\n');
  }, 180_000);
});

describe('tables in plain Node', () => {
  it('console.log of a DataFrame, a derived one and an Arrow table prints a text table', () => {
    const script = `
      import { Flow, namespace, setDatastoreRoot } from ${JSON.stringify(path.join(REPO, 'dist/index.js'))};
      setDatastoreRoot(${JSON.stringify(root)});
      namespace(null);
      const run = await Flow('ForeachFlow').latestSuccessfulRun;
      const df = await run.step('square').toDataFrame(['y']);
      console.log(df);
      console.log(df.sortValues('y', { ascending: false }).head(1));
      console.log(await run.step('square').toArrow(['y']));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: REPO });
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('$data');
    const [frame, sorted, arrow] = r.stdout.trim().split(/\n(?=DataFrame|Arrow)/);
    expect(frame.split('\n')).toEqual([
      'DataFrame: 12 rows × 4 columns',
      '    task_id  task_index  successful    y',
      ' 0  2                 0  true          1',
      ' 1  3                 1  true          4',
      ' 2  4                 2  true          9',
      ' 3  5                 3  true         16',
      ' 4  6                 4  true         25',
      '…   …        …           …           …',
      ' 7  9                 7  true         64',
      ' 8  10                8  true         81',
      ' 9  11                9  true        100',
      '10  12               10  true        121',
      '11  13               11  true        144',
      '',
      'columns: task_id: string, task_index: int32, successful: boolean, y: int32',
    ]);
    // a derived frame keeps its row labels (the 12th row sorted first)
    expect(sorted.split('\n').slice(0, 3)).toEqual(['DataFrame: 1 row × 4 columns', '    task_id  task_index  successful    y', '11  13               11  true        144']);
    expect(arrow.split('\n')[0]).toBe('Arrow Table: 12 rows × 4 columns');
    expect(arrow).toContain('columns: task_id: Utf8, task_index: Int64, successful: Bool, y: Int64');
  }, 60_000);
});
