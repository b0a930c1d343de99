// kill -9 of the runner at 10 random (seeded) moments of a 100-task run with artifacts, each
// followed by a resume: no artifact lost (every one read back and hash-verified), no worker left
// alive, no run left "running". Then 5 kills placed inside a batch commit of task records.
import { it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, flowbookAsync, fixture, tempDir, exited, wait, childPids, pidAlive } from './helpers.js';
import { Flow, namespace, setDatastoreRoot, type Task as TaskObject } from '../../src/client/index.js';

/** a small seeded generator (mulberry32), so the moments are the same on every run */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const expectedTotal = Array.from({ length: 100 }, (_, i) => Array.from({ length: 4096 + i }, (_, k) => (k * 31 + i) % 251).reduce((a, b) => a + b, 0)).reduce((a, b) => a + b, 0);

/** Start a TrialFlow run and wait until it has said which run it is. */
async function startTrial(root: string, env?: Record<string, string>) {
  const child = flowbookAsync(['run', fixture('trial.ts')], { root, env });
  const out = { err: '' };
  child.stderr.on('data', (c) => (out.err += c));
  for (let i = 0; i < 200 && !/Running TrialFlow\/\d+/.test(out.err); i++) await wait(20);
  return { child, out, origin: /Running TrialFlow\/(\d+)/.exec(out.err)?.[1] };
}

/** Resume the killed run to the end; the resumed run, its total checked. */
async function resumeTrial(root: string, origin: string) {
  const r = flowbook(['resume', fixture('trial.ts'), '--origin-run-id', origin, '--quiet'], { root });
  expect(r.code, r.stderr).toBe(0);
  const resumed = (await Flow('TrialFlow').latestSuccessfulRun)!;
  expect(await resumed.data.total).toBe(expectedTotal);
  return resumed;
}

/** Read back every artifact of the tasks (each read sha256-verified): how many read, how many lost. */
async function readAll(tasks: TaskObject[]) {
  const n = { verified: 0, lost: 0 };
  for (const t of tasks) {
    for (const a of await t.artifacts) {
      try {
        await a.data();
        n.verified++;
      } catch {
        n.lost++;
      }
    }
  }
  return n;
}

it('10 kill -9 trials over a 100-task run: 0 artifacts lost, 0 workers alive, 0 runs left running', async () => {
  const root = tempDir();
  setDatastoreRoot(root);
  namespace(null);
  const random = rng(20261126);
  let verified = 0;
  let lost = 0;
  let workersAlive = 0;
  for (let trial = 0; trial < 10; trial++) {
    const { child, out, origin } = await startTrial(root);
    await wait(Math.floor(random() * 1500));
    const workers = childPids(child.pid!).filter((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('worker-main'));
    child.kill('SIGKILL');
    await exited(child);
    expect(origin, out.err).toBeDefined();
    for (let i = 0; i < 20 && workers.some(pidAlive); i++) await wait(50);
    workersAlive += workers.filter(pidAlive).length;

    const resumed = await resumeTrial(root, origin!);
    expect(resumed.origin).toBe(origin);
    for (const s of await resumed.steps()) {
      const n = await readAll(await s.tasks());
      verified += n.verified;
      lost += n.lost;
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

it('5 kill -9 trials inside a batch commit: the half-written batch is invisible, its tasks run again, nothing reported done is lost', async () => {
  const root = tempDir();
  setDatastoreRoot(root);
  namespace(null);
  const random = rng(7);
  let torn = 0;
  let verified = 0;
  let lost = 0;
  for (let trial = 0; trial < 5; trial++) {
    // each batch of task records is written in two halves 150 ms apart (a fault-injection knob)
    const { child, out, origin: started } = await startTrial(root, { FLOWBOOK_FAULT_COMMIT_PAUSE_MS: '150' });
    expect(started, out.err).toBeDefined();
    const origin = started!;
    const journal = path.join(root, 'TrialFlow', 'runs', origin, 'work', 'tasks.jsonl');
    // the k-th time a batch of the foreach is caught half-written, kill the runner
    const k = 1 + Math.floor(random() * 4);
    let seen = 0;
    let last = -1;
    for (let i = 0; i < 2000 && seen < k; i++) {
      const buf = fs.existsSync(journal) ? fs.readFileSync(journal) : Buffer.alloc(0);
      if (buf.length && buf[buf.length - 1] !== 0x0a && buf.length !== last) {
        seen++;
        last = buf.length;
      }
      if (seen < k) await wait(5);
    }
    child.kill('SIGKILL');
    await exited(child);
    expect(seen, `no half-written batch seen in trial ${trial}: ${out.err}`).toBe(k);
    const text = fs.readFileSync(journal, 'utf8');
    if (!text.endsWith('\n')) torn++;

    // the origin shows whole records only: the task whose record was cut is not done
    const tornId = /"taskId":"(\d+)"/.exec(text.slice(text.lastIndexOf('\n') + 1))?.[1];
    const originTasks = await (await Flow('TrialFlow').run(origin)).step('work').tasks();
    const committed = text.split('\n').slice(0, -1).filter((l) => l.includes('"kind":"done"')).length;
    expect(originTasks.filter((t) => t.successful).length).toBe(committed);
    if (tornId) expect(originTasks.find((t) => t.id === tornId)?.successful ?? false).toBe(false);

    const resumed = await resumeTrial(root, origin);
    const work = await resumed.step('work').tasks();
    expect(work.filter((t) => t.origin).length).toBe(committed); // every committed task cloned, no more
    if (tornId) expect(work.some((t) => t.origin === `TrialFlow/${origin}/work/${tornId}`)).toBe(false);
    const n = await readAll(work);
    verified += n.verified;
    lost += n.lost;
  }
  console.log(`kill trials inside a batch commit: 5; journals left with a half-written batch ${torn}; artifacts verified ${verified}, lost ${lost}`);
  expect(torn).toBe(5);
  expect(lost).toBe(0);
  expect(verified).toBeGreaterThan(5 * 300);
}, 300_000);
