// The @cache index: one small object per cache key, naming the earlier successful task whose
// results a task with that key may reuse, with that task's DONE record (so a hit costs one read of
// one object, whatever the number of earlier runs: no run is listed or scanned).
//
//   <root>/<Flow>/cache/<step>/<key[0:2]>/<key>.json     { v, pathspec, done, at }
//
// The key (runtime/cache/task-key.ts) is a sha256 over the step's code identity and the values it
// reads, so two writers of one key wrote equally valid entries: the last put wins, no lock and no
// conditional write is needed (s3rver ignores those anyway). An entry that cannot be read or
// parsed (a torn write, an older format) is a miss, never an error: the task just runs.
import type { StorageBackend } from './backend.js';
import type { TaskDone } from './metadata.js';
import { checkName } from './names.js';

/** bump when an entry's meaning changes: entries of another version are misses */
export const CACHE_INDEX_VERSION = 1;

export interface CacheEntry {
  v: number;
  /** the task that ran: Flow/run/step/task */
  pathspec: string;
  /** its DONE record, as committed to its step's journal */
  done: TaskDone;
  /** when the entry was written */
  at: string;
}

export class CacheIndex {
  constructor(
    readonly backend: StorageBackend,
    readonly flowName: string,
  ) {}

  key(step: string, key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new TypeError(`invalid cache key ${JSON.stringify(key)}`);
    return `${this.flowName}/cache/${checkName('step', step)}/${key.slice(0, 2)}/${key}.json`;
  }

  /** The entry for a key, or undefined (absent, unreadable, another version, not a DONE record). */
  async get(step: string, key: string): Promise<CacheEntry | undefined> {
    let text: string;
    try {
      text = (await this.backend.get(this.key(step, key))).toString('utf8');
    } catch {
      return undefined;
    }
    try {
      const e = JSON.parse(text) as CacheEntry;
      const ok = e && e.v === CACHE_INDEX_VERSION && typeof e.pathspec === 'string' && e.done && typeof e.done.artifacts === 'object' && e.done.step === step && !e.done.caught;
      return ok ? e : undefined;
    } catch {
      return undefined;
    }
  }

  /** Name `done` as the task to reuse for `key` (only ever called for a task that ran and succeeded, uncaught). */
  async put(step: string, key: string, done: TaskDone): Promise<void> {
    if (done.caught) throw new TypeError(`a task whose error @catchErrors caught is never cached (${done.pathspec})`);
    const entry: CacheEntry = { v: CACHE_INDEX_VERSION, pathspec: done.pathspec, done, at: new Date().toISOString() };
    // not fsynced: an entry a crash loses only costs a recompute, one that does not parse is a miss
    await (this.backend.putRelaxed ?? this.backend.put).call(this.backend, this.key(step, key), JSON.stringify(entry));
  }
}
