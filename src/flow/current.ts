// `current`: what the running task knows about itself (Metaflow's `current`). One instance per
// process, kept on globalThis so every copy of this module sees the same task.
import type { ResourcesSpec } from './decorators.js';
import { refuseSnakeCase } from './metaflow-names.js';

export interface CurrentTask {
  flowName: string;
  runId: string;
  stepName: string;
  taskId: string;
  /** 0 on the first attempt */
  retryCount: number;
  pathspec: string;
  tags: string[];
  username: string;
  /** the cpu/memory this task holds; use `resources.cpu` as the thread count */
  resources: Required<Pick<ResourcesSpec, 'cpu' | 'memory'>> & { gpu: number };
  datastoreRoot: string;
  flowFile: string;
  isRunningFlow: boolean;
  /** card helpers, filled in by the card module */
  card?: unknown;
}

const KEY = Symbol.for('flowbook.current');
const g = globalThis as any;
g[KEY] ??= { task: undefined as CurrentTask | undefined };

export function setCurrent(task: CurrentTask | undefined): void {
  g[KEY].task = task;
}

export function getCurrent(): CurrentTask | undefined {
  return g[KEY].task;
}

function field<K extends keyof CurrentTask>(k: K): CurrentTask[K] | undefined {
  return g[KEY].task?.[k];
}

export const current = {
  get isRunningFlow(): boolean {
    return !!g[KEY].task;
  },
  get flowName() { return field('flowName'); },
  get runId() { return field('runId'); },
  get stepName() { return field('stepName'); },
  get taskId() { return field('taskId'); },
  get retryCount() { return field('retryCount') ?? 0; },
  get pathspec() { return field('pathspec'); },
  get tags() { return field('tags') ?? []; },
  get username() { return field('username'); },
  get resources() { return field('resources') ?? { cpu: 1, memory: 0, gpu: 0 }; },
  /** Where this run's datastore lives; a step uses it for shared caches (e.g. downloads). */
  get datastoreRoot(): string {
    const root = field('datastoreRoot');
    // Outside a task there is no datastore to point at; a silent undefined would end up as a
    // relative path like "undefined/downloads".
    if (root === undefined) throw new Error('current.datastoreRoot is only set inside a running task');
    return root;
  },
  get flowFile() { return field('flowFile'); },
  get card(): any { return field('card'); },
};

// Metaflow's `current.run_id`, `current.step_name`… are undefined in plain JS: each throws naming
// flowbook's spelling (`current.run_id is runId in flowbook`)
refuseSnakeCase(current, 'current', { user_name: 'username' });
