// Step decorators (TC39 standard decorators). They only annotate the method; the runtime reads the
// annotations. Annotations live under a Symbol.for key so that two copies of this module (the
// built package and its source, in tests) agree on them.
import { FlowUsageError } from '../errors.js';

export const STEP_META = Symbol.for('flowbook.stepMeta');
export const FLOW_META = Symbol.for('flowbook.flowMeta');

export interface ResourcesSpec {
  cpu?: number;
  /** MiB, as in Metaflow */
  memory?: number;
  gpu?: number;
}
export interface KubernetesSpec extends ResourcesSpec {
  /** ephemeral storage request, MiB */
  disk?: number;
  gpuVendor?: 'nvidia' | 'amd';
  image?: string;
  namespace?: string;
  serviceAccount?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  /** Kubernetes Secrets whose keys become the pod's env (envFrom); flowbook never reads them */
  secrets?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** size of /dev/shm (a memory-backed emptyDir), MiB */
  sharedMemory?: number;
  /** claim name → mount path; e.g. { models: '/models' } with FLOWBOOK_MODELS=/models shares one model cache */
  persistentVolumeClaims?: Record<string, string>;
  /** a node pool: becomes the nodeSelector `flowbook/compute-pool: <name>` */
  computePool?: string;
}
export interface RetrySpec {
  times?: number;
  minutesBetweenRetries?: number;
}
export interface TimeoutSpec {
  seconds?: number;
  minutes?: number;
  hours?: number;
}
export interface CatchSpec {
  /** artifact that receives the error ({type, message, stack}) when the step fails */
  var?: string;
  printException?: boolean;
}
export interface CardSpec {
  type?: string;
  id?: string;
  timeout?: number;
  refreshInterval?: number;
  options?: Record<string, unknown>;
}

export interface StepMeta {
  name: string;
  isStep: boolean;
  resources?: ResourcesSpec;
  kubernetes?: KubernetesSpec;
  retry?: Required<RetrySpec>;
  timeout?: { seconds: number };
  catch?: CatchSpec;
  cards: CardSpec[];
}

type Method = (this: any, ...args: any[]) => any;
type MethodDecorator = <T extends Method>(fn: T, ctx: ClassMethodDecoratorContext) => T;

/**
 * A step decorator as Metaflow users write it: bare (`@card`, which TC39 calls as
 * `card(method, context)`) or with options (`@card()`, `@card({ type: 'blank' })`, which return
 * the decorator).
 */
export interface StepDecorator<S> {
  <T extends Method>(fn: T, ctx: ClassMethodDecoratorContext): T;
  (spec?: S): MethodDecorator;
}

/**
 * The step decorators and the options each takes: the graph parser refuses any other decorator on
 * a step, and any other option key, with the file and line (graph-parse.ts); `--with` takes the
 * same names (flow/with.ts). A new step decorator is added here.
 */
export const STEP_DECORATORS = {
  step: [],
  resources: ['cpu', 'memory', 'gpu'],
  kubernetes: ['cpu', 'memory', 'gpu', 'disk', 'gpuVendor', 'image', 'namespace', 'serviceAccount', 'nodeSelector', 'tolerations', 'secrets', 'labels', 'annotations', 'sharedMemory', 'persistentVolumeClaims', 'computePool'],
  retry: ['times', 'minutesBetweenRetries'],
  timeout: ['seconds', 'minutes', 'hours'],
  catchErrors: ['var', 'printException'],
  card: ['type', 'id', 'timeout', 'refreshInterval', 'options'],
} as const satisfies Record<string, readonly string[]>;
export type StepDecoratorName = keyof typeof STEP_DECORATORS;
/** decorators of the flow class and their options */
export const FLOW_DECORATORS = { schedule: ['cron', 'hourly', 'daily', 'weekly', 'timezone'] } as const;

/** `@card` bare: TC39 passes the method and a context object whose `kind` says what it decorates. */
function isDecoratorContext(v: unknown): v is DecoratorContext {
  return typeof v === 'object' && v !== null && typeof (v as { kind?: unknown }).kind === 'string';
}

export function stepMeta(fn: Method): StepMeta {
  const f = fn as any;
  if (!Object.prototype.hasOwnProperty.call(f, STEP_META)) {
    Object.defineProperty(f, STEP_META, { value: { name: f.name, isStep: false, cards: [] }, enumerable: false });
  }
  return f[STEP_META];
}

function methodDecorator(what: string, apply: (m: StepMeta) => void): MethodDecorator {
  return function <T extends Method>(fn: T, ctx: ClassMethodDecoratorContext): T {
    if (ctx?.kind !== 'method') throw new FlowUsageError(`@${what} goes on a step method`);
    const m = stepMeta(fn);
    m.name = String(ctx.name);
    apply(m);
    return fn;
  };
}

/** Options given as something else than an object, or with keys the decorator does not know, are an error. */
function checkOptions(what: StepDecoratorName, spec: unknown): void {
  if (spec === undefined) return;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new FlowUsageError(`@${what} takes an options object, like @${what}({ … }), got ${JSON.stringify(spec) ?? typeof spec}`);
  }
  const known: readonly string[] = STEP_DECORATORS[what];
  const bad = Object.keys(spec).filter((k) => !known.includes(k));
  if (bad.length) throw new FlowUsageError(`@${what}: unknown option${bad.length > 1 ? 's' : ''} ${bad.map((k) => `'${k}'`).join(', ')} (known: ${known.join(', ') || 'none'})`);
}

/**
 * Make a step decorator from what it does with its options (`undefined` when used bare or with
 * `()`): `make` checks them when the class is defined and returns what it sets on the step.
 */
function stepDecorator<S>(what: StepDecoratorName, make: (spec: S | undefined) => (m: StepMeta) => void): StepDecorator<S> {
  return function (a?: unknown, b?: unknown): any {
    if (isDecoratorContext(b)) {
      if (typeof a !== 'function') throw new FlowUsageError(`@${what} goes on a step method`);
      return methodDecorator(what, make(undefined))(a as Method, b as ClassMethodDecoratorContext);
    }
    checkOptions(what, a);
    return methodDecorator(what, make(a as S | undefined));
  } as StepDecorator<S>;
}

/** Marks a method as a step of the flow (`@step`; `@step()` works too). */
export const step: StepDecorator<never> = stepDecorator<never>('step', () => (m) => (m.isStep = true));

function positive(what: string, key: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))) {
    throw new FlowUsageError(`@${what}: ${key} must be a non-negative number, got ${JSON.stringify(v)}`);
  }
}

/**
 * cpu (cores), memory (MiB), gpu: local slots when run locally, requests on Kubernetes. Bare, it
 * asks for what a step gets without it (1 cpu; on Kubernetes 4096 MiB).
 */
export const resources = stepDecorator<ResourcesSpec>('resources', (spec = {}) => {
  for (const k of ['cpu', 'memory', 'gpu'] as const) positive('resources', k, spec[k]);
  return (m) => (m.resources = { ...m.resources, ...spec });
});

/** Run this step as a Kubernetes pod (with `--with kubernetes`, or always with this decorator). */
export const kubernetes = stepDecorator<KubernetesSpec>('kubernetes', (spec = {}) => {
  for (const k of ['cpu', 'memory', 'gpu', 'disk', 'sharedMemory'] as const) positive('kubernetes', k, spec[k]);
  return (m) => (m.kubernetes = { ...spec });
});

/** Metaflow's defaults: 3 retries, 2 minutes apart. */
export const RETRY_DEFAULTS: Required<RetrySpec> = { times: 3, minutesBetweenRetries: 2 };

export const retry = stepDecorator<RetrySpec>('retry', (spec = {}) => {
  positive('retry', 'times', spec.times);
  positive('retry', 'minutesBetweenRetries', spec.minutesBetweenRetries);
  return (m) => (m.retry = { times: spec.times ?? RETRY_DEFAULTS.times, minutesBetweenRetries: spec.minutesBetweenRetries ?? RETRY_DEFAULTS.minutesBetweenRetries });
});

/** The seconds of a @timeout; as in Metaflow, a timeout without a duration is an error, not "no limit". */
export function timeoutSeconds(spec: TimeoutSpec | undefined): number {
  for (const k of ['seconds', 'minutes', 'hours'] as const) positive('timeout', k, spec?.[k]);
  const seconds = (spec?.seconds ?? 0) + 60 * (spec?.minutes ?? 0) + 3600 * (spec?.hours ?? 0);
  if (!(seconds > 0)) throw new FlowUsageError('@timeout needs a duration: seconds, minutes or hours > 0, e.g. @timeout({ minutes: 5 })');
  return seconds;
}

export const timeout = stepDecorator<TimeoutSpec>('timeout', (spec) => {
  const seconds = timeoutSeconds(spec);
  return (m) => (m.timeout = { seconds });
});

/** Bare, the error lands in the artifact `caughtError` (Metaflow's @catch keeps it only with var). */
export const catchErrors = stepDecorator<CatchSpec>('catchErrors', (spec = {}) => (m) => (m.catch = { printException: true, ...spec }));

/** the card types flowbook has (src/cards/types/builtin.ts); other names are a project's own types */
export const CARD_TYPES = ['default', 'blank', 'timeline', 'resources'];
/** a project's own card type (found in its cards/ folder when the card renders) */
const CARD_TYPE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
/** a card id is its file name beside the task, so only these characters */
export const CARD_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A card's options, checked (also what `--with card:…` gives). */
export function checkCardSpec(spec: CardSpec): CardSpec {
  if (spec.type !== undefined && !CARD_TYPES.includes(spec.type) && !CARD_TYPE_NAME.test(spec.type)) {
    throw new TypeError(`@card: type '${spec.type}' is not a card type name (built-in: ${CARD_TYPES.join(', ')}; your own: lowercase letters, digits, '-' or '_', defined in your project's cards/ folder)`);
  }
  if (spec.id !== undefined && !CARD_ID.test(spec.id)) throw new TypeError(`@card: id '${spec.id}' must be letters, digits, '_' or '-'`);
  return { type: 'default', ...spec };
}

export const card = stepDecorator<CardSpec>('card', (spec = {}) => {
  const c = checkCardSpec(spec);
  // decorators apply bottom-up: unshift keeps the cards in source order
  return (m) => void m.cards.unshift(c);
});

export interface ScheduleSpec {
  cron?: string;
  hourly?: boolean;
  daily?: boolean;
  weekly?: boolean;
  timezone?: string;
}

type FlowClass = abstract new (...a: any) => any;
type ClassDecorator = <T extends FlowClass>(cls: T, ctx: ClassDecoratorContext) => T;

/**
 * Class decorator: when an exported workflow (Argo) should run. Bare (`@schedule`), daily, as in
 * Metaflow.
 */
export function schedule<T extends FlowClass>(cls: T, ctx: ClassDecoratorContext): T;
export function schedule(spec?: ScheduleSpec): ClassDecorator;
export function schedule(a?: unknown, b?: unknown): any {
  const decorate = (spec: ScheduleSpec): ClassDecorator =>
    function <T extends FlowClass>(cls: T, ctx: ClassDecoratorContext): T {
      if (ctx?.kind !== 'class') throw new FlowUsageError('@schedule goes on a flow class');
      Object.defineProperty(cls, FLOW_META, { value: { schedule: spec }, enumerable: false });
      return cls;
    };
  if (isDecoratorContext(b)) return decorate({ daily: true })(a as FlowClass, b as ClassDecoratorContext);
  if (a !== undefined && (typeof a !== 'object' || a === null)) throw new FlowUsageError(`@schedule takes an options object, like @schedule({ daily: true })`);
  const spec = (a as ScheduleSpec | undefined) ?? {};
  return decorate(Object.keys(spec).length ? spec : { daily: true });
}
