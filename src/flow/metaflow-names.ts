// Metaflow's snake_case names on flowbook's camelCase objects. In plain JS `run.finished_at` would
// be a silent undefined (and `Flow('X').latest_successful_run` a silent "no run"): each name a
// Metaflow user types out of habit throws one line naming flowbook's spelling instead.
//
// Only the names listed (or derived from the camelCase members that exist) throw: an inspector's
// probes (`then`, `constructor`, `toJSON`, `asymmetricMatch`, `nodeType`, symbols…) are untouched,
// so `await`, console.log, tslab and test matchers see an ordinary object.
import { FlowUsageError } from '../errors.js';

/** `latestSuccessfulRun` → `latest_successful_run` */
export const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The camelCase members of a prototype (getters and methods), as snake_case → camelCase. */
function derived(proto: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name !== 'constructor' && /[a-z][A-Z]/.test(name)) out[snakeCase(name)] = name;
  }
  return out;
}

/**
 * Makes `target.<snake_name>` throw `<what>.<snake_name> is <camel> in flowbook`. `names` maps a
 * snake_case name to what to use instead (a member name, or a short phrase when there is no one
 * member: `id`, `(await task.metadata).finishedAt`); the prototype's own camelCase members are
 * added. Defined as non-enumerable getters, so nothing lists or copies them.
 */
export function refuseSnakeCase(target: object, what: string, names: Record<string, string> = {}, proto: object = target): void {
  const all = { ...derived(proto), ...names };
  for (const [snake, camel] of Object.entries(all)) {
    if (snake === camel || Object.prototype.hasOwnProperty.call(target, snake)) continue;
    Object.defineProperty(target, snake, {
      configurable: true,
      enumerable: false,
      get() {
        throw new FlowUsageError(`${what}.${snake} is ${camel} in flowbook`);
      },
    });
  }
}
