// The four example notebooks, run on the flowbook (TypeScript) kernel both ways: with
// `flowbook notebook run` (our @jupyterlab/services runner) and with Jupyter's own nbconvert
// (nbclient). The key outputs are checked in what each way wrote.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, fixture, tempDir, errorLine, REPO } from './helpers.js';
// samples/ gets jfk.wav from the shared test data (scripts/make-samples.sh); it must be there
import '../shared-data.js';

const NOTEBOOKS = ['01_quickstart', '02_compare_models', '03_cards_and_resources', '04_client_tour'];
const SAMPLES = ['jfk', 'kitchen', 'science', 'weather'];
const RESULT_COLUMNS = ['title', 'url', 'engine', 'model', 'audioSeconds', 'wallSeconds', 'rtf', 'words', 'wer', 'rawWer', 'text', 'note', 'error'];

type Out = { output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]>; ename?: string; evalue?: string; traceback?: string[] };
type Cell = { cell_type: string; id: string; execution_count: number | null; outputs?: Out[]; source: string | string[] };
const join = (x: string | string[] | undefined) => (Array.isArray(x) ? x.join('') : x ?? '');

function load(file: string) {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { nbformat: number; nbformat_minor: number; cells: Cell[] };
  const code = nb.cells.filter((c) => c.cell_type === 'code');
  const outputs = code.flatMap((c) => c.outputs ?? []);
  return {
    nb,
    code,
    html: outputs.filter((o) => o.data?.['text/html']).map((o) => join(o.data!['text/html'])),
    svg: outputs.filter((o) => o.data?.['image/svg+xml']).map((o) => join(o.data!['image/svg+xml'])),
    stdout: outputs.filter((o) => o.output_type === 'stream' && o.name === 'stdout').map((o) => join(o.text)).join(''),
    problems: outputs.filter((o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr')).map((o) => o.ename ?? join(o.text)),
  };
}

/** What every notebook must show, whichever way it ran. */
function checkOutputs(name: string, file: string, o: { counts: boolean }) {
  const r = load(file);
  expect(r.problems, name).toEqual([]);
  // tslab sends no execute_input, so nbclient leaves execution_count empty; our runner takes it from the reply
  if (o.counts) expect(r.code.every((c) => c.execution_count !== null), `${name}: every code cell ran`).toBe(true);
  expect(r.code.at(-1)!.outputs!.length, `${name}: the last cell has output`).toBeGreaterThan(0);
  const frames = r.html.filter((h) => h.includes('class="fb-card-frame"'));
  switch (name) {
    case '01_quickstart': {
      const df = r.html.find((h) => h.includes('DataFrame: '))!;
      expect(df).toContain(`DataFrame: ${SAMPLES.length} rows × ${RESULT_COLUMNS.length} columns`);
      for (const c of RESULT_COLUMNS) expect(df).toContain(`<th>${c}<span class="fb-dtype">`);
      for (const s of SAMPLES) expect(df).toContain(`>${s}</td>`);
      expect(r.html.some((h) => h.includes('fb-run-summary') && h.includes('succeeded'))).toBe(true);
      expect(r.stdout).toContain('(the run above)');
      expect(frames).toHaveLength(1);
      expect(frames[0]).toContain('class=&quot;wordcloud&quot;');
      break;
    }
    case '02_compare_models': {
      const table = r.html.find((h) => h.includes('rows: '))!;
      expect(table).toContain(`rows: ${SAMPLES.length * 2} rows`);
      expect(frames.some((f) => f.includes('Quality vs latency'))).toBe(true);
      expect(frames.some((f) => f.includes('side-by-side'))).toBe(true);
      expect(r.html.some((h) => h.includes('DataFrame: ') && h.includes('param_models'))).toBe(true);
      break;
    }
    case '03_cards_and_resources':
      expect(r.stdout).toContain('analysis');
      expect(frames.map((f) => (f.includes('Run timeline') ? 'timeline' : f.includes('Resources: requested vs used') ? 'resources' : f.includes('wordcloud') ? 'analysis' : '?'))).toEqual(['analysis', 'timeline', 'resources']);
      // the transcribe step asks a pod for 12288 MiB; locally pocketsphinx gets a 512 MiB slot from
      // localResources and uses a fraction of it: advice is about that slot, never a @resources change
      expect(r.stdout).toMatch(/transcribe: locally: .*of its 512 MiB local slot \(set by localResources\); the pod request @resources\(\{ cpu: 3, memory: 12288 \}\) was not measured here/);
      break;
    case '04_client_tour':
      expect(r.stdout).toMatch(/namespace: user:\S+/);
      expect(r.stdout).toContain("somebody else's: none");
      expect(r.stdout).toMatch(/\[tour, reviewed\]/);
      expect(r.html.some((h) => h.includes(`Arrow Table: ${SAMPLES.length} rows`))).toBe(true);
      expect(r.stdout).toContain('foreach stack: [{"step":"start"');
      // walking the run, flows(), and a mistyped flow name
      expect(r.stdout).toMatch(/^flows: .*YouTubeVideoTranscription/m);
      expect(r.stdout).toMatch(/YouTubeVideoTranscription\/(\d+)\/transcribe\/\d+ <- YouTubeVideoTranscription\/\1\/start\/1 \(step start of YouTubeVideoTranscription\)/);
      expect(r.stdout).toMatch(new RegExp(`its branches: ${SAMPLES.map((_, i) => `transcribe\\[${i}\\]`).join(' ')}\n`));
      expect(r.stdout).toMatch(/read by: YouTubeVideoTranscription\/\d+\/postprocess\/\d+\n/);
      expect(r.stdout).toMatch(/NotFoundError: flow 'YouTubeVideoTranscriptoin' not found in the datastore \S+\. Did you mean 'YouTubeVideoTranscription'\?/);
      break;
  }
  return r;
}

describe('example notebooks', () => {
  const env: Record<string, string> = {};
  let outDir: string;
  beforeAll(() => {
    if (!SAMPLES.every((s) => fs.existsSync(path.join(REPO, 'samples', `${s}.wav`)))) execFileSync('bash', [path.join(REPO, 'scripts/make-samples.sh')], { cwd: REPO, stdio: 'ignore' });
    execFileSync(process.execPath, [path.join(REPO, 'kernels/install.mjs')], { cwd: REPO, stdio: 'ignore' });
    outDir = tempDir('flowbook-nb-');
  }, 120_000);

  it('flowbook notebook run: all four, in order, into one datastore', () => {
    const root = tempDir();
    for (const name of NOTEBOOKS) {
      const out = path.join(outDir, `${name}.run.ipynb`);
      const r = flowbook(['notebook', 'run', path.join(REPO, 'notebooks', `${name}.ipynb`), '--out', out], { root, env });
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      const { nb } = checkOutputs(name, out, { counts: true });
      expect([nb.nbformat, nb.nbformat_minor]).toEqual([4, 5]);
      expect(new Set(nb.cells.map((c) => c.id)).size).toBe(nb.cells.length);
    }
  }, 300_000);

  it("Jupyter's own nbconvert/nbclient: all four, the same outputs", () => {
    const root = tempDir();
    for (const name of NOTEBOOKS) {
      const out = path.join(outDir, `${name}.nbconvert.ipynb`);
      const r = spawnSync('jupyter', ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=300', path.join(REPO, 'notebooks', `${name}.ipynb`), '--output', out], {
        cwd: path.join(REPO, 'notebooks'),
        env: { ...process.env, ...env, FLOWBOOK_HOME: root, JUPYTER_PATH: path.join(REPO, '.jupyter') },
        encoding: 'utf8',
      });
      expect(r.status, `${name}: ${r.stderr.slice(-2000)}`).toBe(0);
      checkOutputs(name, out, { counts: false });
    }
  }, 300_000);

  it("a failing runFlow is the cell's error: its class and the run's failure line, in our runner and in nbconvert", () => {
    // a project that depends on flowbook: 'flowbook/notebook' resolves from the notebook's folder
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(REPO, path.join(dir, 'node_modules', 'flowbook'), 'dir');
    const cells = [
      "import { runFlow } from 'flowbook/notebook';",
      `const run = await runFlow(${JSON.stringify(fixture('failing.ts'))}, { what: 'throw' }, { echo: false });`,
      "const x: number = 'seven';",
    ];
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'flowbook', display_name: 'flowbook (TypeScript)', language: 'typescript' } },
      cells: cells.map((source, i) => ({ id: `c${i}`, cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source })),
    };
    const file = path.join(dir, 'failing_run.ipynb');
    fs.writeFileSync(file, JSON.stringify(nb));
    const failure = /^run FailingFlow\/(\d+) failed at FailingFlow\/\1\/start\/1: boom in start$/;

    const r = flowbook(['notebook', 'run', file, '--out', path.join(dir, 'ours.ipynb')], { root: dir });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/cell 2 \(index 1\) failed: TaskFailedError: run FailingFlow\/\d+ failed at FailingFlow\/\d+\/start\/1: boom in start \(outputs/);
    const ours = load(path.join(dir, 'ours.ipynb')).code[1].outputs!;
    expect(ours).toHaveLength(1); // the error, not also its text on stderr
    expect(ours[0]).toMatchObject({ output_type: 'error', ename: 'TaskFailedError' });
    expect(ours[0].evalue).toMatch(failure);

    // Jupyter's own client, going on past errors: each failing cell has its error output
    const j = spawnSync('jupyter', ['nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--ExecutePreprocessor.timeout=120', file, '--output', path.join(dir, 'nbconvert.ipynb')], {
      cwd: dir,
      env: { ...process.env, FLOWBOOK_HOME: dir, JUPYTER_PATH: path.join(REPO, '.jupyter') },
      encoding: 'utf8',
    });
    expect(j.status, j.stderr.slice(-2000)).toBe(0);
    const theirs = load(path.join(dir, 'nbconvert.ipynb')).code;
    const error = (c: Cell) => c.outputs!.find((o) => o.output_type === 'error');
    expect(error(theirs[1])).toMatchObject({ ename: 'TaskFailedError' });
    expect(error(theirs[1])!.evalue).toMatch(failure);
    expect(error(theirs[1])!.traceback!.join('\n')).toMatch(/ at (\S+\.)?runFlow \(.*notebook\/index\.js/); // the stack, where it was thrown
    // a type error: TypeScript's diagnostic, as the error's value
    expect(error(theirs[2])).toMatchObject({ ename: 'TSError', evalue: "1:7 - Type 'string' is not assignable to type 'number'." });
  }, 120_000);

  it('a failing cell stops the run, is named, and what ran is written; bad input is one line', () => {
    const dir = tempDir();
    const nb = {
      nbformat: 4,
      nbformat_minor: 4,
      metadata: { kernelspec: { name: 'flowbook', display_name: 'flowbook (TypeScript)', language: 'typescript' } },
      cells: [
        { cell_type: 'markdown', metadata: {}, source: '# t' },
        { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: 'const x: number = 6 * 7;\nconsole.log(x)' },
        { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: "throw new TypeError('no such model: huge')" },
        { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: "console.log('never')" },
      ],
    };
    const file = path.join(dir, 'fail.ipynb');
    fs.writeFileSync(file, JSON.stringify(nb));
    const r = flowbook(['notebook', 'run', file], { root: dir });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe(`error: ${file}: cell 3 (index 2) failed: TypeError: no such model: huge (outputs so far written to ${file})`);
    const written = load(file);
    expect(written.nb.nbformat_minor).toBe(5);
    expect(written.code.map((c) => c.execution_count)).toEqual([1, 2, null]);
    expect(written.stdout).toBe('42\n');
    // the kernel reports the error to Jupyter (name, message, stack), not only as stderr text
    expect(written.code[1].outputs).toEqual([expect.objectContaining({ output_type: 'error', ename: 'TypeError', evalue: 'no such model: huge' })]);

    const slow = path.join(dir, 'slow.ipynb');
    fs.writeFileSync(slow, JSON.stringify({ ...nb, cells: [{ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: 'await new Promise((r) => setTimeout(r, 60_000))' }] }));
    const t = flowbook(['notebook', 'run', slow, '--timeout', '2'], { root: dir });
    expect(t.code).toBe(1);
    expect(errorLine(t)).toBe('error: cell 0 timed out after 2 s');

    fs.writeFileSync(path.join(dir, 'bad.ipynb'), '{ not json');
    expect(errorLine(flowbook(['notebook', 'run', path.join(dir, 'bad.ipynb')]))).toMatch(/^error: .*bad\.ipynb is not a notebook: /);
    expect(errorLine(flowbook(['notebook', 'run', path.join(dir, 'missing.ipynb')]))).toBe(`error: notebook not found: ${path.join(dir, 'missing.ipynb')}`);
  }, 120_000);
});
