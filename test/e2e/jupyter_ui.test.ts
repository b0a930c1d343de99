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
import { REPO, tempDir, exited } from './helpers.js';
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
    // the UI never saved into the tracked notebook; put it back if it did, and fail
    const now = fs.readFileSync(path.join(REPO, NOTEBOOK));
    if (!now.equals(tracked)) {
      fs.writeFileSync(path.join(REPO, NOTEBOOK), tracked);
      throw new Error(`${NOTEBOOK} was modified by the Jupyter UI (restored)`);
    }
  }, 60_000);

  it(
    'npm run jupyter in the repository: the URL it prints opens notebook 01, Run All runs every cell without an error, and stopping it stops its kernel',
    async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, FLOWBOOK_HOME: tempDir('flowbook-jupyter-') };
      delete env.JUPYTER_TOKEN;
      delete env.JUPYTER_PORT;
      const s = await startServer('npm', ['run', 'jupyter'], { cwd: REPO, env });
      servers.push(s);
      expect(await answers(s)).toBe(true);
      const r = await runAllInUi(browser, s);
      expectRanClean(r, s);
      expect(fs.readFileSync(path.join(REPO, NOTEBOOK)).equals(tracked), 'the UI saved the tracked notebook').toBe(true);

      await stopServer(s);
      expect(await answers(s)).toBe(false);
      expect(kernelProcesses(r.kernelIds[0])).toEqual([]);
    },
    600_000,
  );
});
