// The cache key of one task of a @cache step: a sha256 over the step's code identity and the
// values of what it reads — each input artifact it reads by its content sha (an artifact ref
// carries it: nothing is loaded), the parameters start reads by their values, the foreach item by
// the sha of its serialized bytes, the task's foreach indices when it reads this.index, and the
// value its @cache key function returns. An artifact or parameter it does not read is not in it.
//
// A task whose result cannot be keyed safely gets no key (undefined, with the reason): a step that
// reads a secret parameter (a hash of a secret in the datastore could be guessed back).
import crypto from 'node:crypto';
import type { ArtifactRef, TaskDone } from '../../datastore/metadata.js';
import type { LoadedFlow } from '../../flow/load.js';
import type { GraphNode } from '../../flow/graph-types.js';
import { serialize } from '../../datastore/serializers.js';
import type { Frame } from '../../compute/task/placement.js';
import type { StepIdentity } from './code-identity.js';

export interface KeyInputs {
  flow: LoadedFlow;
  node: GraphNode;
  identity: StepIdentity;
  /** the run's parameter values, by parameter name */
  params: Record<string, unknown>;
  /** the DONE records of the task's inputs, in order (a join: one per branch) */
  inputs: TaskDone[];
  /** a join of an empty foreach: the foreach task's DONE record (mergeArtifacts reads it) */
  emptyForeach?: TaskDone;
  frames: Frame[];
  /** sha of the foreach item (this.input), when the task is in a foreach */
  itemSha?: string;
  /** the @cache key function's value, when the step has one */
  extra?: { value: unknown };
}

export const sha256 = (b: string | Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** sha of a value as flowbook would store it (JSON for plain data, v8 for Map/Set/Date/bytes…) */
export function valueSha(value: unknown, what: string): string {
  if (value === undefined) return 'undefined';
  return sha256(serialize(value, what).bytes);
}

const refsOf = (artifacts: Record<string, ArtifactRef>, names?: Iterable<string>) => {
  const out: Record<string, string | null> = {};
  for (const n of names ? [...names].sort() : Object.keys(artifacts).sort()) out[n] = artifacts[n]?.sha ?? null;
  return out;
};

/** The task's key, or why it has none. */
export function taskKey(k: KeyInputs): { key: string } | { none: string } {
  const { flow, node, identity } = k;
  const reads = identity.reads;
  // secrets are never stored, and their hash must not be either
  const secret = flow.params.find((p) => p.options.secret && (!reads || reads.has(p.field)));
  if (secret) return { none: `it reads the secret parameter '${secret.name}'${reads ? '' : ' (or cannot be told not to)'}` };
  const parts: Record<string, unknown> = { v: 1, flow: flow.name, step: node.name, code: identity.sha };
  if (k.inputs.length === 0 && !node.isJoin) {
    // start: parameters are values here (after start they are artifacts, compared by sha)
    const params: Record<string, string> = {};
    for (const p of flow.params) if (!reads || reads.has(p.field)) params[p.name] = valueSha(k.params[p.name], `parameter ${p.name}`);
    parts.params = params;
  } else if (node.isJoin || !reads) {
    // a join reads its inputs through `inputs` and mergeArtifacts: every artifact of every input counts
    parts.inputs = k.inputs.map((d) => refsOf(d.artifacts));
    if (k.emptyForeach) parts.emptyForeach = refsOf(k.emptyForeach.artifacts);
  } else {
    parts.reads = refsOf(k.inputs[0].artifacts, reads);
  }
  const foreach = k.frames.filter((f) => f.kind === 'foreach');
  if (foreach.length) parts.item = k.itemSha;
  if (identity.readsIndex) parts.indices = foreach.map((f) => [f.step, f.index, f.count]);
  if (k.extra) parts.extra = valueSha(k.extra.value, `the @cache key of step '${node.name}'`);
  return { key: sha256(JSON.stringify(parts)) };
}
