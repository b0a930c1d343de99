// The flow instance a task's code sees: parameters (their values in start, inherited as artifacts
// after it; secrets from the spec or the pod's env, never stored), the single input's artifacts as
// lazy fields, and the foreach item as this.input. runTask() runs the step on it; the runner
// builds one too, to call a step's @cache key function before the task is handed to where it runs.
import type { FlowDatastore } from '../../datastore/store.js';
import { TASK_STATE, type TaskState } from '../../flow/flowspec.js';
import type { LoadedFlow } from '../../flow/load.js';
import { resolveSecretsAgain } from '../../flow/params.js';
import type { TaskSpec } from './spec.js';
import { TaskArtifacts, defineLazy, type Lazy } from './artifacts.js';

export type InstanceState = TaskState & { secretFields: Set<string> };

/** What of a TaskSpec the instance is made from. */
export type InstancePlace = Pick<TaskSpec, 'flowName' | 'runId' | 'step' | 'params' | 'isJoin' | 'foreachStack'>;

/**
 * The list a warm worker's foreach tasks take their items from, parsed once: a 10,000-item list is
 * otherwise decompressed and parsed again by each of its 10,000 tasks. Keyed by the list's sha256
 * (its content); only the latest is kept. Each task gets its own copy of an object item, as a
 * fresh parse would give it, so a step that changes its this.input changes no other task's.
 */
let lastList: { sha: string; list: unknown[] } | undefined;

async function foreachItem(store: FlowDatastore, spec: InstancePlace, frame: TaskSpec['foreachStack'][number]): Promise<unknown> {
  const src = await TaskArtifacts.open(store, `${spec.flowName}/${spec.runId}/${frame.step}/${frame.taskId}`);
  const sha = src.ref(frame.field)?.sha;
  if (!sha) return (src.load(frame.field) as unknown[])[frame.index]; // reports the missing artifact
  if (lastList?.sha !== sha) lastList = { sha, list: src.load(frame.field) as unknown[] };
  const item = lastList.list[frame.index];
  return typeof item === 'object' && item !== null ? structuredClone(item) : item;
}

export async function flowInstance(flow: LoadedFlow, spec: InstancePlace, inputs: TaskArtifacts[], store: FlowDatastore, foreachList?: (frame: TaskSpec['foreachStack'][number]) => Promise<unknown[]>) {
  const inst = new flow.cls() as any;
  const lazies = new Map<string, Lazy>();
  const frame = spec.foreachStack.at(-1);
  const state: InstanceState = { stepName: spec.step, hasInput: false, foreachStack: spec.foreachStack, index: frame?.index, secretFields: new Set() };
  Object.defineProperty(inst, TASK_STATE, { value: state, enumerable: false });

  // parameters: their values in start, inherited like any artifact after it
  // secrets are never stored: every step gets them from the spec (or, in a pod, its env)
  const params = resolveSecretsAgain(flow.params, spec.params, `step '${spec.step}' (in a pod, through a Kubernetes Secret)`);
  for (const p of flow.params) {
    delete inst[p.field];
    if (p.options.secret) {
      state.secretFields.add(p.field);
      inst[p.field] = params[p.name];
    } else if (spec.step === 'start' || inputs.length === 0) inst[p.field] = params[p.name];
    else defineLazy(inst, p.field, inputs[0], lazies);
  }
  if (!spec.isJoin && inputs.length === 1) {
    for (const name of inputs[0].names()) if (!lazies.has(name)) defineLazy(inst, name, inputs[0], lazies);
  }
  if (frame) {
    // the runner passes its own reader of the list (read once for all the foreach's tasks)
    state.hasInput = true;
    state.input = foreachList ? (await foreachList(frame))[frame.index] : await foreachItem(store, spec, frame);
  }
  return { inst, state, lazies };
}
