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

export function stepMeta(fn: Method): StepMeta {
  const f = fn as any;
  if (!Object.prototype.hasOwnProperty.call(f, STEP_META)) {
    Object.defineProperty(f, STEP_META, { value: { name: f.name, isStep: false, cards: [] }, enumerable: false });
  }
  return f[STEP_META];
}

function methodDecorator(what: string, apply: (m: StepMeta) => void) {
  return function <T extends Method>(fn: T, ctx: ClassMethodDecoratorContext): T {
    if (ctx?.kind !== 'method') throw new FlowUsageError(`@${what} goes on a step method`);
    const m = stepMeta(fn);
    m.name = String(ctx.name);
    apply(m);
    return fn;
  };
}

/** Marks a method as a step of the flow. */
export function step<T extends Method>(fn: T, ctx: ClassMethodDecoratorContext): T {
  return methodDecorator('step', (m) => (m.isStep = true))(fn, ctx);
}

function positive(what: string, key: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))) {
    throw new FlowUsageError(`@${what}: ${key} must be a non-negative number, got ${JSON.stringify(v)}`);
  }
}

/** cpu (cores), memory (MiB), gpu: local slots when run locally, requests on Kubernetes. */
export function resources(spec: ResourcesSpec) {
  for (const k of ['cpu', 'memory', 'gpu'] as const) positive('resources', k, spec[k]);
  return methodDecorator('resources', (m) => (m.resources = { ...m.resources, ...spec }));
}

/** Run this step as a Kubernetes pod (with `--with kubernetes`, or always with this decorator). */
export function kubernetes(spec: KubernetesSpec = {}) {
  for (const k of ['cpu', 'memory', 'gpu', 'disk', 'sharedMemory'] as const) positive('kubernetes', k, spec[k]);
  return methodDecorator('kubernetes', (m) => (m.kubernetes = { ...spec }));
}

export function retry(spec: RetrySpec = {}) {
  positive('retry', 'times', spec.times);
  positive('retry', 'minutesBetweenRetries', spec.minutesBetweenRetries);
  return methodDecorator('retry', (m) => (m.retry = { times: spec.times ?? 3, minutesBetweenRetries: spec.minutesBetweenRetries ?? 2 }));
}

export function timeout(spec: TimeoutSpec) {
  const seconds = (spec.seconds ?? 0) + 60 * (spec.minutes ?? 0) + 3600 * (spec.hours ?? 0);
  if (!(seconds > 0)) throw new FlowUsageError('@timeout needs seconds, minutes or hours > 0');
  return methodDecorator('timeout', (m) => (m.timeout = { seconds }));
}

export function catchErrors(spec: CatchSpec = {}) {
  return methodDecorator('catchErrors', (m) => (m.catch = { printException: true, ...spec }));
}

/** the card types flowbook has (src/cards/card-types.ts); other names are a project's own types */
export const CARD_TYPES = ['default', 'blank', 'timeline', 'resources'];
/** a project's own card type (found in its cards/ folder when the card renders) */
const CARD_TYPE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
/** a card id is its file name beside the task, so only these characters */
export const CARD_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function card(spec: CardSpec = {}) {
  if (spec.type !== undefined && !CARD_TYPES.includes(spec.type) && !CARD_TYPE_NAME.test(spec.type)) {
    throw new TypeError(`@card: type '${spec.type}' is not a card type name (built-in: ${CARD_TYPES.join(', ')}; your own: lowercase letters, digits, '-' or '_', defined in your project's cards/ folder)`);
  }
  if (spec.id !== undefined && !CARD_ID.test(spec.id)) throw new TypeError(`@card: id '${spec.id}' must be letters, digits, '_' or '-'`);
  // decorators apply bottom-up: unshift keeps the cards in source order
  return methodDecorator('card', (m) => void m.cards.unshift({ type: 'default', ...spec }));
}

export interface ScheduleSpec {
  cron?: string;
  hourly?: boolean;
  daily?: boolean;
  weekly?: boolean;
  timezone?: string;
}

/** Class decorator: when an exported workflow (Argo) should run. */
export function schedule(spec: ScheduleSpec) {
  return function <T extends abstract new (...a: any) => any>(cls: T, ctx: ClassDecoratorContext): T {
    if (ctx?.kind !== 'class') throw new FlowUsageError('@schedule goes on a flow class');
    Object.defineProperty(cls, FLOW_META, { value: { schedule: spec }, enumerable: false });
    return cls;
  };
}
