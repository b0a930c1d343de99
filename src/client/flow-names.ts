// The flows of a datastore (Metaflow's `Metaflow().flows`), and the error for a flow name that is
// not one of them: where the client looked, what is there, and the closest names (a typo in a
// flow name must not read as "no runs yet").
import { NotFoundError } from '../errors.js';
import { backendFor, listFlowNames } from '../datastore/store.js';
import { datastoreRoot } from './context.js';

/** Names of the flows stored in the client's datastore (local or S3), sorted. */
export function flowNames(): Promise<string[]> {
  return listFlowNames(datastoreRoot());
}

/** Whether a flow has ever been stored (its marker, or runs written before markers existed). */
export async function flowExists(name: string): Promise<boolean> {
  const backend = backendFor(datastoreRoot());
  return (await backend.exists(`${name}/flow.json`)) || (await backend.exists(`${name}/runs`));
}

/** Levenshtein distance, case-insensitive (HelloFlw → HelloFlow is 1, helloflow → HelloFlow is 0). */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The names close enough to be what was meant, closest first (a third of the name may differ). */
export function suggestions(name: string, names: string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return names
    .map((n) => ({ n, d: editDistance(name, n) }))
    .filter(({ n, d }) => d <= limit || n.toLowerCase().includes(name.toLowerCase()))
    .sort((x, y) => x.d - y.d || x.n.localeCompare(y.n))
    .map(({ n }) => n);
}

const LISTED = 20;

/**
 * Throws the NotFoundError for a flow that is not in the datastore (after `what`, e.g. "run not
 * found: X/1: "); returns if it is there.
 */
export async function checkFlowExists(name: string, what = ''): Promise<void> {
  if (await flowExists(name)) return;
  const root = datastoreRoot();
  const names = await flowNames();
  const close = suggestions(name, names);
  const mean = close.length ? ` Did you mean ${close.slice(0, 3).map((n) => `'${n}'`).join(' or ')}?` : '';
  const listed = names.length > LISTED ? `${names.slice(0, LISTED).join(', ')} … (${names.length} in all: flows())` : names.join(', ');
  const there = names.length
    ? `flows there: ${listed}`
    : 'it has no flows yet (run one with `flowbook run FILE`, or point the client elsewhere: setDatastoreRoot() or FLOWBOOK_HOME / FLOWBOOK_S3_ROOT)';
  throw new NotFoundError(`${what}flow '${name}' not found in the datastore ${root}.${mean} ${there}`, { pathspec: name });
}
