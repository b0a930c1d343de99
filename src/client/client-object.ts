// The base of the client's classes (Flow, Run, Step, Task, DataArtifact): the pathspec, parsed and
// checked once here for all of them, the flow it names, the flow's datastore, and the namespace
// check every object below a flow makes when it is built. One constructor, so that `Run('X/1')`,
// `Task('X/1/start/2')` and the objects a lookup returns are made and validated the same way.
//
// Parents and children link without importing each other in circles: each file imports the
// classes below it (flow → run → step → task → data-artifact) and a child's link up to its parent
// (`run.flow`, `step.run`, `task.step`) is defined in the parent's file.
import type { RunMeta } from '../datastore/metadata.js';
import { storeFor } from './context.js';
import { parsePathspec, type Pathspec, type PathspecLevel } from './pathspec.js';
import { checkInNamespace } from './records.js';

export abstract class ClientObject {
  /** the flow this object is in (a Flow's own name) */
  readonly flowName: string;
  /** `Flow/RunId/step/taskId/artifact`, as deep as the object */
  readonly pathspec: string;
  // a true private field: it is no property of the object (printing one shows its public fields)
  readonly #parts: Readonly<Pathspec>;

  protected constructor(pathspec: string, level: PathspecLevel) {
    const parts = parsePathspec(pathspec, level);
    this.#parts = Object.freeze(parts);
    this.flowName = parts.flow;
    this.pathspec = [parts.flow, parts.run, parts.step, parts.task, parts.artifact].filter((x) => x !== undefined).join('/');
  }

  /** the pathspec's parts, as deep as the object's level */
  protected get parts(): Readonly<Pathspec> {
    return this.#parts;
  }

  /** the flow's datastore and run index (one per flow and datastore root, shared by every object) */
  protected datastore(): ReturnType<typeof storeFor> {
    return storeFor(this.flowName);
  }

  /** The run's record, which must be in the current namespace (`meta`: already read). */
  protected checkNamespace(meta?: RunMeta): RunMeta {
    return checkInNamespace(this.flowName, this.#parts.run!, meta);
  }
}

/**
 * Defines `child.<name>`, a child class's link up to its parent (a getter, like the class's own),
 * from the parent's file: the parent's file imports the child's, never the other way round. The
 * parent's file also declares the link's type on the child (`declare module './step.js'`).
 */
export function linkToParent<T>(child: abstract new (...a: any[]) => T, name: string, parent: (self: T) => ClientObject): void {
  Object.defineProperty(child.prototype, name, {
    configurable: true,
    get(this: T) {
      return parent(this);
    },
  });
}
