// The client, as in Metaflow: Flow(name), Run/Step/Task/DataArtifact from pathspecs, namespaces.
// Each is callable without `new` and works with instanceof.
import { FlowObject } from './flow.js';
import { RunObject } from './run.js';
import { StepObject } from './step.js';
import { TaskObject } from './task.js';
import { DataArtifactObject } from './data-artifact.js';
import { flowNames } from './flow-names.js';

export { namespace, getNamespace, defaultNamespace, setDatastoreRoot, datastoreRoot } from './context.js';
export type { DataFields, RunData } from './run.js';

function callable<A extends unknown[], T>(cls: abstract new (...a: any[]) => T, make: (...a: A) => T) {
  const f = (...a: A) => make(...a);
  Object.defineProperty(f, Symbol.hasInstance, { value: (x: unknown) => x instanceof cls });
  return f;
}

export type Flow<C = never> = FlowObject<C>;
export type Run<C = never> = RunObject<C>;
export type Step = StepObject;
export type Task = TaskObject;
export type DataArtifact = DataArtifactObject;

/** `Flow('HelloFlow')`, or `Flow<HelloFlow>('HelloFlow')` to type `run.data` from the class. */
export const Flow = callable(FlowObject, <C = never>(name: string) => new FlowObject<C>(name)) as <C = never>(name: string) => FlowObject<C>;
/** `Run('HelloFlow/1732…')` */
export const Run = callable(RunObject, <C = never>(pathspec: string) => new RunObject<C>(pathspec)) as <C = never>(pathspec: string) => RunObject<C>;
/** `Step('HelloFlow/1732…/start')` */
export const Step = callable(StepObject, (pathspec: string) => new StepObject(pathspec));
/** `Task('HelloFlow/1732…/start/1')` */
export const Task = callable(TaskObject, (pathspec: string) => new TaskObject(pathspec));
/** `DataArtifact('HelloFlow/1732…/end/6/messages')` */
export const DataArtifact = callable(DataArtifactObject, (pathspec: string) => new DataArtifactObject(pathspec));

/**
 * Every flow in the datastore (local or S3), by name — Metaflow's `Metaflow().flows`. Not filtered
 * by namespace: a flow is listed once it has a run, whoever made it.
 */
export async function flows(): Promise<FlowObject[]> {
  return (await flowNames()).map((n) => new FlowObject(n));
}

export { FlowObject, RunObject, StepObject, TaskObject, DataArtifactObject };
