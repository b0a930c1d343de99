// The artifacts of a @cache hit. The task that ran passed on, untouched, the artifacts it neither
// read nor set; those are not in the key, so this run's inputs may hold other values for them (a
// longer task list, a changed parameter nobody here reads). A real run would pass this run's
// values on: so does the hit. What the step read or set comes from the task that ran (equal
// inputs for what it read — they are in the key — give equal results; a read artifact may also
// have been changed in place). When the step's reads cannot be told, every input artifact is in
// the key, and the ran task's artifacts are all taken.
import type { ArtifactRef, TaskDone } from '../../datastore/metadata.js';
import type { FlowDatastore } from '../../datastore/store.js';
import type { LoadedFlow } from '../../flow/load.js';
import type { GraphNode } from '../../flow/graph-types.js';
import type { StepIdentity } from './code-identity.js';

export async function hitArtifacts(o: {
  node: GraphNode;
  identity: StepIdentity;
  flow: LoadedFlow;
  store: FlowDatastore;
  /** this task's inputs' DONE records */
  inputs: TaskDone[];
  /** the task that ran */
  ran: TaskDone;
  /** this run's parameter values, by name */
  params: Record<string, unknown>;
}): Promise<Record<string, ArtifactRef>> {
  const { identity, ran } = o;
  const reads = identity.reads;
  if (!reads || o.node.isJoin) return ran.artifacts;
  const touched = (name: string) => reads.has(name) || identity.assigns.has(name);
  const out: Record<string, ArtifactRef> = {};
  if (o.inputs.length === 1) {
    for (const [name, ref] of Object.entries(o.inputs[0].artifacts)) if (!touched(name)) out[name] = ref;
  } else {
    // start: its parameters are stored as this run gives them, unless the step read or set them
    for (const p of o.flow.params) {
      if (p.options.secret || touched(p.field) || o.params[p.name] === undefined) continue;
      out[p.field] = await o.store.putArtifact(p.field, o.params[p.name]);
    }
  }
  for (const [name, ref] of Object.entries(ran.artifacts)) if (touched(name) || (o.inputs.length !== 1 && !(name in out))) out[name] = ref;
  return out;
}
