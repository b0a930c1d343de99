/// <reference lib="dom" />
// The README's notebook path, the way a person takes it: `npm run jupyter` from the repository,
// the URL it prints, the real Jupyter Notebook UI in Chromium, notebook 01 opened, Cell → Run All,
// and no error in any output. As root (CI, containers) in the repository itself, and as a plain
// user in a checkout of their own, where the whole README line runs:
// `bash scripts/setup.sh --notebooks && npm run jupyter`.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './browser.js';
import { REPO, tempDir, exited, flowbook, errorLine } from './helpers.js';
import { SHARED_DATA } from '../shared-data.js';

const NOTEBOOK = 'notebooks/01_quickstart.ipynb';
const READY = /^Jupyter is ready: (http:\/\/127\.0\.0\.1:\d+\/)tree\?token=([0-9a-f]+)$/m;

interface Server {
  child: ChildProcess;
  base: string;
  token: string;
  log: () => string;
}

/** Start a command in its own process group and wait for the URL the launcher prints. */
async function startServer(command: string, args: string[], o: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Server> {
  const child = spawn(command, args, { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const log = () => `${out}\n--- stderr ---\n${err}`.slice(-6000);
  const gone = exited(child);
  for (;;) {
    const m = READY.exec(out);
    if (m) return { child, base: m[1], token: m[2], log };
    const done = await Promise.race([gone.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 250))]);
    if (done) throw new Error(`the server exited before it printed its URL:\n${log()}`);
  }
}

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * TERM to the whole process group (npm, the launcher, Jupyter), and wait until the group is empty:
 * npm exits at once on TERM while Jupyter is still shutting its kernels down. KILL if it lingers.
 */
async function stopServer(s: Server | undefined): Promise<void> {
  if (!s) return;
  const pgid = s.child.pid!;
  if (!groupAlive(pgid)) return;
  process.kill(-pgid, 'SIGTERM');
  for (let i = 0; groupAlive(pgid) && i < 300; i++) {
    if (i === 120) process.kill(-pgid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 250));
  }
  await exited(s.child);
}

const answers = (s: Server) =>
  fetch(`${s.base}api/status`, { headers: { Authorization: `token ${s.token}` } }).then(
    (r) => r.ok,
    () => false,
  );

/** Processes whose command line names this kernel's connection file. */
function kernelProcesses(kernelId: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(`kernel-${kernelId}.json`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The Jupyter Notebook server in a process group: its uid and arguments, read from /proc. */
function notebookServer(pgid: number): { uid: number; args: string[] } {
  for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[2]) !== pgid) continue;
      const args = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (!args.some((a) => a.endsWith('jupyter-notebook'))) continue;
      const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'))![1]);
      return { uid, args };
    } catch {
      /* gone meanwhile */
    }
  }
  throw new Error(`no jupyter-notebook process in process group ${pgid}`);
}

interface UiResult {
  prompts: string[];
  errors: string[];
  stderr: string[];
  text: string;
  kernelIds: string[];
}

/** Open the notebook in the UI, Cell → Run All, wait until every code cell ran and the kernel is idle. */
async function runAllInUi(browser: Browser, s: Server): Promise<UiResult> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  try {
    await page.goto(`${s.base}notebooks/01_quickstart.ipynb?token=${s.token}`);
    await page.waitForFunction(() => (window as any).Jupyter?.notebook?._fully_loaded && document.querySelector('#kernel_indicator_icon.kernel_idle_icon'), null, { timeout: 180_000 });
    expect(await page.textContent('.kernel_indicator_name')).toBe('flowbook (TypeScript)');
    // Jupyter autosaves every 2 minutes: the tracked notebook must not be saved with outputs
    await page.evaluate(() => (window as any).Jupyter.notebook.set_autosave_interval(0));
    await page.click('#celllink');
    await page.click('#run_all_cells > a');
    await page.waitForFunction(
      () => {
        const prompts = [...document.querySelectorAll('.code_cell .input_prompt')].map((p) => p.textContent ?? '');
        return prompts.length > 0 && prompts.every((p) => /In\s*\[\d+\]/.test(p)) && document.querySelector('#kernel_indicator_icon.kernel_idle_icon');
      },
      null,
      { timeout: 400_000, polling: 500 },
    );
    const result = await page.evaluate(() => ({
      prompts: [...document.querySelectorAll('.code_cell .input_prompt')].map((p) => (p.textContent ?? '').replace(/\s+/g, ' ').trim()),
      errors: [...document.querySelectorAll('.output_error')].map((e) => (e as HTMLElement).innerText),
      stderr: [...document.querySelectorAll('.output_stderr')].map((e) => (e as HTMLElement).innerText),
      text: (document.querySelector('#notebook-container') as HTMLElement).innerText,
    }));
    const kernels = (await (await fetch(`${s.base}api/kernels`, { headers: { Authorization: `token ${s.token}` } })).json()) as { id: string }[];
    return { ...result, kernelIds: kernels.map((k) => k.id) };
  } finally {
    await page.close();
  }
}

/** What notebook 01 shows when it ran through: every cell numbered, no error, its results. */
function expectRanClean(r: UiResult, s: Server) {
  expect(r.errors, s.log()).toEqual([]);
  expect(r.stderr, s.log()).toEqual([]);
  expect(r.prompts.length).toBeGreaterThan(3);
  expect(r.prompts.map((p) => Number(/\[(\d+)\]/.exec(p)![1]))).toEqual(r.prompts.map((_, i) => i + 1));
  expect(r.text).toContain('(the run above)');
  expect(r.text).toMatch(/DataFrame: \d+ rows × \d+ columns/);
  expect(r.kernelIds).toHaveLength(1);
}

const USER = 'flowbook-nb';

/**
 * A plain user's checkout of the repository, owned by them: the files git has (tracked, and new ones
 * not ignored) with their times kept, and node_modules as links to the repository's packages
 * (read-only for the user, as a shared install would be) plus `flowbook` → `..` as the kernel
 * installer makes it. Its dist/ is built by setup.sh, as the user.
 */
let createdUser = false;
const checkouts: string[] = [];

function userCheckout(): { dir: string; home: string } {
  if (spawnSync('id', ['-u', USER]).status !== 0) {
    execFileSync('useradd', ['--create-home', '--user-group', '--shell', '/bin/bash', USER]);
    createdUser = true;
  }
  const home = execFileSync('getent', ['passwd', USER], { encoding: 'utf8' }).split(':')[5];
  const parent = tempDir('flowbook-user-');
  checkouts.push(parent);
  fs.chmodSync(parent, 0o755);
  const dir = path.join(parent, 'flowbook');
  fs.mkdirSync(dir);
  execFileSync('bash', ['-c', 'git ls-files -z --cached --others --exclude-standard | tar -c --null --ignore-failed-read -T - -f - | tar -x -f - -C "$0"', dir], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules);
  for (const name of fs.readdirSync(path.join(REPO, 'node_modules'))) {
    if (name === 'flowbook') continue;
    // a copy, so setup.sh sees the install as current (it runs `npm ci` when package-lock.json is newer)
    if (name === '.package-lock.json') fs.copyFileSync(path.join(REPO, 'node_modules', name), path.join(modules, name));
    else fs.symlinkSync(path.join(REPO, 'node_modules', name), path.join(modules, name));
  }
  fs.symlinkSync('..', path.join(modules, 'flowbook'), 'dir');
  // -h: the links themselves, never the repository's packages they point at
  execFileSync('chown', ['-hR', `${USER}:${USER}`, parent]);
  return { dir, home };
}

describe('the README notebook path in the real Jupyter UI', () => {
  let browser: Browser;
  const servers: Server[] = [];
  const tracked = fs.readFileSync(path.join(REPO, NOTEBOOK));

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const s of servers) await stopServer(s);
    await browser?.close();
    for (const dir of checkouts) fs.rmSync(dir, { recursive: true, force: true });
    if (createdUser) spawnSync('userdel', ['--remove', USER]);
    // the UI never saved into the tracked notebook; put it back if it did, and fail
    const now = fs.readFileSync(path.join(REPO, NOTEBOOK));
    if (!now.equals(tracked)) {
      fs.writeFileSync(path.join(REPO, NOTEBOOK), tracked);
      throw new Error(`${NOTEBOOK} was modified by the Jupyter UI (restored)`);
    }
  }, 60_000);

  it('without Jupyter Notebook installed, npm run jupyter says the one package to install, in one line', () => {
    // a PATH with node, npm and sh only: no jupyter-notebook command, as on a machine without the package
    const bin = tempDir('flowbook-bin-');
    for (const tool of ['node', 'npm', 'sh']) fs.symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), path.join(bin, tool));
    const r = spawnSync('npm', ['run', '--silent', 'jupyter'], { cwd: REPO, env: { ...process.env, PATH: bin }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    expect(r.stderr.trim()).toBe(`error: Jupyter Notebook is not installed (no jupyter-notebook command): run \`bash scripts/setup.sh --notebooks\`, or ${sudo}apt-get install jupyter-notebook`);
    // `flowbook notebook run` needs Jupyter Server only, and says that package
    const run = flowbook(['notebook', 'run', path.join(REPO, NOTEBOOK), '--out', path.join(bin, 'out.ipynb')], { root: bin, env: { PATH: bin } });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toBe(`error: Jupyter Server is not installed (no jupyter-server command): ${sudo}apt-get install jupyter-server`);
  });

  it(
    'npm run jupyter in the repository: the URL it prints opens notebook 01, Run All runs every cell without an error, and stopping it stops its kernel',
    async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, FLOWBOOK_HOME: tempDir('flowbook-jupyter-') };
      delete env.JUPYTER_TOKEN;
      delete env.JUPYTER_PORT;
      const s = await startServer('npm', ['run', 'jupyter'], { cwd: REPO, env });
      servers.push(s);
      expect(await answers(s)).toBe(true);
      // as root, Jupyter starts only with --allow-root: the launcher adds it then, and only then
      const server = notebookServer(s.child.pid!);
      expect(server.args).toContain('--ip=127.0.0.1');
      expect(server.args.includes('--allow-root')).toBe(process.getuid?.() === 0);
      const r = await runAllInUi(browser, s);
      expectRanClean(r, s);
      expect(fs.readFileSync(path.join(REPO, NOTEBOOK)).equals(tracked), 'the UI saved the tracked notebook').toBe(true);

      await stopServer(s);
      expect(await answers(s)).toBe(false);
      expect(kernelProcesses(r.kernelIds[0])).toEqual([]);
    },
    600_000,
  );
  it.skipIf(process.getuid?.() !== 0)(
    'as a plain user in their own checkout: bash scripts/setup.sh --notebooks && npm run jupyter, the same Run All without an error',
    async () => {
      const { dir, home } = userCheckout();
      const line = 'bash scripts/setup.sh --notebooks && npm run jupyter';
      // a login's environment, not this test's: only what a user's shell would have
      const env = ['env', '-i', `HOME=${home}`, `USER=${USER}`, `PATH=${process.env.PATH}`, 'LANG=C.UTF-8', `FLOWBOOK_SHARED_DATA=${SHARED_DATA}`];
      const s = await startServer('runuser', ['-u', USER, '--', ...env, 'bash', '-c', line], { cwd: dir, env: process.env });
      servers.push(s);
      const server = notebookServer(s.child.pid!);
      expect(server.uid).toBe(Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' })));
      expect(server.args).not.toContain('--allow-root');
      expect(server.args).toContain('--ip=127.0.0.1');
      const r = await runAllInUi(browser, s);
      expectRanClean(r, s);
      // setup built the user's dist/ and the launcher installed the kernel in their checkout
      expect(fs.statSync(path.join(dir, '.jupyter/kernels/flowbook/kernel.json')).uid).toBe(server.uid);
      expect(fs.statSync(path.join(dir, 'dist/index.js')).uid).toBe(server.uid);

      await stopServer(s);
      expect(await answers(s)).toBe(false);
      expect(kernelProcesses(r.kernelIds[0])).toEqual([]);
    },
    900_000,
  );
});
