// A task's view of its inputs: the artifacts of finished tasks, read on demand, as lazy fields of
// the flow instance (a field the step never reads is never loaded, and is stored again by
// reference) and as the join's input views.
import { FlowDatastore } from '../../datastore/store.js';
import type { ArtifactRef, TaskDone } from '../../datastore/metadata.js';
import { NotFoundError } from '../../errors.js';
import type { ArtifactSource, InputView } from '../../flow/flowspec.js';

/** The artifacts of a finished task, read on demand. */
export class TaskArtifacts implements ArtifactSource {
  // what was loaded, so a second read gives the same value: a join holds one TaskArtifacts per
  // input and reads one or two names of each, so the first name loaded has fields of its own
  // and a Map is made only for more
  private firstName?: string;
  private firstValue?: unknown;
  private more?: Map<string, unknown>;
  constructor(
    readonly store: FlowDatastore,
    readonly done: TaskDone,
  ) {}
  static async open(store: FlowDatastore, pathspec: string): Promise<TaskArtifacts> {
    const [, runId, step, taskId] = pathspec.split('/');
    // a join opens thousands of inputs of one step at once: the first reads the step's records
    // (parsed as read: they are all about to be used), and the others are known without waiting
    const done =
      store.knownDone(runId, step, taskId) ??
      (await store.readDone(runId, step, taskId, { readsStep: true }).catch((err) => {
        throw new NotFoundError(`input task ${pathspec} cannot be read: ${err?.message ?? err}`, { cause: err });
      }));
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
    if (this.firstName === name) return this.firstValue;
    if (this.more?.has(name)) return this.more.get(name);
    const value = this.store.getArtifactSync(name, this.done.artifacts[name]);
    if (this.firstName === undefined) {
      this.firstName = name;
      this.firstValue = value;
    } else (this.more ??= new Map()).set(name, value);
    return value;
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

// A join's input view: the input's place as plain read-only fields, and each artifact as an
// enumerable own getter that loads it on first read. The getters are shared by every view (one
// function per artifact name, finding its source through `this`), and the fields are defined in
// the same order on every view, so V8 gives all views of an artifact-name set one hidden class:
// about 100 bytes a view instead of a dictionary of properties and a closure per artifact.

/** Writes a private field on an object made elsewhere (a base class constructor that returns its argument). */
class Adopt {
  constructor(o: object) {
    return o;
  }
}

/** The view's source, kept in a private field: invisible to Object.keys, inspect and reflection. */
class ViewSource extends Adopt {
  #src: TaskArtifacts;
  constructor(view: object, src: TaskArtifacts) {
    super(view);
    this.#src = src;
  }
  /** The source of `view`, or of the view it inherits from (a getter runs with the reader as `this`). */
  static of(view: unknown): TaskArtifacts {
    if (typeof view === 'object' && view !== null) for (let o: object | null = view; o !== null; o = Object.getPrototypeOf(o)) if (#src in o) return (o as ViewSource).#src;
    throw new TypeError('an input view getter was called on something that is not an input view');
  }
}

const accessors = new Map<string, PropertyDescriptor>();
/** the accessors of the last artifact-name set asked for: a join's inputs nearly always share one */
let lastSet: { names: string[]; descs: PropertyDescriptor[] } | undefined;

/** Does `artifacts` have exactly `names`, in that order? (no array made: called once per input) */
function hasNames(artifacts: object, names: string[]): boolean {
  let i = 0;
  for (const name in artifacts) if (names[i++] !== name) return false;
  return i === names.length;
}

/** The accessors of one artifact-name set, in order. */
function accessorsOf(artifacts: Record<string, unknown>): { names: string[]; descs: PropertyDescriptor[] } {
  if (lastSet && hasNames(artifacts, lastSet.names)) return lastSet;
  const names = Object.keys(artifacts);
  const descs = names.map((name) => {
    let desc = accessors.get(name);
    if (!desc) accessors.set(name, (desc = { enumerable: true, get: function (this: object) { return ViewSource.of(this).load(name); } }));
    return desc;
  });
  return (lastSet = { names, descs });
}

/** One descriptor reused for the views' plain fields (defineProperty only reads it): no garbage per field. */
const field: PropertyDescriptor = { value: undefined };

export function inputView(src: TaskArtifacts): InputView {
  const d = src.done;
  const view = {};
  field.value = d.step;
  Object.defineProperty(view, 'stepName', field);
  field.value = d.taskId;
  Object.defineProperty(view, 'taskId', field);
  field.value = d.pathspec;
  Object.defineProperty(view, 'pathspec', field);
  field.value = d.foreachStack.at(-1)?.index;
  Object.defineProperty(view, 'index', field);
  field.value = undefined;
  const { names, descs } = accessorsOf(d.artifacts);
  for (let i = 0; i < names.length; i++) Object.defineProperty(view, names[i], descs[i]);
  return new ViewSource(view, src) as unknown as InputView;
}
