// `npm test`: build, run vitest, and end with the plain summary line CI reads:
// `N passed, N failed, N skipped`.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-test-')), 'results.json');
const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
let summary = '0 passed, 1 failed';
try {
  const j = JSON.parse(fs.readFileSync(out, 'utf8'));
  summary = `${j.numPassedTests} passed, ${j.numFailedTests} failed, ${j.numPendingTests + j.numTodoTests} skipped`;
  // a suite that fails to load has no tests to count: it still fails the run
  if (j.numFailedTestSuites && !j.numFailedTests) summary = `${j.numPassedTests} passed, ${j.numFailedTestSuites} failed, ${j.numPendingTests + j.numTodoTests} skipped`;
} catch {
  /* vitest crashed before writing results */
}
console.log(summary);
process.exit(r.status ?? 1);
