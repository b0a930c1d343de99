// The sources, tests, flows and benchmarks type-check under strict TypeScript — including the
// typed client (`Flow<HelloFlow>(…)` gives `run.data` the class's field types).
import { it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

it('tsc --noEmit passes on src, test, flows and bench', () => {
  const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.check.json'], { cwd: repo, encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
}, 120_000);
