// flowbook from a user's own project, as the README's "Use flowbook in your project" says: pack
// this repository, install the tarball into a fresh npm project outside it, `flowbook init`, run
// the starter flow, read it back with the client. Real npm (from its cache: --prefer-offline),
// real installs; dist/ must be built first, as for every e2e test (`npm pack` would build it
// itself through `prepare`). Also `run FILE --help`, which lists the flow's parameters.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, fixture, flowbook, tempDir } from './helpers.js';

/** The environment of a user's shell: no npm-script variables, no datastore settings of ours. */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|FLOWBOOK_|INIT_CWD$|FORCE_COLOR$)/i.test(k)));
  return { ...env, NO_COLOR: '1', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
}

function sh(cmd: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...userEnv(), ...extraEnv }, encoding: 'utf8', timeout: 170_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, out: `${r.stdout}\n${r.stderr}` };
}
const ok = (r: ReturnType<typeof sh>) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.out}`);
  return r;
};
const errorLine = (r: { stderr: string }) => r.stderr.trim().split('\n').filter(Boolean).at(-1);

let tarball: string;
/** each project holds ~700 MB of node_modules: removed when the file is done */
const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh `npm init -y` project outside the repository with the packed flowbook installed. */
function freshProject(): string {
  const home = tempDir('flowbook-own-');
  made.push(home);
  const dir = path.join(home, 'my-project');
  fs.mkdirSync(dir);
  ok(sh('npm', ['init', '-y'], dir));
  ok(sh('npm', ['install', '--prefer-offline', tarball], dir));
  return dir;
}

/** A node ESM script in the project: what a user's own code does with the client. */
function script(dir: string, name: string, source: string) {
  fs.writeFileSync(path.join(dir, name), source);
  return sh(process.execPath, [name], dir);
}

beforeAll(() => {
  const out = tempDir('flowbook-pack-');
  made.push(out);
  // dist/ is current (the e2e suite runs after `npm run build`), so prepare's build is skipped
  const r = ok(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], REPO));
  const [info] = JSON.parse(r.stdout);
  tarball = path.join(out, info.filename);
  const files: string[] = info.files.map((f: { path: string }) => f.path);
  // what a user's project runs and type-checks with; no tests, fixtures or repo-only files
  for (const f of ['bin/flowbook.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/cli/init.js', 'dist/flow/loader-hooks.js', 'kernels/install.mjs', 'cards/page.html', 'cards/style.css', 'README.md', 'package.json']) {
    expect(files).toContain(f);
  }
  expect(files.filter((f) => /^test\/|\.test\.|^flows\/|^notebooks\/|^bench\/|^scripts\//.test(f))).toEqual([]);
}, 60_000);

describe('flowbook in your own project (packed tarball, npm install, init)', () => {
  it('init writes a starter flow that type-checks, runs, and reads back with the client and as a DataFrame', () => {
    const dir = freshProject();
    // the CLI and the library resolve from the project, not the registry
    expect(ok(sh('npx', ['--no-install', 'flowbook', '--version'], dir)).stdout.trim()).toBe('0.1.0');

    const init = ok(sh('npx', ['--no-install', 'flowbook', 'init'], dir));
    expect(init.stdout).toContain('wrote flows/hello.ts, notebooks/hello.ipynb, tsconfig.json');
    expect(init.stdout).toContain('danfojs-node');
    expect(init.stdout).toMatch(/next:\n\s+npm install\s+#/);
    expect(init.stdout).toContain('npx flowbook run flows/hello.ts');
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(pkg.dependencies['danfojs-node']).toBeDefined();
    expect(pkg.overrides).toEqual({ xlsx: 'npm:@e965/xlsx@0.20.3', '@tensorflow/tfjs-node': 'npm:@tensorflow/tfjs@3.21.0' });
    const nb = JSON.parse(fs.readFileSync(path.join(dir, 'notebooks/hello.ipynb'), 'utf8'));
    expect(nb.metadata.kernelspec.name).toBe('flowbook');
    expect(nb.cells.map((c: any) => c.source.join('')).join('\n')).toContain("Flow('HelloFlow').latestSuccessfulRun");

    // a second init overwrites nothing
    const flowBefore = fs.readFileSync(path.join(dir, 'flows/hello.ts'), 'utf8');
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{ "mine": true }\n');
    const again = sh('npx', ['--no-install', 'flowbook', 'init'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('error: init would overwrite flows/hello.ts, notebooks/hello.ipynb, tsconfig.json: nothing written (move them away, or init another directory)');
    expect(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8')).toBe('{ "mine": true }\n');
    expect(fs.readFileSync(path.join(dir, 'flows/hello.ts'), 'utf8')).toBe(flowBefore);
    fs.rmSync(path.join(dir, 'tsconfig.json'));
    fs.rmSync(path.join(dir, 'flows'), { recursive: true });
    fs.rmSync(path.join(dir, 'notebooks'), { recursive: true });
    ok(sh('npx', ['--no-install', 'flowbook', 'init'], dir));

    // the next commands init printed
    ok(sh('npm', ['install', '--prefer-offline'], dir));
    expect(fs.existsSync(path.join(dir, 'node_modules/danfojs-node/package.json'))).toBe(true);
    // `import 'flowbook'` and the decorators type-check with the tsconfig init wrote
    ok(sh('npx', ['--no-install', 'tsc', '-p', '.'], dir));

    const help = ok(sh('npx', ['--no-install', 'flowbook', 'run', 'flows/hello.ts', '--help'], dir));
    expect(help.stdout).toMatch(/Flow parameters \(HelloFlow\):\n\s+--branches <int>\s+how many greet tasks the foreach starts \(default: 3\)\n\s+--greeting <string>\s+the word to greet with \(default: "Hello"\)/);

    const run = ok(sh('npx', ['--no-install', 'flowbook', 'run', 'flows/hello.ts', '--branches', '4', '--greeting', 'Hi'], dir));
    const datastore = path.join(dir, '.flowbook');
    expect(run.stderr).toContain(`datastore ${datastore}`);
    const runId = /Done: HelloFlow\/(\d+) succeeded/.exec(run.stderr)?.[1];
    expect(runId).toBeDefined();

    const read = script(
      dir,
      'read.mjs',
      `import { Flow } from 'flowbook';
const run = await Flow('HelloFlow').latestSuccessfulRun;
const df = await run.step('greet').toDataFrame();
console.log(JSON.stringify({
  pathspec: run.pathspec,
  successful: run.successful,
  messages: await run.data.messages,
  totalLength: await run.data.totalLength,
  frame: { shape: df.shape, columns: df.columns, message: df.column('message').values },
}));
`,
    );
    expect(read.code, read.out).toBe(0);
    const got = JSON.parse(read.stdout);
    const messages = ['Hi, world 1!', 'Hi, world 2!', 'Hi, world 3!', 'Hi, world 4!'];
    expect(got).toMatchObject({ pathspec: `HelloFlow/${runId}`, successful: true, messages, totalLength: messages.join('').length });
    expect(got.frame.shape[0]).toBe(4);
    expect([...got.frame.message].sort()).toEqual(messages);
    expect(got.frame.columns).toEqual(expect.arrayContaining(['message', 'length', 'greeting', 'branches']));

    // the notebook init wrote reads the same run on the flowbook (tslab) kernel
    ok(sh('npx', ['--no-install', 'flowbook', 'notebook', 'run', 'notebooks/hello.ipynb', '--out', 'hello.out.ipynb', '--timeout', '120'], dir));
    const outputs = JSON.parse(fs.readFileSync(path.join(dir, 'hello.out.ipynb'), 'utf8')).cells.flatMap((c: any) => c.outputs ?? []);
    const printed = outputs.filter((o: any) => o.output_type === 'stream').map((o: any) => [o.text].flat().join('')).join('');
    expect(printed).toContain(`HelloFlow/${runId}`);
    for (const m of messages) expect(printed).toContain(m);
    const table = outputs.find((o: any) => o.output_type === 'display_data')?.data['text/html'];
    expect([table].flat().join('')).toContain('Hi, world 3!');

    // interactive Jupyter in the project: the kernel goes into its own .jupyter, and Jupyter lists it
    const kernel = sh('npx', ['--no-install', 'flowbook', 'notebook', 'kernel'], dir);
    ok(kernel);
    // as root, Jupyter refuses to start without --allow-root: the line says it
    expect(kernel.stdout.trim()).toBe(`JUPYTER_PATH=${path.join(dir, '.jupyter')} jupyter notebook --ip 127.0.0.1 --no-browser${process.getuid?.() === 0 ? ' --allow-root' : ''} .`);
    const spec = JSON.parse(fs.readFileSync(path.join(dir, '.jupyter/kernels/flowbook/kernel.json'), 'utf8'));
    expect(spec.argv[1]).toBe(path.join(fs.realpathSync(path.join(dir, 'node_modules/flowbook')), 'kernels/tslab-kernel.cjs'));
    // what Jupyter's own kernel-spec lookup finds with that JUPYTER_PATH
    const find = 'import json; from jupyter_client.kernelspec import KernelSpecManager; print(json.dumps(KernelSpecManager().find_kernel_specs()))';
    const specs = ok(sh('/usr/bin/python3', ['-c', find], dir, { JUPYTER_PATH: path.join(dir, '.jupyter') }));
    expect(JSON.parse(specs.stdout).flowbook).toBe(path.join(dir, '.jupyter/kernels/flowbook'));

    // a message about a datastore names the one it looked in
    const missing = sh('npx', ['--no-install', 'flowbook', 'dump', 'HelloFlow/123'], dir);
    expect(missing.code).toBe(1);
    expect(errorLine(missing)).toBe(`error: run not found: HelloFlow/123 in datastore ${datastore}`);
  }, 180_000);

  it('without the dataframes peer, toDataFrame() says which command sets it up, and that command does', () => {
    const dir = freshProject();
    const init = ok(sh('npx', ['--no-install', 'flowbook', 'init', '--no-dataframes'], dir));
    expect(init.stdout).not.toContain('danfojs-node');
    ok(sh('npm', ['install', '--prefer-offline'], dir));
    expect(fs.existsSync(path.join(dir, 'node_modules/danfojs-node'))).toBe(false);
    ok(sh('npx', ['--no-install', 'flowbook', 'run', 'flows/hello.ts'], dir));

    const source = `import { Flow } from 'flowbook';
const step = (await Flow('HelloFlow').latestSuccessfulRun).step('greet');
const table = await step.toArrow();
console.log('arrow rows', table.numRows);
try {
  const df = await step.toDataFrame();
  console.log('frame rows', df.shape[0]);
} catch (err) {
  console.log('error:', err.message);
}
`;
    const before = script(dir, 'frame.mjs', source);
    expect(before.code, before.out).toBe(0);
    expect(before.stdout).toContain('arrow rows 3');
    expect(before.stdout.trim().split('\n').at(-1)).toBe(
      'error: DataFrames need danfojs-node, an optional peer dependency of flowbook that this project does not have: run `npx flowbook init --dataframes-only && npm install`',
    );

    const setup = ok(sh('npx', ['--no-install', 'flowbook', 'init', '--dataframes-only'], dir));
    expect(setup.stdout).toContain('added to package.json: danfojs-node');
    expect(fs.readdirSync(dir).sort()).toEqual(['.flowbook', 'flows', 'frame.mjs', 'node_modules', 'notebooks', 'package-lock.json', 'package.json', 'tsconfig.json']);
    ok(sh('npm', ['install', '--prefer-offline'], dir));
    const after = script(dir, 'frame.mjs', source);
    expect(after.code, after.out).toBe(0);
    expect(after.stdout).toContain('frame rows 3');
    expect(ok(sh('npx', ['--no-install', 'flowbook', 'init', '--dataframes-only'], dir)).stdout.trim()).toBe('package.json already has danfojs-node and its overrides: nothing to do');
  }, 180_000);
});

describe('run FILE --help lists the flow parameters', () => {
  it('run, resume and argo-workflows trigger: types, defaults, env and help below the generic options', () => {
    const run = flowbook(['run', fixture('params.ts'), '--help']);
    expect(run.code).toBe(0);
    const [generic, params] = run.stdout.split('\nFlow parameters (ParamsFlow):\n');
    expect(generic).toContain('--max-workers <n>');
    expect(params.trimEnd().split('\n')).toEqual([
      '  --name <string>   who (required)',
      '  --count <int>     (default: 2)',
      '  --ratio <float>   (default: 0.5)',
      '  --loud <bool>     (default: false)',
      '  --opts <json>     (default: {"k":1})',
      '  --model <string>  (default: "tiny"; env: $DEFAULT_MODEL_TYPE)',
      '  --min-ct <int>    (default: 1)',
    ]);
    // an option with a value before FILE, and -h
    const secret = flowbook(['run', '--tag', 'x', fixture('secret.ts'), '-h']);
    expect(secret.stdout).toMatch(/--api-token <string>\s+\(env: \$MY_API_TOKEN; secret: never stored\)/);
    const resume = flowbook(['resume', fixture('foreach.ts'), '--help']);
    expect(resume.stdout).toMatch(/--origin-run-id <id>[\s\S]*\nFlow parameters \(ForeachFlow\):\n\s+--xs <json>\s+\(default: \[3,1,2\]\)/);
    const trigger = flowbook(['argo-workflows', 'trigger', fixture('linear.ts'), '--help']);
    expect(trigger.stdout).toMatch(/--namespace <ns>[\s\S]*\nFlow parameters \(LinearFlow\): none\n$/);
    // the generic help of a command without FILE is unchanged
    expect(flowbook(['run', '--help']).stdout).not.toContain('Flow parameters');
  });

  it('a flow file that does not load still shows the generic help, plus one line saying why', () => {
    const dir = tempDir();
    const broken = path.join(dir, 'broken.ts');
    fs.writeFileSync(broken, "import { FlowSpec, step } from 'flowbook';\nexport class BrokenFlow extends FlowSpec {\n  @step async start() { this.next(this.end) \n");
    for (const file of [broken, path.join(dir, 'missing.ts')]) {
      const r = flowbook(['run', file, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('--max-workers <n>');
      const tail = r.stdout.split('\n').filter(Boolean).at(-1)!;
      expect(tail).toMatch(/^Flow parameters: cannot be listed: /);
      expect(r.stdout.split('\n').filter((l) => l.startsWith('Flow parameters')).length).toBe(1);
    }
    expect(flowbook(['run', path.join(dir, 'missing.ts'), '--help']).stdout).toContain(`Flow parameters: cannot be listed: flow file not found: ${path.join(dir, 'missing.ts')}`);
  });
});
