// Parameters are class fields whose initializer is `param.<type>(name, opts)`. The initializer
// returns a ParamSpec (typed as the value type so `this.minCt` is a `number` in the class);
// the runtime finds the specs on a fresh instance and replaces them with the run's values.
import { ParamError } from '../errors.js';

export const PARAM_SPEC = Symbol.for('flowbook.paramSpec');

export type ParamType = 'string' | 'int' | 'float' | 'bool' | 'json';

/** A parameter's value is the flag given, else its `env` variable, else `default`, else null (or an error when `required`). */
export interface ParamOptions<T> {
  /** the value when neither the flag nor `env` gives one. Default: none (the value is null) */
  default?: T;
  /** one line for `flowbook run FILE --help`, `flowbook show` and an Argo template's parameter description. Default: none */
  help?: string;
  /** environment variable read when the flag is not given. Default: none */
  env?: string;
  /** with no flag, env value or default, the run is refused instead of the value being null. Default false */
  required?: boolean;
  /**
   * A secret (an API token): the value reaches every step but is never stored — not in run.json,
   * not as an artifact, not in a card — nor printed. run.json keeps SECRET_MARKER in its place.
   * Default false (param.secret sets it)
   */
  secret?: boolean;
}

/** What run.json holds instead of a secret parameter's value. */
export const SECRET_MARKER = '<secret: not stored>';

export class ParamSpec<T = unknown> {
  readonly [PARAM_SPEC] = true;
  /** the class field this parameter lives in (set by the runtime) */
  field = '';
  constructor(
    readonly name: string,
    readonly type: ParamType,
    readonly options: ParamOptions<T>,
  ) {}
}

export function isParamSpec(v: unknown): v is ParamSpec {
  return typeof v === 'object' && v !== null && (v as any)[PARAM_SPEC] === true;
}

const PARAM_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function make<T>(type: ParamType) {
  return (name: string, options: ParamOptions<T> = {}): T => {
    if (!PARAM_NAME.test(name)) throw new ParamError(`invalid parameter name ${JSON.stringify(name)}`);
    return new ParamSpec<T>(name, type, options) as unknown as T;
  };
}

export const param = {
  string: make<string>('string'),
  int: make<number>('int'),
  float: make<number>('float'),
  bool: make<boolean>('bool'),
  /** `param.boolean('dry-run')`: the same as param.bool (Metaflow's Parameter(type=bool)); `--dry-run`, `--no-dry-run`, `--dry-run false` */
  boolean: make<boolean>('bool'),
  json: <T = unknown>(name: string, options: ParamOptions<T> = {}): T => make<T>('json')(name, options),
  /** `param.secret('api-token', { env: 'MY_API_TOKEN' })`: a string that is never stored or shown */
  secret: (name: string, options: Omit<ParamOptions<string>, 'secret'> = {}): string => make<string>('string')(name, { ...options, secret: true }),
};

/** the kinds a parameter may have: `param.<kind>(name, options)` (the graph parser refuses others) */
export const PARAM_KINDS: readonly string[] = Object.keys(param);

/** run.json's copy of the parameters: secrets replaced by SECRET_MARKER. */
export function storableParams(specs: ParamSpec[], values: Record<string, unknown>): Record<string, unknown> {
  const secret = new Set(specs.filter((s) => s.options.secret).map((s) => s.name));
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, secret.has(k) && v !== null ? SECRET_MARKER : v]));
}

/**
 * A resume, or a pod, gets no secret from the datastore: it reads it again from the parameter's
 * environment variable.
 */
export function resolveSecretsAgain(specs: ParamSpec[], values: Record<string, unknown>, where: string): Record<string, unknown> {
  const out = { ...values };
  for (const spec of specs.filter((s) => s.options.secret && values[s.name] === SECRET_MARKER)) {
    const env = spec.options.env;
    if (!env || !process.env[env]) {
      throw new ParamError(`secret parameter '--${spec.name}' is not stored, so ${where} needs it again${env ? `: set $${env}` : ' (give it an env: option to read it from the environment)'}`);
    }
    out[spec.name] = process.env[env];
  }
  return out;
}

/** Parse a value given as text (a CLI flag or an env var) into the parameter's type. */
export function parseParam(spec: ParamSpec, raw: unknown, source: string): unknown {
  const bad = (want: string) =>
    new ParamError(`parameter '${spec.name}' (${source}) must be ${want}, got ${JSON.stringify(raw)}`);
  if (typeof raw !== 'string') {
    // already typed (a default, or a value given programmatically)
    return checkTyped(spec, raw, source);
  }
  switch (spec.type) {
    case 'string':
      return raw;
    case 'int':
      if (!/^[+-]?\d+$/.test(raw.trim())) throw bad('an integer');
      // beyond 2^53 a number silently becomes another number
      if (!Number.isSafeInteger(Number.parseInt(raw, 10))) throw bad(`an integer between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`);
      return Number.parseInt(raw, 10);
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw bad('a number');
      return n;
    }
    case 'bool': {
      const s = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'y', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'n', 'off'].includes(s)) return false;
      throw bad('true or false');
    }
    case 'json':
      try {
        return JSON.parse(raw);
      } catch {
        throw bad('valid JSON');
      }
  }
}

function checkTyped(spec: ParamSpec, v: unknown, source: string): unknown {
  const ok =
    spec.type === 'json' ||
    (spec.type === 'string' && typeof v === 'string') ||
    (spec.type === 'int' && Number.isSafeInteger(v)) ||
    (spec.type === 'float' && typeof v === 'number' && Number.isFinite(v)) ||
    (spec.type === 'bool' && typeof v === 'boolean');
  if (!ok) throw new ParamError(`parameter '${spec.name}' (${source}) must be of type ${spec.type}, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Resolve every parameter: the given value, then the env fallback, then the default.
 * Unknown names are an error that lists the known ones.
 */
export function resolveParams(specs: ParamSpec[], given: Record<string, unknown>): Record<string, unknown> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  given = { ...given };
  // a boolean is also `--no-<name>`, as Metaflow's (click's) boolean flags
  for (const name of Object.keys(given)) {
    const flag = name.startsWith('no-') ? byName.get(name.slice(3)) : undefined;
    if (byName.has(name) || flag?.type !== 'bool') continue;
    if (given[name] !== 'true' && given[name] !== true) throw new ParamError(`--${name} takes no value (it is --${flag.name} false), got ${JSON.stringify(given[name])}`);
    if (given[flag.name] !== undefined) throw new ParamError(`--${flag.name} and --${name} are both given`);
    given[flag.name] = false;
    delete given[name];
  }
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) {
      const known = specs.map((s) => '--' + s.name).join(', ') || 'none';
      throw new ParamError(`unknown parameter '--${name}' (this flow's parameters: ${known})`);
    }
  }
  const values: Record<string, unknown> = {};
  for (const spec of specs) {
    if (given[spec.name] !== undefined) values[spec.name] = parseParam(spec, given[spec.name], `--${spec.name}`);
    else if (spec.options.env && process.env[spec.options.env] !== undefined)
      values[spec.name] = parseParam(spec, process.env[spec.options.env], `$${spec.options.env}`);
    else if (spec.options.default !== undefined) values[spec.name] = parseParam(spec, spec.options.default, 'default');
    else if (spec.options.required) throw new ParamError(`missing required parameter '--${spec.name}'`);
    else values[spec.name] = null;
  }
  return values;
}
