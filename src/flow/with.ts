// `--with NAME[:k=v,…]`: a step decorator applied to every step that does not have it already
// (as in Metaflow, the step's own decorator wins). Every step decorator can be given: card, catch
// (Metaflow's name) or catchErrors, timeout, resources, retry, kubernetes, cache. Keys are the decorator's
// options, camelCase or Metaflow's snake_case (`retry:times=1,minutes_between_retries=0`).
import { FlowUsageError } from '../errors.js';
import { RETRY_DEFAULTS, STEP_DECORATORS, checkCardSpec, timeoutSeconds, type CacheSpec, type CardSpec, type CatchSpec, type KubernetesSpec, type ResourcesSpec, type RetrySpec, type StepMeta } from './decorators.js';
import type { LoadedFlow } from './load.js';
import { parseKubernetesWith } from './with-kubernetes.js';

export interface WithDecorators {
  retry?: Required<RetrySpec>;
  kubernetes?: KubernetesSpec;
  resources?: ResourcesSpec;
  timeout?: { seconds: number };
  catch?: CatchSpec;
  cards?: CardSpec[];
  /** `--with cache`: every step is cached (a key function cannot be given on the command line) */
  cache?: CacheSpec;
}

/** the names --with takes, and the decorator each one is */
const NAMES: Record<string, keyof typeof STEP_DECORATORS> = {
  card: 'card',
  catch: 'catchErrors',
  catchErrors: 'catchErrors',
  timeout: 'timeout',
  resources: 'resources',
  retry: 'retry',
  kubernetes: 'kubernetes',
  cache: 'cache',
};
const KNOWN = 'card, catch (or catchErrors), timeout, resources, retry, kubernetes, cache';

/** option value types (kubernetes has its own parser, with lists and maps) */
const NUMBERS = new Set(['cpu', 'memory', 'gpu', 'times', 'minutesBetweenRetries', 'seconds', 'minutes', 'hours', 'timeout', 'refreshInterval']);
const BOOLEANS = new Set(['printException']);
/** options that need a structure a k=v list cannot spell */
const NOT_FROM_CLI = new Set(['options', 'key']);

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** `times=1,minutes_between_retries=0` → { times: 1, minutesBetweenRetries: 0 }, checked against the decorator's options. */
function options(name: string, deco: keyof typeof STEP_DECORATORS, args: string): Record<string, unknown> {
  const known: readonly string[] = STEP_DECORATORS[deco];
  const out: Record<string, unknown> = {};
  for (const part of args.split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new FlowUsageError(`--with ${name}: expected key=value, got ${JSON.stringify(part)}`);
    const key = camel(part.slice(0, eq));
    const value = part.slice(eq + 1);
    if (!known.includes(key) || NOT_FROM_CLI.has(key)) {
      throw new FlowUsageError(`--with ${name}: unknown option ${JSON.stringify(part.slice(0, eq))} (known: ${known.filter((k) => !NOT_FROM_CLI.has(k)).join(', ')})`);
    }
    if (NUMBERS.has(key)) {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new FlowUsageError(`--with ${name}: ${key} must be a non-negative number, got ${JSON.stringify(value)}`);
      out[key] = n;
    } else if (BOOLEANS.has(key)) {
      if (value !== 'true' && value !== 'false') throw new FlowUsageError(`--with ${name}: ${key} must be true or false, got ${JSON.stringify(value)}`);
      out[key] = value === 'true';
    } else out[key] = value;
  }
  return out;
}

export function parseWith(items: string[] = []): WithDecorators {
  const out: WithDecorators = {};
  const given = new Set<string>();
  for (const item of items) {
    const [name, args = ''] = item.split(/:(.*)/s);
    const deco = Object.prototype.hasOwnProperty.call(NAMES, name) ? NAMES[name] : undefined;
    if (!deco) throw new FlowUsageError(`unknown decorator in --with: ${JSON.stringify(name)} (known: ${KNOWN})`);
    if (given.has(deco)) throw new FlowUsageError(`--with ${name} is given twice`);
    given.add(deco);
    if (deco === 'kubernetes') {
      out.kubernetes = parseKubernetesWith(args);
      continue;
    }
    const o = options(name, deco, args);
    if (deco === 'retry') out.retry = { ...RETRY_DEFAULTS, ...(o as RetrySpec) };
    else if (deco === 'timeout') {
      if (!Object.keys(o).length) throw new FlowUsageError('--with timeout needs a duration: --with timeout:minutes=5 (seconds, minutes, hours)');
      out.timeout = { seconds: timeoutSeconds(o) };
    }
    else if (deco === 'resources') out.resources = o as ResourcesSpec;
    else if (deco === 'catchErrors') out.catch = { printException: true, ...(o as CatchSpec) };
    else if (deco === 'card') out.cards = [checkCardSpec(o as CardSpec)];
    else if (deco === 'cache') out.cache = {};
  }
  return out;
}

/** A step's decorators with --with added where the step has none of its own (kubernetes: kubernetesFor merges it). */
export function withDecorators(meta: StepMeta, w: WithDecorators): StepMeta {
  return {
    ...meta,
    ...(meta.retry || !w.retry ? {} : { retry: w.retry }),
    ...(meta.resources || !w.resources ? {} : { resources: w.resources }),
    ...(meta.timeout || !w.timeout ? {} : { timeout: w.timeout }),
    ...(meta.catch || !w.catch ? {} : { catch: w.catch }),
    ...(meta.cache || !w.cache ? {} : { cache: w.cache }),
    cards: meta.cards.length || !w.cards ? meta.cards : w.cards,
  };
}

/** The flow as --with makes it: every step's decorators with the --with ones added. */
export function flowWith(flow: LoadedFlow, w: WithDecorators): LoadedFlow {
  return { ...flow, steps: new Map([...flow.steps].map(([name, meta]) => [name, withDecorators(meta, w)])) };
}
