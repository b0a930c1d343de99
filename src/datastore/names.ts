// Names become path segments in the datastore, so they are validated before any I/O:
// no traversal, no separators, nothing that a shell or a URL would mangle.
import { NameError } from '../errors.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TASK_ID = /^[0-9]{1,12}$/;

export function checkName(kind: 'flow' | 'step' | 'artifact' | 'param', name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new NameError(
      `invalid ${kind} name ${JSON.stringify(name)}: use letters, digits, '_' or '-', starting with a letter or '_'`,
    );
  }
  return name;
}

export function checkRunId(id: string): string {
  if (typeof id !== 'string' || !RUN_ID.test(id)) throw new NameError(`invalid run id ${JSON.stringify(id)}`);
  return id;
}

export function checkTaskId(id: string): string {
  if (typeof id !== 'string' || !TASK_ID.test(id)) throw new NameError(`invalid task id ${JSON.stringify(id)}`);
  return id;
}

/** Tags are free text (`user:alice`, `exp 3`) and are stored as an encoded file name. */
export function tagKey(tag: string | null): string {
  if (tag === null) return '_all';
  if (typeof tag !== 'string' || tag.length === 0 || tag.length > 256) {
    throw new NameError(`invalid tag ${JSON.stringify(tag)}: 1 to 256 characters`);
  }
  return 't-' + Buffer.from(tag, 'utf8').toString('base64url');
}
