// Runtime benchmarks (issue 01): foreach fan-out, a trivial run, and resume, as whole commands.
import { median, tempRoot, timeCli, table, fmt } from './lib.mjs';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const rows = [];

// warm the TypeScript and graph caches once, as any second run of a flow would find them
for (const f of ['trivial', 'fanout', 'four']) timeCli(['show', `bench/flows/${f}.ts`], { root: tempRoot() });

for (const n of [10, 100, 1000]) {
  const root = tempRoot();
  const times = [];
  for (let i = 0; i < REPS; i++) times.push(timeCli(['run', 'bench/flows/fanout.ts', '--n', String(n), '--max-workers', '2', '--max-num-splits', '1000', '--quiet'], { root }));
  const metaflow = n === 100 ? '23.4 s' : '';
  const target = n === 100 ? '≤ 2.3 s' : '';
  rows.push([`foreach of ${n} trivial tasks, --max-workers 2`, fmt(median(times)), `${((median(times) / (n + 3)) * 1000).toFixed(1)} ms`, target, metaflow]);
}

{
  const root = tempRoot();
  const times = [];
  for (let i = 0; i < Math.max(REPS, 5); i++) times.push(timeCli(['run', 'bench/flows/trivial.ts', '--quiet'], { root }));
  rows.push(['trivial start → end run (whole command)', fmt(median(times)), '', '≤ 0.4 s', '1.1 s']);
}

{
  const times = [];
  for (let i = 0; i < REPS; i++) {
    const root = tempRoot();
    timeCli(['run', 'bench/flows/four.ts', '--quiet'], { root, env: { FOUR_FAIL: '1' }, allowFail: true });
    times.push(timeCli(['resume', 'bench/flows/four.ts', '--quiet'], { root }));
  }
  rows.push(['resume of a 4-step flow (whole command)', fmt(median(times)), '', '≤ 0.4 s', '1.28 s']);
}

table(`Runtime (median of ${REPS} runs)`, ['benchmark', 'flowbook', 'per task', 'target', 'Metaflow'], rows);
