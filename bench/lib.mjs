// Shared helpers for the benchmarks: run commands, take medians, print tables.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(REPO, 'bin/flowbook.js');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const tempRoot = () => fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-bench-'));

/** Wall seconds of one `flowbook ...args`; throws if it fails (unless allowFail). */
export function timeCli(args, { root, env = {}, allowFail = false } = {}) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env: { ...process.env, FLOWBOOK_HOME: root, ...env },
    encoding: 'utf8',
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0 && !allowFail) throw new Error(`flowbook ${args.join(' ')} failed:\n${r.stderr}`);
  return s;
}

export function table(title, header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  console.log(`\n${title}\n${line(all[0])}\n|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
  for (const r of all.slice(1)) console.log(line(r));
}

export const fmt = (s, unit = 's') => (unit === 'ms' ? `${(s * 1000).toFixed(2)} ms` : `${s.toFixed(3)} s`);
