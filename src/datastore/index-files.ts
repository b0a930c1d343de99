// Small index files that make client lookups O(1) in the number of runs (Metaflow scans every
// run for latest_successful_run: its issue #2942). One folder per namespace tag, plus `_all`:
//
//   <Flow>/index/<tagKey>/latest             id of the newest run carrying the tag
//   <Flow>/index/<tagKey>/latest_successful  id of the newest successful run carrying the tag
//   <Flow>/index/<tagKey>/runs               one run id a line, appended as runs start or get the tag
//
// "Newest" is by run id (ids are creation times), so an old run that finishes late never hides a
// newer success. Updates of `latest*` happen under a per-flow lock and are atomic replaces.
//
// S3 has no locks and no appends (and s3rver ignores conditional writes), so there the index is
// one empty marker object per run, named by the run id with its digits inverted (9 - d, padded to
// 20 digits): S3 lists keys in ascending order, so the newest run comes first and a one-key
// listing answers `latest` and `latestSuccessful` whatever the number of runs. Writers never
// read-modify-write, so concurrent runners need no coordination.
//
//   <Flow>/index/<tagKey>/runs/<inverted id>         every run carrying the tag
//   <Flow>/index/<tagKey>/successful/<inverted id>   every successful run carrying the tag
import { DatastoreError, NotFoundError } from '../errors.js';
import type { StorageBackend } from './backend.js';
import type { S3Backend } from './s3/backend.js';
import { tagKey } from './names.js';

export interface RunIndex {
  /** `tags` are all of a run's tags (system and user); the all-runs index is always updated. */
  runStarted(runId: string, tags: string[]): Promise<void>;
  runSucceeded(runId: string, tags: string[]): Promise<void>;
  /** addTag on an existing run: list it under the tag and maybe make it that tag's latest. */
  tagAdded(runId: string, tag: string, successful: boolean): Promise<void>;
  /** null: all runs */
  latest(tag: string | null): Promise<string | undefined>;
  latestSuccessful(tag: string | null): Promise<string | undefined>;
  /** Run ids carrying the tag, newest first, without duplicates. */
  runs(tag: string | null): Promise<string[]>;
}

export function runIndexFor(backend: StorageBackend, flowName: string): RunIndex {
  return backend.kind === 's3' ? new MarkerIndex(backend as S3Backend, flowName) : new FileIndex(backend, flowName);
}

const newer = (a: string, b: string | undefined) =>
  b === undefined || (a.length !== b.length ? a.length > b.length : a > b);

class FileIndex implements RunIndex {
  constructor(
    private backend: StorageBackend,
    private flowName: string,
  ) {}

  private key(tag: string | null, file: 'latest' | 'latest_successful' | 'runs'): string {
    return `${this.flowName}/index/${tagKey(tag)}/${file}`;
  }

  private async readId(key: string): Promise<string | undefined> {
    try {
      return (await this.backend.get(key)).toString('utf8').trim() || undefined;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async runStarted(runId: string, tags: string[]): Promise<void> {
    await this.update(runId, tags, 'latest', true);
  }

  async runSucceeded(runId: string, tags: string[]): Promise<void> {
    await this.update(runId, tags, 'latest_successful', false);
  }

  async tagAdded(runId: string, tag: string, successful: boolean): Promise<void> {
    await this.update(runId, [tag], 'latest', true, true);
    if (successful) await this.update(runId, [tag], 'latest_successful', false, true);
  }

  private async update(
    runId: string,
    tags: string[],
    file: 'latest' | 'latest_successful',
    appendToList: boolean,
    onlyTags = false,
  ): Promise<void> {
    const keys: (string | null)[] = onlyTags ? [...tags] : [null, ...tags];
    await this.backend.withLock(`${this.flowName}/index/lock`, async () => {
      for (const tag of keys) {
        if (appendToList) await this.backend.appendLine(this.key(tag, 'runs'), runId);
        const current = await this.readId(this.key(tag, file));
        if (newer(runId, current)) await this.backend.put(this.key(tag, file), runId);
      }
    });
  }

  latest(tag: string | null): Promise<string | undefined> {
    return this.readId(this.key(tag, 'latest'));
  }

  latestSuccessful(tag: string | null): Promise<string | undefined> {
    return this.readId(this.key(tag, 'latest_successful'));
  }

  async runs(tag: string | null): Promise<string[]> {
    let text = '';
    try {
      text = (await this.backend.get(this.key(tag, 'runs'))).toString('utf8');
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const ids = [...new Set(text.split('\n').filter(Boolean))];
    return ids.sort((a, b) => (a === b ? 0 : newer(a, b) ? -1 : 1));
  }
}

const ID_DIGITS = 20;
/** '1732000000000' → '99999998267999999999' (and back: the same function) */
export function invertRunId(id: string): string {
  if (!/^\d{1,20}$/.test(id)) throw new DatastoreError(`run id ${JSON.stringify(id)} cannot be indexed on S3 (ids there are numbers of up to ${ID_DIGITS} digits)`);
  return id.padStart(ID_DIGITS, '0').replace(/\d/g, (d) => String(9 - Number(d)));
}
const fromMarker = (name: string) => invertRunId(name).replace(/^0+(?=\d)/, '');

class MarkerIndex implements RunIndex {
  constructor(
    private backend: S3Backend,
    private flowName: string,
  ) {}

  private dir(tag: string | null, kind: 'runs' | 'successful'): string {
    return `${this.flowName}/index/${tagKey(tag)}/${kind}`;
  }

  private async mark(runId: string, tags: (string | null)[], kind: 'runs' | 'successful'): Promise<void> {
    const name = invertRunId(runId);
    await Promise.all(tags.map((t) => this.backend.put(`${this.dir(t, kind)}/${name}`, '')));
  }

  runStarted(runId: string, tags: string[]): Promise<void> {
    return this.mark(runId, [null, ...tags], 'runs');
  }

  runSucceeded(runId: string, tags: string[]): Promise<void> {
    return this.mark(runId, [null, ...tags], 'successful');
  }

  async tagAdded(runId: string, tag: string, successful: boolean): Promise<void> {
    await this.mark(runId, [tag], 'runs');
    if (successful) await this.mark(runId, [tag], 'successful');
  }

  private async first(tag: string | null, kind: 'runs' | 'successful'): Promise<string | undefined> {
    const [name] = await this.backend.listFirst(this.dir(tag, kind), 1);
    return name === undefined ? undefined : fromMarker(name);
  }

  latest(tag: string | null): Promise<string | undefined> {
    return this.first(tag, 'runs');
  }

  latestSuccessful(tag: string | null): Promise<string | undefined> {
    return this.first(tag, 'successful');
  }

  async runs(tag: string | null): Promise<string[]> {
    return (await this.backend.list(this.dir(tag, 'runs'))).sort().map(fromMarker);
  }
}
