// kill -9 of the runner at 10 random (seeded) moments of a 100-task run with artifacts, each
// followed by a resume: no artifact lost (every one read back and hash-verified), no worker left
// alive, no run left "running".
import { it, expect } from 'vitest';
import fs from 'node:fs';
import { flowbook, flowbookAsync, fixture, tempDir, exited, wait, childPids, pidAlive } from './helpers.js';
import { Flow, namespace, setDatastoreRoot } from '../../src/client/index.js';

/** a small seeded generator (mulberry32), so the moments are the same on every run */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

it('10 kill -9 trials over a 100-task run: 0 artifacts lost, 0 workers alive, 0 runs left running', async () => {
  const root = tempDir();
  setDatastoreRoot(root);
  namespace(null);
  const random = rng(20261126);
  let verified = 0;
  let lost = 0;
  let workersAlive = 0;
  const expectedTotal = Array.from({ length: 100 }, (_, i) => Array.from({ length: 4096 + i }, (_, k) => (k * 31 + i) % 251).reduce((a, b) => a + b, 0)).reduce((a, b) => a + b, 0);
  for (let trial = 0; trial < 10; trial++) {
    const child = flowbookAsync(['run', fixture('trial.ts')], { root });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    for (let i = 0; i < 200 && !/Running TrialFlow\/\d+/.test(err); i++) await wait(20);
    await wait(Math.floor(random() * 1500));
    const workers = childPids(child.pid!).filter((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('worker-main'));
    child.kill('SIGKILL');
    await exited(child);
    const origin = /Running TrialFlow\/(\d+)/.exec(err)![1];
    for (let i = 0; i < 20 && workers.some(pidAlive); i++) await wait(50);
    workersAlive += workers.filter(pidAlive).length;

    const r = flowbook(['resume', fixture('trial.ts'), '--origin-run-id', origin, '--quiet'], { root });
    expect(r.code, r.stderr).toBe(0);
    const resumed = (await Flow('TrialFlow').latestSuccessfulRun)!;
    expect(resumed.origin).toBe(origin);
    expect(await resumed.data.total).toBe(expectedTotal);
    for (const s of await resumed.steps()) {
      for (const t of await s.tasks()) {
        for (const a of await t.artifacts) {
          try {
            await a.data(); // sha256-verified read
            verified++;
          } catch {
            lost++;
          }
        }
      }
    }
  }
  const running = (await Flow('TrialFlow').runs()).filter((r) => r.status === 'running').length;
  const killed = (await Flow('TrialFlow').runs({ status: 'killed' })).length;
  console.log(`kill trials: 10; artifacts verified ${verified}, lost ${lost}; workers alive after the kill ${workersAlive}; runs left running ${running}; runs reading killed ${killed}`);
  expect(lost).toBe(0);
  expect(workersAlive).toBe(0);
  expect(running).toBe(0);
  expect(verified).toBeGreaterThan(10 * 300);
}, 300_000);
