// FlowSpec: the base class of a flow. Artifacts are plain fields; everything the runtime keeps
// per task lives under a symbol so it never collides with (or is saved as) an artifact.
import { FlowUsageError, MergeConflictError } from '../errors.js';
import { stepMeta, type StepMeta } from './decorators.js';
import type { ForeachFrame } from '../datastore/metadata.js';

export const TASK_STATE = Symbol.for('flowbook.taskState');
export const FLOWSPEC_MARK = Symbol.for('flowbook.FlowSpec');

export interface Transition {
  steps: string[];
  foreach?: string;
  condition?: string;
  /** for a switch: case value → step */
  cases?: Record<string, string>;
}

/** What a step sees of one of its inputs in a join: its artifacts, read lazily. */
export interface InputView {
  readonly stepName: string;
  readonly taskId: string;
  readonly pathspec: string;
  readonly index?: number;
  readonly [artifact: string]: any;
}

/** A join's `inputs`: an array of views in foreach/branch order, also named by step for static branches. */
export type Inputs = InputView[] & { readonly [step: string]: InputView | any };

/** Reads an artifact of one input task; the runtime provides it. */
export interface ArtifactSource {
  names(): string[];
  /** the content hash, to compare values across inputs without loading them */
  sha(name: string): string;
  load(name: string): unknown;
}

export interface TaskState {
  stepName: string;
  transition?: Transition;
  input?: unknown;
  hasInput: boolean;
  index?: number;
  foreachStack: ForeachFrame[];
  /** artifacts that came from the parent task(s) and their hashes, for mergeArtifacts */
  inputSources?: ArtifactSource[];
  /** names set by mergeArtifacts with their source hash (saved by reference, not re-serialized) */
  merged?: Map<string, { source: ArtifactSource; name: string }>;
}

type StepFn = (...args: any[]) => any;

function targetName(fn: unknown, where: string): string {
  if (typeof fn !== 'function') throw new FlowUsageError(`${where}: expected a step method like this.end, got ${typeof fn}`);
  const m = stepMeta(fn as StepFn) as StepMeta;
  if (!m.isStep) throw new FlowUsageError(`${where}: '${(fn as any).name}' is not a @step method`);
  return m.name;
}

// A function, not a getter: a getter named `state` would stop a flow from having that artifact.
function stateOf(flow: FlowSpec): TaskState {
  const s = (flow as any)[TASK_STATE] as TaskState | undefined;
  if (!s) throw new FlowUsageError('this flow instance is not running a step (run it with `flowbook run FILE`)');
  return s;
}

export abstract class FlowSpec {
  static readonly [FLOWSPEC_MARK] = true;

  /**
   * Say which step(s) run next: `this.next(this.a)`, `this.next(this.a, this.b)` (branches),
   * `this.next(this.a, { foreach: 'items' })`, `this.next({ x: this.a, y: this.b }, { condition: 'field' })`.
   */
  next(...args: any[]): void {
    const s = stateOf(this);
    if (s.transition) throw new FlowUsageError(`step '${s.stepName}' called this.next() more than once`);
    const last = args[args.length - 1];
    const opts = last && typeof last === 'object' && typeof last !== 'function' && ('foreach' in last || 'condition' in last) ? args.pop() : undefined;
    if (opts?.condition !== undefined) {
      const cases = args[0];
      if (args.length !== 1 || typeof cases !== 'object') {
        throw new FlowUsageError(`step '${s.stepName}': a switch is this.next({ caseA: this.a, caseB: this.b }, { condition: 'field' })`);
      }
      const map: Record<string, string> = {};
      for (const [k, fn] of Object.entries(cases)) map[k] = targetName(fn, `step '${s.stepName}' next()`);
      s.transition = { steps: [...new Set(Object.values(map))], condition: String(opts.condition), cases: map };
      return;
    }
    if (args.length === 0) throw new FlowUsageError(`step '${s.stepName}': this.next() needs at least one step`);
    const steps = args.map((fn) => targetName(fn, `step '${s.stepName}' next()`));
    if (opts?.foreach !== undefined) {
      if (steps.length !== 1) throw new FlowUsageError(`step '${s.stepName}': a foreach goes to exactly one step`);
      s.transition = { steps, foreach: String(opts.foreach) };
      return;
    }
    s.transition = { steps };
  }

  /** In a foreach task: the item of the list this task works on. */
  get input(): any {
    const s = stateOf(this);
    if (!s.hasInput) throw new FlowUsageError(`step '${s.stepName}' is not inside a foreach: this.input is undefined there`);
    return s.input;
  }

  /** In a foreach task: the index of this.input in the list. */
  get index(): number | undefined {
    return stateOf(this).index;
  }

  /** The foreach frames this task is nested in, outermost first. */
  foreachStack(): ForeachFrame[] {
    return stateOf(this).foreachStack.map((f) => ({ ...f }));
  }

  /**
   * In a join: take every artifact on which all inputs agree (or that only some inputs have).
   * Different values for the same name are an error unless the join set it itself or excluded it.
   */
  mergeArtifacts(inputs: Inputs, opts: { include?: string[]; exclude?: string[] } = {}): void {
    const s = stateOf(this);
    const sources = s.inputSources;
    if (!sources || (inputs as unknown) === undefined) {
      throw new FlowUsageError(`step '${s.stepName}': mergeArtifacts(inputs) is for join steps`);
    }
    const exclude = new Set(opts.exclude ?? []);
    const include = opts.include ? new Set(opts.include) : undefined;
    const all = new Map<string, ArtifactSource[]>();
    for (const src of sources) {
      for (const n of src.names()) {
        const list = all.get(n);
        if (list) list.push(src);
        else all.set(n, [src]);
      }
    }
    // an empty foreach has no input that could have set a name: only names that some input lacks are errors
    if (include && inputs.length > 0) {
      for (const n of include) if (!all.has(n)) throw new FlowUsageError(`step '${s.stepName}': mergeArtifacts include names '${n}', which no input has`);
    }
    const own = this as any;
    s.merged ??= new Map();
    for (const [name, srcs] of all) {
      if (exclude.has(name) || (include && !include.has(name))) continue;
      if (Object.prototype.hasOwnProperty.call(own, name) && own[name] !== undefined && !s.merged.has(name)) continue;
      const shas = new Set(srcs.map((x) => x.sha(name)));
      if (shas.size > 1) {
        throw new MergeConflictError(
          `step '${s.stepName}': inputs have different values for artifact '${name}'; set this.${name} in the join or pass exclude: ['${name}']`,
        );
      }
      const src = srcs[0];
      let cache: { v: unknown } | undefined;
      s.merged.set(name, { source: src, name });
      Object.defineProperty(own, name, {
        configurable: true,
        enumerable: true,
        get: () => (cache ??= { v: src.load(name) }).v,
        set: (v) => {
          s.merged!.delete(name);
          Object.defineProperty(own, name, { value: v, writable: true, enumerable: true, configurable: true });
        },
      });
    }
  }
}

export function isFlowSpecClass(v: unknown): v is new () => FlowSpec {
  return typeof v === 'function' && (v as any)[FLOWSPEC_MARK] === true && v !== (FlowSpec as unknown);
}
