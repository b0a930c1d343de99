// The controller's one-time validation of a Workflow (Argo's validate.ValidateWorkflow, the parts a
// generated DAG can trip): template references, task dependencies and cycles, inputs that no one
// supplies, and `{{…}}` variables that cannot resolve in their scope. An error fails the Workflow
// with "invalid spec: <message>" before any pod starts, as the real controller does.
import { dependsTasks, variables } from './expr.js';

const TYPES = ['container', 'containerSet', 'dag', 'data', 'http', 'plugin', 'resource', 'script', 'steps', 'suspend'];
const SUPPORTED = ['container', 'dag'];
const WORKFLOW_VARS = ['workflow.name', 'workflow.namespace', 'workflow.uid', 'workflow.creationTimestamp', 'workflow.status', 'workflow.failures', 'workflow.serviceAccountName', 'workflow.mainEntrypoint', 'workflow.duration', 'workflow.priority'];

/** The dependency names of a DAG task (legacy `dependencies` or the tasks named in `depends`). */
export function taskDeps(task: any): string[] {
  return task.depends ? dependsTasks(task.depends) : (task.dependencies ?? []);
}

const globalOk = (v: string, globals: Set<string>) =>
  WORKFLOW_VARS.includes(v) || /^workflow\.creationTimestamp\.[A-Za-z]+$/.test(v) || (v.startsWith('workflow.parameters.') && globals.has(v.slice('workflow.parameters.'.length)));

/** Returns the first validation error (without the "invalid spec: " prefix), or null. */
export function lintWorkflow(spec: any): string | null {
  try {
    lint(spec);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function lint(spec: any) {
  const templates = new Map<string, any>();
  for (const t of spec.templates ?? []) {
    if (templates.has(t.name)) throw new Error(`templates.${t.name} duplicate template name`);
    templates.set(t.name, t);
  }
  if (!spec.entrypoint) throw new Error('spec.entrypoint is required');
  if (!templates.has(spec.entrypoint)) throw new Error(`spec.entrypoint template '${spec.entrypoint}' not found`);
  if (spec.onExit && !templates.has(spec.onExit)) throw new Error(`spec.onExit template '${spec.onExit}' not found`);
  const globals = new Set<string>();
  for (const p of spec.arguments?.parameters ?? []) {
    if (p.value === undefined && p.valueFrom === undefined) throw new Error(`spec.arguments.${p.name}.value is required`);
    globals.add(p.name);
  }
  const inputNames = (t: any) => new Set<string>((t.inputs?.parameters ?? []).map((p: any) => p.name));
  for (const t of templates.values()) {
    const kinds = TYPES.filter((k) => t[k] !== undefined);
    if (kinds.length === 0) throw new Error(`templates.${t.name} template type unspecified. choose one of: ${TYPES.join(', ')}`);
    if (kinds.length > 1) throw new Error(`templates.${t.name} multiple template types specified: ${kinds.join(', ')}`);
    if (!SUPPORTED.includes(kinds[0])) throw new Error(`templates.${t.name}: ${kinds[0]} templates are not supported by the workflow-controller emulator`);
    const inputs = inputNames(t);
    if (t.container) {
      for (const o of t.outputs?.parameters ?? [])
        if (o.value === undefined && !o.valueFrom?.path) throw new Error(`templates.${t.name}.outputs.parameters.${o.name} valueFrom.path not specified (the only source the emulator supports)`);
      for (const o of t.outputs?.parameters ?? []) if (o.valueFrom?.path && !o.valueFrom.path.startsWith('/')) throw new Error(`templates.${t.name}.outputs.parameters.${o.name}: path must be absolute`);
      const { inputs: _i, name: _n, ...body } = t;
      for (const v of variables(body)) {
        if (v.startsWith('=')) throw new Error(`templates.${t.name}: expression templates {{${v}}} are not supported by the emulator`);
        const ok = globalOk(v, globals) || (v.startsWith('inputs.parameters.') && inputs.has(v.slice('inputs.parameters.'.length))) || v === 'pod.name' || (v === 'retries' && t.retryStrategy);
        if (!ok) throw new Error(`templates.${t.name}: failed to resolve {{${v}}}`);
      }
    }
    if (t.dag) lintDag(t, templates, globals, inputs);
  }
}

function lintDag(t: any, templates: Map<string, any>, globals: Set<string>, inputs: Set<string>) {
  const tasks: any[] = t.dag.tasks ?? [];
  const byName = new Map<string, any>();
  for (const task of tasks) {
    if (byName.has(task.name)) throw new Error(`templates.${t.name} duplicate task name: ${task.name}`);
    byName.set(task.name, task);
  }
  for (const task of tasks) {
    const where = `templates.${t.name}.tasks.${task.name}`;
    if (task.dependencies && task.depends) throw new Error(`${where} cannot use both 'depends' and 'dependencies' in the same DAG template`);
    if (!task.template) throw new Error(`${where} template name is required (templateRef and inline are not supported by the emulator)`);
    const target = templates.get(task.template);
    if (!target) throw new Error(`${where} template reference ${task.template} not found`);
    let deps: string[];
    try {
      deps = taskDeps(task);
    } catch (e) {
      throw new Error(`${where} ${(e as Error).message}`);
    }
    for (const d of deps) if (!byName.has(d)) throw new Error(`${where} dependency '${d}' not defined`);
    if (task.withParam !== undefined && task.withItems !== undefined) throw new Error(`${where} only one of withItems or withParam can be specified`);
    const supplied = new Set((task.arguments?.parameters ?? []).map((p: any) => p.name));
    for (const p of target.inputs?.parameters ?? [])
      if (!supplied.has(p.name) && p.value === undefined && p.default === undefined) throw new Error(`${where}.arguments.parameters.${p.name} was not supplied`);
  }
  // cycles, and the set of ancestors each task may read outputs from
  const ancestors = new Map<string, Set<string>>();
  const visit = (name: string, path: string[]): Set<string> => {
    if (path.includes(name)) throw new Error(`templates.${t.name} dependency cycle detected: ${[...path, name].join('->')}`);
    const done = ancestors.get(name);
    if (done) return done;
    const set = new Set<string>();
    for (const d of taskDeps(byName.get(name))) {
      set.add(d);
      for (const a of visit(d, [...path, name])) set.add(a);
    }
    ancestors.set(name, set);
    return set;
  };
  for (const task of tasks) visit(task.name, []);
  for (const task of tasks) {
    const where = `templates.${t.name}.tasks.${task.name}`;
    const looped = task.withParam !== undefined || task.withItems !== undefined;
    const { name: _n, template: _t, dependencies: _d, depends: _dp, ...fields } = task;
    for (const v of variables(fields)) {
      if (v.startsWith('=')) throw new Error(`${where}: expression templates {{${v}}} are not supported by the emulator`);
      const m = /^tasks\.([^.]+)\.(outputs\.parameters\.[^.]+|status|id|startedAt|finishedAt|exitCode)$/.exec(v);
      const ok =
        globalOk(v, globals) ||
        (v.startsWith('inputs.parameters.') && inputs.has(v.slice('inputs.parameters.'.length))) ||
        (looped && (v === 'item' || v.startsWith('item.'))) ||
        (m !== null && ancestors.get(task.name)!.has(m[1]) && (!m[2].startsWith('outputs.') || outputDeclared(templates.get(byName.get(m[1]).template), m[2])));
      if (!ok) throw new Error(`${where} failed to resolve {{${v}}}`);
    }
  }
}

const outputDeclared = (tmpl: any, ref: string) => (tmpl?.outputs?.parameters ?? []).some((p: any) => `outputs.parameters.${p.name}` === ref);
