// `flowbook logs` and `flowbook dump`: read a run back through the client.
import { inspect } from 'node:util';
import { Run, Step, Task, DataArtifact, namespace, setDatastoreRoot } from '../client/index.js';
import { NameError, NotFoundError } from '../errors.js';

function setup(flags: { datastoreRoot?: string }): void {
  if (flags.datastoreRoot) setDatastoreRoot(flags.datastoreRoot);
  // a pathspec names one thing exactly: no namespace filtering (as in Metaflow's CLI)
  namespace(null);
}

const depth = (p: string) => p.split('/').filter(Boolean).length;

export async function logsCommand(pathspec: string, flags: { stdout?: boolean; stderr?: boolean; datastoreRoot?: string }): Promise<number> {
  setup(flags);
  const n = depth(pathspec);
  if (n !== 3 && n !== 4) throw new NameError(`logs takes Flow/run/step or Flow/run/step/task, got ${JSON.stringify(pathspec)}`);
  const tasks = n === 4 ? [Task(pathspec)] : await Step(pathspec).tasks();
  const both = !flags.stdout && !flags.stderr;
  for (const task of tasks) {
    if (tasks.length > 1) process.stdout.write(`--- ${task.pathspec}\n`);
    if (both || flags.stdout) process.stdout.write(await task.stdout);
    if (both || flags.stderr) process.stderr.write(await task.stderr);
  }
  return 0;
}

function preview(v: unknown): string {
  return inspect(v, { depth: 3, maxArrayLength: 20, maxStringLength: 400, breakLength: 100, colors: false });
}

export async function dumpCommand(pathspec: string, flags: { json?: boolean; datastoreRoot?: string }): Promise<number> {
  setup(flags);
  const n = depth(pathspec);
  if (n === 5) {
    const value = await DataArtifact(pathspec).data();
    process.stdout.write((flags.json ? JSON.stringify(value, jsonSafe, 1) : preview(value)) + '\n');
    return 0;
  }
  if (n !== 2 && n !== 4) throw new NameError(`dump takes Flow/run, Flow/run/step/task or Flow/run/step/task/artifact, got ${JSON.stringify(pathspec)}`);
  // a run's data is its end task's artifacts
  const run = n === 2 ? Run(pathspec) : undefined;
  if (run) console.error(`${run.pathspec}: ${run.status}${run.status === 'killed' ? ` (its runner is gone; continue it with: flowbook resume FLOW_FILE --origin-run-id ${run.id})` : ''}`);
  const task = n === 4 ? Task(pathspec) : await run!.endTask;
  if (!task) throw new NotFoundError(`run ${pathspec} has no finished end step (status: ${run?.status}); dump one of its tasks`);
  const arts = await task.artifacts;
  const values = await Promise.all(arts.map((a) => a.data()));
  if (flags.json) {
    process.stdout.write(JSON.stringify(Object.fromEntries(arts.map((a, i) => [a.name, values[i]])), jsonSafe, 1) + '\n');
    return 0;
  }
  for (const [i, a] of arts.entries()) {
    process.stdout.write(`${a.name} (${a.type}, ${a.size} bytes, sha256 ${a.sha.slice(0, 12)}):\n  ${preview(values[i]).replace(/\n/g, '\n  ')}\n`);
  }
  return 0;
}

/** JSON for values JSON cannot hold as is (Map, Set, BigInt, typed arrays). */
function jsonSafe(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Map) return Object.fromEntries(v);
  if (v instanceof Set) return [...v];
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}
