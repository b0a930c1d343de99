// What a run is given and what it gives back: the options of runFlow (and, through ResumeOptions,
// of resumeFlow), the context a resume's cloner sees, and the outcome the CLI reports.
import type { FlowGraph } from '../flow/graph-types.js';
import type { LoadedFlow } from '../flow/load.js';
import type { FlowDatastore } from '../datastore/store.js';
import type { TaskJournal } from '../datastore/journal.js';
import type { ErrorInfo, RunMeta } from '../datastore/metadata.js';
import type { TaskResult } from '../compute/task/spec.js';
import type { PlannedTask } from './scheduler.js';
import type { UseTally } from '../cards/usage/use-tally.js';

export interface RunOptions {
  /** the flow file (TypeScript); the graph is parsed from it before anything runs */
  file: string;
  /** the flow class, when the file has several (`--flow NAME`); default: the file's only FlowSpec */
  flowName?: string;
  /** the datastore root (a folder, or s3://bucket/prefix); default: FLOWBOOK_S3_ROOT when FLOWBOOK_DATASTORE=s3, else FLOWBOOK_HOME, else the nearest .flowbook folder up from the working directory (or ./.flowbook) */
  root?: string;
  /** parameter values as given on the command line (text), by parameter name; default: none (the parameters' defaults and env) */
  params?: Record<string, unknown>;
  /** user tags of the run (`--tag`); default: none */
  tags?: string[];
  /** how many tasks run at once; default: the machine's cores (FLOWBOOK_CORES pretends another count) */
  maxWorkers?: number;
  /** the most splits one foreach may make (`--max-num-splits`); default 100 */
  maxNumSplits?: number;
  /** `worker` (default): warm worker processes that load the flow once; `process`: a fresh process per task */
  isolation?: 'worker' | 'process';
  /** `--with retry`, `--with kubernetes:cpu=4` ...: decorators applied to every step; default: none */
  with?: string[];
  /** `--no-cache`: @cache neither reuses nor records results in this run; default false */
  noCache?: boolean;
  /** `--recompute STEP,…`: these @cache steps run again and their results replace the cached ones; default: none */
  recompute?: string[];
  /** print no task output and no progress, only the run's notes and errors; default false */
  quiet?: boolean;
  /** set by resume: the run it clones from */
  origin?: { run: RunMeta; cloner: (ctx: RunContext) => Promise<Cloner>; step?: string };
  /** called once the run record and its index entry exist */
  onRunCreated?: (run: RunMeta) => void;
}

export interface RunContext {
  graph: FlowGraph;
  flow: LoadedFlow;
  store: FlowDatastore;
  run: RunMeta;
  /** the run's task records, committed in batches */
  journal: TaskJournal;
}

/** How a resume completes tasks from earlier runs instead of running them (resume.ts). */
export interface Cloner {
  clone(task: PlannedTask): Promise<TaskResult | undefined>;
  originOf(task: PlannedTask): string | undefined;
  /** a cloned task keeps the id it had, so a whole step can be reused by reference */
  taskIdFor(step: string, key: string): string | undefined;
  /** new tasks are numbered above every id of the runs cloned from */
  firstTaskId: number;
}

export interface RunOutcome {
  run: RunMeta;
  ok: boolean;
  tasks: { done: number; cloned: number; failed: number; retried: number; cached: number };
  seconds: number;
  /** the first LISTED cloned and run tasks, for the report (their counts are in `tasks`) */
  clonedTasks: string[];
  ranTasks: string[];
  /** the first LISTED tasks @cache reused, as `pathspec ← the task that ran` */
  cachedTasks: string[];
  /** task-record batches made durable, and the records in them */
  journal: { batches: number; entries: number };
  /** the error of the task that failed the run, as it recorded it (type, message, where); absent when none did */
  taskError?: ErrorInfo;
  /** what the tasks that ran here used, per step (the run's closing notes judge it) */
  usage: UseTally;
}

/** how many cloned / run tasks a run's outcome names (a 10,000-task run reports counts) */
export const LISTED = 20;
