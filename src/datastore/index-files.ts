// Small index files that make client lookups O(1) in the number of runs (Metaflow scans every
// run for latest_successful_run: its issue #2942). One folder per namespace tag, plus `_all`:
//
//   <Flow>/index/<tagKey>/latest             id of the newest run carrying the tag
//   <Flow>/index/<tagKey>/latest_successful  id of the newest successful run carrying the tag
//   <Flow>/index/<tagKey>/runs               one run id a line, appended as runs start or get the tag
//
// "Newest" is by run id (ids are creation times), so an old run that finishes late never hides a
// newer success. Updates of `latest*` happen under a per-flow lock and are atomic replaces.
import { NotFoundError } from '../errors.js';
import type { StorageBackend } from './backend.js';
import { tagKey } from './names.js';

const newer = (a: string, b: string | undefined) =>
  b === undefined || (a.length !== b.length ? a.length > b.length : a > b);

export class RunIndex {
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

  /** `tags` are all of a run's tags (system and user); null is the all-runs index. */
  async runStarted(runId: string, tags: string[]): Promise<void> {
    await this.update(runId, tags, 'latest', true);
  }

  async runSucceeded(runId: string, tags: string[]): Promise<void> {
    await this.update(runId, tags, 'latest_successful', false);
  }

  /** addTag on an existing run: list it under the tag and maybe make it that tag's latest. */
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

  /** Run ids carrying the tag, newest first, without duplicates. */
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
