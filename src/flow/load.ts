// Load a flow module and find its FlowSpec class and steps: the bundle the runner prepared
// (prepare.ts: plain JavaScript, no hooks needed), or the .ts source through the TypeScript hooks
// (a pod, `show`, a flow that could not be bundled). A worker imports this file: it names nothing
// a task does not need (the graph parser loads only for loadFlowFile).
import fs from 'node:fs';
import path from 'node:path';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { FlowFileError, GraphError } from '../errors.js';
import { isFlowSpecClass, type FlowSpec } from './flowspec.js';
import { STEP_META, type StepMeta } from './decorators.js';
import { isParamSpec, type ParamSpec } from './params.js';
import type { FlowGraph } from './graph-types.js';

let hooksRegistered = false;

/** Register the TypeScript hooks once per process (from the built package, also under tests). */
export function registerTsHooks(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  process.setSourceMapsEnabled(true);
  let hooks = new URL('./loader-hooks.js', import.meta.url);
  if (!fs.existsSync(hooks)) hooks = new URL('../../dist/flow/loader-hooks.js', import.meta.url);
  register(hooks.href, import.meta.url);
}

export interface LoadedFlow {
  file: string;
  cls: new () => FlowSpec;
  name: string;
  steps: Map<string, StepMeta>;
  params: ParamSpec[];
}

const loaded = new Map<string, LoadedFlow>();

/**
 * The flow class of `file` (`className`: which, of a file with several). `prepared`: the bundle
 * prepareFlow() made of it, imported instead of the source (no TypeScript hooks in this process).
 */
export async function loadFlow(file: string, className?: string, prepared?: string): Promise<LoadedFlow> {
  const abs = path.resolve(file);
  const hit = loaded.get(abs);
  if (hit && (!className || hit.name === className)) return hit;
  if (!fs.existsSync(abs)) throw new FlowFileError(`flow file not found: ${file}`);
  if (prepared) process.setSourceMapsEnabled(true);
  else registerTsHooks();
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(prepared ?? abs).href);
  } catch (err: any) {
    throw new FlowFileError(`cannot load flow file ${file}: ${err?.message ?? err}`, { cause: err });
  }
  const classes = Object.values(mod).filter(isFlowSpecClass) as (new () => FlowSpec)[];
  if (!className && classes.length > 1) {
    throw new GraphError(`${file}: this file has ${classes.length} flow classes (${classes.map((c) => c.name).join(', ')}): pick one with --flow NAME`);
  }
  const cls = className ? classes.find((c) => c.name === className) : classes[0];
  if (!cls) {
    throw new GraphError(
      className
        ? `${file}: flow class ${className} is not exported (export class ${className} extends FlowSpec)`
        : `${file}: no exported class extends FlowSpec`,
    );
  }
  const flow: LoadedFlow = { file: abs, cls, name: cls.name, steps: collectSteps(cls), params: collectParams(cls) };
  loaded.set(abs, flow);
  return flow;
}

/**
 * What every command that takes a FILE does first: parse and check its graph, then load its
 * module. `flowName` (`--flow NAME`) picks the flow class of a file that has several; without it
 * such a file is refused, never run as its first class.
 */
export async function loadFlowFile(file: string, flowName?: string): Promise<{ graph: FlowGraph; flow: LoadedFlow }> {
  const { loadFlowGraph } = await import('./graph.js');
  const graph = await loadFlowGraph(file, flowName);
  return { graph, flow: await loadFlow(file, graph.flowName) };
}

function collectSteps(cls: Function): Map<string, StepMeta> {
  const steps = new Map<string, StepMeta>();
  for (let proto = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, key);
      const meta: StepMeta | undefined = typeof d?.value === 'function' ? d.value[STEP_META] : undefined;
      if (meta?.isStep && !steps.has(meta.name)) steps.set(meta.name, meta);
    }
  }
  return steps;
}

/** Parameters are found on a fresh instance: fields whose value is a ParamSpec. */
function collectParams(cls: new () => FlowSpec): ParamSpec[] {
  const inst = new cls() as any;
  const out: ParamSpec[] = [];
  for (const key of Object.keys(inst)) {
    if (isParamSpec(inst[key])) {
      inst[key].field = key;
      out.push(inst[key]);
    }
  }
  return out;
}
