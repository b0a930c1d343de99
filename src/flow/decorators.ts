// Step decorators (TC39 standard decorators). They only annotate the method; the runtime reads the
// annotations. Annotations live under a Symbol.for key so that two copies of this module (the
// built package and its source, in tests) agree on them.
import { FlowUsageError } from '../errors.js';

export const STEP_META = Symbol.for('flowbook.stepMeta');
export const FLOW_META = Symbol.for('flowbook.flowMeta');

/** @resources: what a step's task needs, held locally as a slot and asked of Kubernetes as a request. */
export interface ResourcesSpec {
  /** cores: a local slot of that many cores (capped at the machine's), a pod's cpu request. Default 1 (also on Kubernetes) */
  cpu?: number;
  /** MiB, as in Metaflow: the local slot's memory (capped at the machine's), a pod's memory request and limit. Default: locally none held (0); on Kubernetes 4096 */
  memory?: number;
  /** GPUs: held by the local slot, a pod's `<gpuVendor>.com/gpu` limit. Default 0 */
  gpu?: number;
}
/**
 * @kubernetes: run the step as a pod. A field left out comes from `--with kubernetes:…`, then the
 * FLOWBOOK_KUBERNETES_* environment, then the default said here; cpu, memory and gpu take the
 * largest of @resources, @kubernetes and --with.
 */
export interface KubernetesSpec extends ResourcesSpec {
  /** ephemeral storage request, MiB. Default: none requested */
  disk?: number;
  /** whose GPUs `gpu` asks for (the resource `<vendor>.com/gpu`). Default 'nvidia' */
  gpuVendor?: 'nvidia' | 'amd';
  /** the container image (it must have flowbook and the project). Default FLOWBOOK_KUBERNETES_IMAGE; without either, the run is refused */
  image?: string;
  /** namespace of the step's Jobs. Default FLOWBOOK_KUBERNETES_NAMESPACE, else 'default' */
  namespace?: string;
  /** the pod's service account. Default FLOWBOOK_KUBERNETES_SERVICE_ACCOUNT, else the namespace's default account */
  serviceAccount?: string;
  /** node labels the pod must land on. Default: none (computePool adds one) */
  nodeSelector?: Record<string, string>;
  /** the pod's tolerations, as Kubernetes writes them. Default: none */
  tolerations?: Record<string, unknown>[];
  /** Kubernetes Secrets whose keys become the pod's env (envFrom); flowbook never reads them. Added to FLOWBOOK_KUBERNETES_SECRETS and --with's. Default: none */
  secrets?: string[];
  /** extra labels on the Job and its pod, beside flowbook's own. Default: none */
  labels?: Record<string, string>;
  /** extra annotations on the Job and its pod, beside flowbook's own. Default: none */
  annotations?: Record<string, string>;
  /** size of /dev/shm (a memory-backed emptyDir), MiB. Default: none mounted (the container runtime's own /dev/shm) */
  sharedMemory?: number;
  /** claim name → mount path; e.g. { models: '/models' } with FLOWBOOK_MODELS=/models shares one model cache. Default: none */
  persistentVolumeClaims?: Record<string, string>;
  /** a node pool: becomes the nodeSelector `flowbook/compute-pool: <name>`. Default: none */
  computePool?: string;
}
/** @retry: how often a failed task runs again. Without @retry (or `--with retry`) a task is not retried. */
export interface RetrySpec {
  /** how many more attempts after the first fails (mistakes in the flow's code, like a FlowUsageError, are never retried). Default 3 */
  times?: number;
  /** minutes to wait before each new attempt. Default 2 */
  minutesBetweenRetries?: number;
}
/** @timeout: the three are added up, and the sum must be more than 0 (there is no default duration). */
export interface TimeoutSpec {
  /** Default 0 */
  seconds?: number;
  /** Default 0 */
  minutes?: number;
  /** Default 0 */
  hours?: number;
}
/** @catchErrors: a task that fails (after its retries) completes anyway, with its error in an artifact. */
export interface CatchSpec {
  /** artifact that receives the error ({type, message, stack}) when the step fails. Default 'caughtError' */
  var?: string;
  /** Metaflow's option, kept for flows written for it: flowbook prints the caught error either way (one line in the run, the stack in the task's log). Default true */
  printException?: boolean;
}
/** @card: a card rendered for each of the step's tasks. */
export interface CardSpec {
  /** a built-in type (default, blank, timeline, resources) or one from the project's cards/ folder. Default 'default' */
  type?: string;
  /** the card's file name beside the task, and its name for current.card.get(id). Default `<type>-<position>`; current.card appends to the first card without one */
  id?: string;
  /** seconds the card's rendering may take before the card says it timed out. Default 45 */
  timeout?: number;
  /** seconds between live writes of the card while the task runs (current.card.refresh()). Default 1 */
  refreshInterval?: number;
  /** Metaflow's card options, kept with the spec: no card type reads them yet. Default: none */
  options?: Record<string, unknown>;
}

/**
 * @cache: a task is not run again when an earlier successful task of the same flow and step had
 * the same code (the step and the project's code it reaches), the same values of what it reads
 * and the same foreach item (runtime/cache/ decides; see the README's @cache section).
 */
export interface CacheSpec {
  /**
   * what flowbook cannot see, as a value that changes when it does (a file's sha256, a URL's ETag):
   * called in the runner with the task's flow instance (inputs lazy, this.input set) before the
   * task is handed to where it runs; may be async. Default: none
   */
  key?: (self: any) => unknown;
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
  cache?: CacheSpec;
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
  cache: ['key'],
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

/** Bare (`@cache`), a task is reused on the same code and inputs; `@cache({ key })` adds what flowbook cannot see. */
export const cache = stepDecorator<CacheSpec>('cache', (spec = {}) => {
  if (spec.key !== undefined && typeof spec.key !== 'function') {
    throw new FlowUsageError(`@cache: key must be a function of the flow instance, like @cache({ key: (self) => self.file }), got ${typeof spec.key}`);
  }
  return (m) => (m.cache = { ...spec });
});

/** The steps of a flow that have @cache (or `--with cache`): a run without any loads none of the cache code. */
export const cachedSteps = (flow: { steps: Map<string, StepMeta> }): string[] => [...flow.steps].filter(([, m]) => m.cache).map(([s]) => s);

/** @schedule: exactly one of cron, hourly, daily, weekly. Bare or with `{}`, it is `{ daily: true }`. */
export interface ScheduleSpec {
  /** a five-field cron expression (minute hour day-of-month month day-of-week) or a shorthand such as @hourly, @daily, `@every 2h`. Default: none */
  cron?: string;
  /** at minute 0 of every hour. Default false */
  hourly?: boolean;
  /** every day at 00:00. Default false (true when @schedule is bare) */
  daily?: boolean;
  /** Sundays at 00:00. Default false */
  weekly?: boolean;
  /** the IANA time zone the schedule is read in (Europe/Paris). Default: the cluster's */
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
