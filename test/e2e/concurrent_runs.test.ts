// Runs at the same time in one datastore: each has its own journals, every task of each is
// committed and readable, and a resume running beside a new run clones only from its origin.
import { it, expect } from 'vitest';
import { flowbookAsyncResult, fixture, tempDir } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';

const total = (n: number) => Array.from({ length: n }, (_, i) => i * 3).reduce((a, b) => a + b, 0);

it('three runs of a 200-task sweep at once (one of them a resume) commit every task of each', async () => {
  const root = tempDir();
  setDatastoreRoot(root);
  namespace(null);
  const failed = await flowbookAsyncResult(['run', fixture('sweep.ts'), '--n', '200', '--max-num-splits', '200', '--quiet'], { root, env: { SWEEP_FAIL: '150' } });
  expect(failed.code).toBe(1);
  const origin = /SweepFlow\/(\d+) failed/.exec(failed.stderr)![1];
  const [a, b, r] = await Promise.all([
    flowbookAsyncResult(['run', fixture('sweep.ts'), '--n', '200', '--max-num-splits', '200', '--quiet'], { root }),
    flowbookAsyncResult(['run', fixture('sweep.ts'), '--n', '120', '--max-num-splits', '200', '--quiet'], { root }),
    flowbookAsyncResult(['resume', fixture('sweep.ts'), '--origin-run-id', origin, '--max-num-splits', '200', '--quiet'], { root }),
  ]);
  for (const x of [a, b, r]) expect(x.code, x.stderr).toBe(0);
  const ids = [a, b, r].map((x) => /SweepFlow\/(\d+) succeeded/.exec(x.stderr)![1]);
  expect(new Set(ids).size).toBe(3);
  for (const [i, n] of [200, 120, 200].entries()) {
    const run = await Flow('SweepFlow').run(ids[i]);
    expect(await run.data.total).toBe(total(n));
    const tasks = await run.step('work').tasks();
    expect(tasks.length).toBe(n);
    expect(tasks.every((t) => t.successful)).toBe(true);
    // the resume's clones come from its origin only; the new runs clone nothing
    const origins = new Set(tasks.filter((t) => t.origin).map((t) => t.origin!.split('/')[1]));
    expect([...origins]).toEqual(i === 2 ? [origin] : []);
  }
}, 180_000);
