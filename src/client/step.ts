// Step: one step of a run (`Flow/RunId/step`): its tasks, and their artifacts as a table (a danfo
// DataFrame or an Arrow table, a row per task). Also `task.step`, a Task's link up to its step,
// defined here because this file makes Tasks and task.ts must not import it back.
import PQueue from 'p-queue';
import { ClientObject, linkToParent } from './client-object.js';
import { TaskObject, stepTasks } from './task.js';
import { rowsToArrow, rowsToDataFrame } from './dataframe.js';
import { rowsToParquet } from './parquet.js';
import { isPlainObject } from './table.js';
import { refuseSnakeCase } from '../flow/metaflow-names.js';
import { displayable } from './table-display.js';

export class StepObject extends ClientObject {
  readonly runId: string;
  readonly id: string;
  // `step.run`, the link up to the run, is defined in run.ts (run.ts makes Steps)

  constructor(pathspec: string) {
    super(pathspec, 'step');
    this.runId = this.parts.run!;
    this.id = this.parts.step!;
    this.checkNamespace();
  }

  /** Tasks in task-id order: one read of the step's journal, however many tasks it has. */
  tasks(): Promise<TaskObject[]> {
    return stepTasks(this.flowName, this.runId, this.id);
  }

  /** The first task (the only one of a step outside a foreach). */
  get task(): Promise<TaskObject | undefined> {
    return this.tasks().then((t) => t[0]);
  }

  /**
   * A row per successful task. Small artifacts come from the records just read; larger ones are
   * read a bounded number at a time (a 10,000-task step must not open 10,000 files at once).
   */
  private async rows(fields?: string[]): Promise<Record<string, unknown>[]> {
    const tasks = (await this.tasks()).filter((t) => t.successful);
    const { store } = this.datastore();
    const queue = new PQueue({ concurrency: 32 });
    return Promise.all(
      tasks.map(async (t) => {
        // `task_index`, not `index`: a column named index hides danfo's DataFrame.index
        const row: Record<string, unknown> = { task_id: t.id, task_index: t.index ?? null, successful: t.successful };
        for (const [name, ref] of Object.entries(t.refs())) {
          if (fields && !fields.includes(name)) continue;
          if (!fields && ref.serializer !== 'json') continue;
          const v = ref.inline !== undefined ? await store.getArtifact(name, ref) : await queue.add(() => store.getArtifact(name, ref), { throwOnTimeout: true });
          // by default scalars and plain objects (flattened to dotted columns); named fields whatever they hold
          if (fields || v === null || ['string', 'number', 'boolean'].includes(typeof v) || isPlainObject(v)) row[name] = v;
        }
        return row;
      }),
    );
  }

  /** A danfo DataFrame with a row per task (scalar artifacts, or the fields named). */
  async toDataFrame(fields?: string[]): Promise<any> {
    return displayable(await rowsToDataFrame(await this.rows(fields)));
  }

  /** An apache-arrow Table with a row per task. */
  async toArrow(fields?: string[]): Promise<any> {
    return displayable(await rowsToArrow(await this.rows(fields)));
  }

  /** The same table as `toArrow()`, as the bytes of a Parquet file (NaN written as null). */
  async toParquet(fields?: string[]): Promise<Uint8Array> {
    return rowsToParquet(await this.rows(fields), `step ${this.pathspec}`);
  }
}

declare module './task.js' {
  interface TaskObject {
    /** The step this task belongs to. */
    readonly step: StepObject;
  }
}
linkToParent(TaskObject, 'step', (task) => new StepObject(`${task.flowName}/${task.runId}/${task.stepName}`));

// Metaflow's names, refused with flowbook's
refuseSnakeCase(StepObject.prototype, 'Step', { flow_name: 'flowName', run_id: 'runId', step_name: 'id', path_spec: 'pathspec' });
