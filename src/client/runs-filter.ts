// What `Flow.runs(...)` is asked for: Metaflow's `runs('exp1', 'best')` (runs carrying every tag
// given), flowbook's `runs({ tags, status })`, or both. Anything else is an error, never ignored:
// an ignored filter returns every run, which reads as an answer.
import type { RunStatus } from '../datastore/metadata.js';
import { FlowUsageError } from '../errors.js';
import { isPlainObject } from './table.js';

/** `Flow.runs({ tags, status })`: which of the flow's runs in the current namespace are listed. */
export interface RunsFilter {
  /** only runs carrying every one of these tags (added to the tags given as strings). Default: none (any tags) */
  tags?: string[];
  /** only runs with this status: running, succeeded, failed or killed. Default: any status */
  status?: RunStatus;
}

const STATUSES: RunStatus[] = ['running', 'succeeded', 'failed', 'killed'];
const KEYS = ['tags', 'status'];

const shown = (v: unknown) => `${typeof v === 'string' ? JSON.stringify(v) : String(v)} (${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v})`;

/** `runs('a', 'b')`, `runs({ tags: ['a'], status: 'failed' })` or `runs('a', { status })` → one filter. */
export function runsFilter(what: string, args: unknown[]): Required<Pick<RunsFilter, 'tags'>> & RunsFilter {
  const tags: string[] = [];
  let status: RunStatus | undefined;
  let options = 0;
  for (const a of args) {
    if (a === undefined) continue; // `runs(opts)` with no options, as the old `opts = {}` took it
    if (typeof a === 'string') {
      tags.push(a);
      continue;
    }
    if (!isPlainObject(a)) throw new FlowUsageError(`${what}: a tag is a string and options an object { tags, status }; got ${shown(a)}`);
    if (++options > 1) throw new FlowUsageError(`${what}: one options object { tags, status } at most`);
    for (const [k, v] of Object.entries(a)) {
      if (!KEYS.includes(k)) throw new FlowUsageError(`${what}: unknown option '${k}' (options: ${KEYS.join(', ')})`);
      if (v === undefined) continue;
      if (k === 'tags') {
        if (!Array.isArray(v) || !v.every((t) => typeof t === 'string')) throw new FlowUsageError(`${what}: tags is an array of strings; got ${shown(v)}`);
        tags.push(...v);
      } else {
        if (!STATUSES.includes(v as RunStatus)) throw new FlowUsageError(`${what}: status ${shown(v)} is not one of ${STATUSES.join(', ')}`);
        status = v as RunStatus;
      }
    }
  }
  return { tags: [...new Set(tags)], status };
}
