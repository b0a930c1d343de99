// Flow: a flow by name, and its runs found through the index files, never a scan of all runs:
// the latest (successful) run in the namespace is one small file read, `runs('tag')` the tag's
// list. Also `run.flow`, a Run's link up to its flow, defined here because this file makes Runs
// and run.ts must not import it back.
import { NotFoundError } from '../errors.js';
import { getNamespace } from './context.js';
import { ClientObject, linkToParent } from './client-object.js';
import { RunObject } from './run.js';
import { rowsToDataFrame } from './dataframe.js';
import { checkFlowExists } from './flow-names.js';
import { runsFilter, type RunsFilter } from './runs-filter.js';
import { refuseSnakeCase } from '../flow/metaflow-names.js';
import { displayable } from './table-display.js';

export class FlowObject<C = never> extends ClientObject {
  constructor(readonly name: string) {
    super(name, 'flow');
  }

  private async byId(id: string | undefined): Promise<RunObject<C> | undefined> {
    // nothing found: a flow with no runs (in this namespace) gives undefined, a wrong name throws
    if (id === undefined) await checkFlowExists(this.name);
    return id === undefined ? undefined : new RunObject<C>(`${this.name}/${id}`);
  }

  /** The newest run in the current namespace (running, failed or not). */
  get latestRun(): Promise<RunObject<C> | undefined> {
    return this.datastore().index.latest(getNamespace()).then((id) => this.byId(id));
  }

  /** The newest successful run in the current namespace: one small index file read. */
  get latestSuccessfulRun(): Promise<RunObject<C> | undefined> {
    return this.datastore().index.latestSuccessful(getNamespace()).then((id) => this.byId(id));
  }

  async run(id: string): Promise<RunObject<C>> {
    try {
      return new RunObject<C>(`${this.name}/${id}`);
    } catch (err) {
      if (err instanceof NotFoundError) await checkFlowExists(this.name, `run not found: ${this.name}/${id}: `);
      throw err;
    }
  }

  /**
   * Runs in the namespace carrying every tag given (and with that status, if given), newest first:
   * `runs('exp1', 'best')` as in Metaflow, `runs({ tags: ['exp1'], status: 'succeeded' })`, or both.
   */
  async runs(...filter: (string | RunsFilter)[]): Promise<RunObject<C>[]> {
    const opts = runsFilter(`${this}.runs()`, filter);
    const { index } = this.datastore();
    let ids = await index.runs(getNamespace());
    if (!ids.length) await checkFlowExists(this.name);
    for (const tag of opts.tags) {
      const tagged = new Set(await index.runs(tag));
      ids = ids.filter((id) => tagged.has(id));
    }
    const runs: RunObject<C>[] = [];
    for (const id of ids) {
      const run = new RunObject<C>(`${this.name}/${id}`);
      // addTag/removeTag can change tags after the tag index was appended to
      if (opts.tags.every((t) => run.tags.includes(t)) && (!opts.status || run.status === opts.status)) runs.push(run);
    }
    return runs;
  }

  override toString(): string {
    return `Flow('${this.name}')`;
  }

  /** A danfo DataFrame, a row per run: id, status, timing, tags and one column per parameter. */
  async runsTable(...filter: (string | RunsFilter)[]): Promise<any> {
    const runs = await this.runs(...filter);
    const rows = runs.map((r) => ({
      id: r.id,
      status: r.status,
      successful: r.successful,
      createdAt: r.createdAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
      durationSeconds: r.durationSeconds ?? null,
      tags: r.userTags.join(','),
      ...Object.fromEntries(Object.entries(r.params).map(([k, v]) => [`param_${k}`, v])),
    }));
    return displayable(await rowsToDataFrame(rows));
  }
}

declare module './run.js' {
  interface RunObject<C> {
    /** The flow this run belongs to. */
    readonly flow: FlowObject<C>;
  }
}
linkToParent(RunObject, 'flow', (run) => new FlowObject(run.flowName));

// Metaflow's names, refused with flowbook's (`flow.latest_successful_run` is `latestSuccessfulRun`)
refuseSnakeCase(FlowObject.prototype, 'Flow', { path_spec: 'pathspec' });
