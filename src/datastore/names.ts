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

/** the prefixes of the tags flowbook itself gives a run (Metaflow's system tags) */
export const SYSTEM_TAG_PREFIXES = ['user:', 'runtime:', 'flowbook_version:', 'argo-workflow:'];

/**
 * A tag a user gives (`--tag`, `run.addTag`): free text, but never blank, never with control
 * characters (a newline would forge a second line wherever tags are listed), and never in a system
 * tag's namespace — `--tag user:bob` would make the run bob's latest.
 */
export function checkUserTag(tag: string): string {
  tagKey(tag);
  if (!tag.trim()) throw new NameError(`invalid tag ${JSON.stringify(tag)}: a tag cannot be blank`);
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f]/.exec(tag);
  if (bad) throw new NameError(`invalid tag ${JSON.stringify(tag)}: control characters (U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}) are not allowed`);
  const sys = SYSTEM_TAG_PREFIXES.find((p) => tag.startsWith(p));
  if (sys) throw new NameError(`invalid tag ${JSON.stringify(tag)}: tags starting with '${sys}' are flowbook's own (system tags)`);
  return tag;
}

/** Tags are free text (`user:alice`, `exp 3`) and are stored as an encoded file name. */
export function tagKey(tag: string | null): string {
  if (tag === null) return '_all';
  if (typeof tag !== 'string' || tag.length === 0 || tag.length > 256) {
    throw new NameError(`invalid tag ${JSON.stringify(tag)}: 1 to 256 characters`);
  }
  return 't-' + Buffer.from(tag, 'utf8').toString('base64url');
}
