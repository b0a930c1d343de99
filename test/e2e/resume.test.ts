// kill -9 the runner at several moments, resume, and check: the final run succeeds, every artifact
// verifies by hash, and no task that was DONE before the kill ran again.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { flowbook, flowbookAsync, fixture, tempDir, exited, wait } from './helpers.js';
import { Flow, Run, namespace, setDatastoreRoot } from '../../src/client/index.js';


/** Start the run, wait until its start task has run, then `ms` more, and kill -9 the runner. */
async function killAfter(ms: number, root: string, log: string): Promise<string> {
  const child = flowbookAsync(['run', fixture('sleepy.ts'), '--quiet', '--max-workers', '2'], { root, env: { SLEEPY_LOG: log } });
  for (let i = 0; i < 200 && !fs.readFileSync(log, 'utf8').includes(' start'); i++) await wait(50);
  await wait(ms);
  child.kill('SIGKILL');
  await exited(child);
  await wait(300); // orphaned workers notice the runner is gone and exit
  const run = (await Flow('SleepyFlow').latestRun)!;
  return run.id;
}

describe('resume after kill -9', () => {
  for (const ms of [0, 400, 900]) {
    it(`killed ${ms} ms after start ran`, async () => {
      const root = tempDir();
      const log = path.join(root, 'sleepy.log');
      fs.writeFileSync(log, '');
      setDatastoreRoot(root);
      namespace(null);
      const originId = await killAfter(ms, root, log);
      const origin = Run(`SleepyFlow/${originId}`);
      expect(origin.finished).toBe(false);
      // what was DONE in the origin run
      const doneKeys = new Set<string>();
      for (const s of await origin.steps()) for (const t of await s.tasks()) if (t.successful) doneKeys.add(`${s.id} ${t.index ?? ''}`.trim());

      const r = flowbook(['resume', fixture('sleepy.ts'), '--origin-run-id', originId], { root, env: { SLEEPY_LOG: log } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`cloned ${doneKeys.size} task(s)`);
      const resumed = (await Flow('SleepyFlow').latestSuccessfulRun)!;
      expect(resumed.id).not.toBe(originId);
      expect(resumed.origin).toBe(originId);
      expect(await resumed.data.total).toBe(210);

      // nothing that was DONE ran again in the resumed run
      const ranInResume = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith(resumed.id + ' ')).map((l) => l.slice(resumed.id.length + 1));
      for (const k of ranInResume) expect(doneKeys.has(k), `${k} was DONE but ran again`).toBe(false);
      expect(ranInResume.length + doneKeys.size).toBe(9);

      // every artifact of the final run verifies by hash
      for (const s of await resumed.steps()) {
        for (const t of await s.tasks()) {
          for (const a of await t.artifacts) await a.data();
        }
      }
    });
  }
});
