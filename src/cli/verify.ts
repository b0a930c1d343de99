// `flowbook verify PATHSPEC [--repair]`: re-read every blob a run's (or one task's) DONE records
// reference and verify it exactly as reads do (decompress, sha256). Blobs are shared by every
// run that produced the same bytes, so one corrupt blob is reported with all the artifacts of
// the checked runs that use it; --repair removes it (a later write of those bytes then stores
// them afresh) and names every run of the flow that is now missing that data.
import { FlowDatastore, resolveRoot } from '../datastore/store.js';
import type { ArtifactRef } from '../datastore/metadata.js';
import { NameError } from '../errors.js';
import { parsePathspec } from '../client/pathspec.js';
import { readAnyNamespace, resolvePathspec } from './pathspec.js';
import PQueue from 'p-queue';

interface BlobUse {
  ref: ArtifactRef;
  /** artifact pathspecs that reference the blob */
  users: string[];
}

/** Run `fn` over `items` with at most `limit` at once (blobs may be large: bounded memory). */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const queue = new PQueue({ concurrency: limit });
  return Promise.all(items.map((item) => queue.add(() => fn(item), { throwOnTimeout: true })));
}

/**
 * Every committed task of a run (or the one task named): the blobs their artifacts use, the task
 * records that cannot be read, and the small artifacts kept inside records whose bytes do not
 * match their sha256 (those are checked here: they have no blob).
 */
async function collect(store: FlowDatastore, runId: string, only?: { step: string; task: string }) {
  const blobs = new Map<string, BlobUse>();
  const unreadable: string[] = [];
  let notDone = 0;
  let inline = 0;
  for (const step of only ? [only.step] : await store.listSteps(runId)) {
    const records = await store.stepRecords(runId, step);
    unreadable.push(...records.damaged);
    for (const rec of records.tasks.values()) {
      if (only && rec.taskId !== only.task) continue;
      if (!rec.done) {
        notDone++;
        continue;
      }
      const taskSpec = `${store.flowName}/${runId}/${step}/${rec.taskId}`;
      for (const [name, ref] of Object.entries(rec.done.artifacts)) {
        if (ref.inline !== undefined) {
          inline++;
          const r = await store.checkBlob(ref);
          if (r.status !== 'ok') unreadable.push(`${taskSpec}/${name}: the record's copy of this small artifact ${r.status === 'corrupt' ? r.why : 'is missing'}`);
          continue;
        }
        const key = store.blobKey(ref.sha, ref.encoding);
        const use = blobs.get(key) ?? { ref, users: [] };
        use.users.push(`${taskSpec}/${name}`);
        blobs.set(key, use);
      }
    }
  }
  return { blobs, unreadable, notDone, inline };
}

/** Artifacts in every run of the flow that use one of `keys` (after a repair removed them). */
async function usersInFlow(store: FlowDatastore, keys: Set<string>): Promise<string[]> {
  const found: string[] = [];
  await mapLimit(await store.listRunIds(), 4, async (runId) => {
    const { blobs } = await collect(store, runId);
    for (const [key, use] of blobs) if (keys.has(key)) found.push(...use.users);
  });
  return found.sort();
}

const list = (xs: string[], max = 10) => (xs.length > max ? `${xs.slice(0, max).join(', ')} and ${xs.length - max} more` : xs.join(', '));

export async function verifyCommand(given: string, flags: { repair?: boolean; datastoreRoot?: string }): Promise<number> {
  // `Flow/latest`, `Flow/latest-successful/step/task` as dump and logs take them
  readAnyNamespace(flags.datastoreRoot);
  const pathspec = given.split('/').length >= 2 ? await resolvePathspec(given) : given;
  const depth = pathspec.split('/').length;
  if (depth !== 2 && depth !== 4) throw new NameError(`verify takes Flow/run or Flow/run/step/task, got ${JSON.stringify(pathspec)}`);
  const p = parsePathspec(pathspec, depth === 2 ? 'run' : 'task');
  const store = new FlowDatastore(resolveRoot(flags.datastoreRoot), p.flow);
  await store.readRun(p.run!); // a clear "run not found"
  if (p.task && !(await store.taskRecord(p.run!, p.step!, p.task))) throw new NameError(`task not found: ${pathspec}`);

  const { blobs, unreadable, notDone, inline } = await collect(store, p.run!, p.task ? { step: p.step!, task: p.task } : undefined);
  const out = (line: string) => process.stdout.write(line + '\n');
  for (const msg of unreadable) out(`unreadable: ${msg}`);
  if (notDone > 0) out(`note: ${notDone} task(s) have not committed (no DONE record); their blobs are not checked`);
  if (inline > 0) out(`checked ${inline} small artifact(s) kept in task records`);

  const entries = [...blobs.entries()];
  const results = await mapLimit(entries, 4, ([, use]) => store.checkBlob(use.ref));
  const corrupt: string[] = [];
  let ok = 0;
  let missing = 0;
  for (const [i, [key, use]] of entries.entries()) {
    const r = results[i];
    if (r.status === 'ok') ok++;
    else if (r.status === 'missing') {
      missing++;
      out(`missing: blob ${store.displayPath(key)}, used by ${list(use.users)}`);
    } else {
      corrupt.push(key);
      out(`corrupt: blob ${store.displayPath(key)} ${r.why}, used by ${list(use.users)}`);
    }
  }
  out(`checked ${entries.length} blobs: ${ok} ok, ${corrupt.length} corrupt, ${missing} missing`);

  if (flags.repair && corrupt.length) {
    for (const key of corrupt) await store.removeBlob(blobs.get(key)!.ref);
    // blobs are shared across runs: say every run that has lost data, not only the one checked
    const lost = await usersInFlow(store, new Set(corrupt));
    const runs = [...new Set(lost.map((a) => a.split('/').slice(0, 2).join('/')))].sort();
    out(`removed ${corrupt.length} corrupt blob(s); now missing data: ${list(lost, 20)}`);
    out(`runs missing data: ${runs.join(', ')} (a run that produces the same values stores them again)`);
  }
  return unreadable.length || corrupt.length || missing ? 1 : 0;
}
