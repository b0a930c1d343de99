// Helpers for the end-to-end tests: run the real CLI in a child process against a temp datastore.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'bin/flowbook.js');
export const fixture = (name: string) => path.join(REPO, 'test/fixtures/flows', name);

export function tempDir(prefix = 'flowbook-e2e-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `flowbook ...args` to completion. */
export function flowbook(args: string[], opts: { root?: string; env?: Record<string, string>; cwd?: string } = {}): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(opts.root ? { FLOWBOOK_HOME: opts.root } : {}), ...opts.env };
  delete env.FORCE_COLOR;
  const r = spawnSync(process.execPath, [BIN, ...args], { env, cwd: opts.cwd ?? REPO, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Run `flowbook ...args` to completion without blocking this process: needed when this process
 * also serves what the command talks to (the Kubernetes API double).
 */
export function flowbookAsyncResult(args: string[], opts: { root?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = flowbookAsync(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Resolves when the process has exited — at once if it already has (an 'exit' listener added late never fires). */
export function exited(child: import('node:child_process').ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/** Start `flowbook ...args` in the background (to kill it). */
export function flowbookAsync(args: string[], opts: { root?: string; env?: Record<string, string> } = {}) {
  const env = { ...process.env, ...(opts.root ? { FLOWBOOK_HOME: opts.root } : {}), ...opts.env };
  return spawn(process.execPath, [BIN, ...args], { env, cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
}

export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run id a `run` or `resume` announces on stderr ("Running Flow/<id>", "Resuming Flow/<id>"). */
export const runIdOf = (stderr: string) => /(?:Running|Resuming) \w+\/(\d+)/.exec(stderr)![1];

/** pids whose parent is `pid` (from /proc) */
export function childPids(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** the process exists and is not a zombie */
export function pidAlive(pid: number): boolean {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return false;
  }
}

/** The last line of stderr that starts with `error:` */
export const errorLine = (r: CliResult) => r.stderr.split('\n').filter((l) => l.startsWith('error:')).at(-1);
