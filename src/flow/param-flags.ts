// A parameter flag given with no value (`--branches` at the end of the line, or before another
// flag). Only the flow knows what it means: true for a boolean parameter, a mistake for any other
// (reading it as the text "true" would run the flow with a value nobody gave).
import { ParamError } from '../errors.js';
import type { ParamSpec } from './params.js';

/** What the command line gives a flag that has no value; replaced by flagValues() once the flow is loaded. */
export const BARE_FLAG: unique symbol = Symbol.for('flowbook.bareFlag');
export type FlagValue = string | typeof BARE_FLAG;

const BOOLEAN_KINDS = new Set(['bool', 'boolean']);

/** Bare flags of boolean parameters become 'true'; of any other kind, one clear error. */
export function flagValues(specs: ParamSpec[], given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value !== BARE_FLAG) {
      out[name] = value;
      continue;
    }
    const spec = specs.find((s) => s.name === name);
    // an unknown name keeps its place: resolveParams says which parameters the flow has
    if (spec && !BOOLEAN_KINDS.has(spec.type)) throw new ParamError(`--${name} needs a value (${spec.type}): --${name} VALUE or --${name}=VALUE`);
    out[name] = 'true';
  }
  return out;
}
