// Pathspecs: Flow/RunId/step/taskId/artifact, validated part by part (no traversal).
import { NameError } from '../errors.js';
import { checkName, checkRunId, checkTaskId } from '../datastore/names.js';

export interface Pathspec {
  flow: string;
  run?: string;
  step?: string;
  task?: string;
  artifact?: string;
}

const DEPTH = { flow: 1, run: 2, step: 3, task: 4, artifact: 5 } as const;

/** How deep a pathspec goes: a flow's is its name, an artifact's has all five parts. */
export type PathspecLevel = keyof typeof DEPTH;

export function parsePathspec(pathspec: string, kind: PathspecLevel): Pathspec {
  if (typeof pathspec !== 'string') throw new NameError(`a ${kind} pathspec must be a string`);
  const parts = pathspec.split('/');
  if (parts.length !== DEPTH[kind]) {
    const shape = ['Flow', 'RunId', 'step', 'taskId', 'artifact'].slice(0, DEPTH[kind]).join('/');
    throw new NameError(`invalid ${kind} pathspec ${JSON.stringify(pathspec)}: expected ${shape}`);
  }
  const [flow, run, step, task, artifact] = parts;
  checkName('flow', flow);
  if (run !== undefined) checkRunId(run);
  if (step !== undefined) checkName('step', step);
  if (task !== undefined) checkTaskId(task);
  if (artifact !== undefined && !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(artifact)) throw new NameError(`invalid artifact name ${JSON.stringify(artifact)}`);
  return { flow, run, step, task, artifact };
}
