// A task's view of its inputs: the artifacts of finished tasks, read on demand, as lazy fields of
// the flow instance (a field the step never reads is never loaded, and is stored again by
// reference) and as the join's input views.
import { FlowDatastore } from '../../datastore/store.js';
import type { ArtifactRef, TaskDone } from '../../datastore/metadata.js';
import { NotFoundError } from '../../errors.js';
import type { ArtifactSource, InputView } from '../../flow/flowspec.js';

/** The artifacts of a finished task, read on demand. */
export class TaskArtifacts implements ArtifactSource {
  private cache = new Map<string, unknown>();
  constructor(
    readonly store: FlowDatastore,
    readonly done: TaskDone,
  ) {}
  static async open(store: FlowDatastore, pathspec: string): Promise<TaskArtifacts> {
    const [, runId, step, taskId] = pathspec.split('/');
    const done = await store.readDone(runId, step, taskId).catch((err) => {
      throw new NotFoundError(`input task ${pathspec} cannot be read: ${err?.message ?? err}`, { cause: err });
    });
    if (!done) throw new NotFoundError(`input task ${pathspec} has no DONE record`);
    return new TaskArtifacts(store, done);
  }
  names(): string[] {
    return Object.keys(this.done.artifacts);
  }
  ref(name: string): ArtifactRef {
    return this.done.artifacts[name];
  }
  sha(name: string): string {
    return this.done.artifacts[name].sha;
  }
  load(name: string): unknown {
    if (!this.cache.has(name)) this.cache.set(name, this.store.getArtifactSync(name, this.done.artifacts[name]));
    return this.cache.get(name);
  }
}

export interface Lazy {
  source: TaskArtifacts;
  loaded: boolean;
}

/** Define `name` on the instance as a lazy read of `source`; a write replaces it with a plain field. */
export function defineLazy(obj: any, name: string, source: TaskArtifacts, lazies: Map<string, Lazy>): void {
  const entry: Lazy = { source, loaded: false };
  lazies.set(name, entry);
  Object.defineProperty(obj, name, {
    configurable: true,
    enumerable: true,
    get() {
      entry.loaded = true;
      return source.load(name);
    },
    set(v) {
      lazies.delete(name);
      Object.defineProperty(obj, name, { value: v, writable: true, enumerable: true, configurable: true });
    },
  });
}

export function inputView(src: TaskArtifacts): InputView {
  const view: any = {};
  const d = src.done;
  Object.defineProperties(view, {
    stepName: { value: d.step },
    taskId: { value: d.taskId },
    pathspec: { value: d.pathspec },
    index: { value: d.foreachStack.at(-1)?.index },
  });
  for (const name of src.names()) Object.defineProperty(view, name, { enumerable: true, get: () => src.load(name) });
  return view;
}

