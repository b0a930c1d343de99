// One Workflow's execution, as Argo's workflow-controller performs it, written as an async
// interpreter instead of a reconcile loop: the entrypoint template, DAG scheduling (depends /
// dependencies, when, withParam / withItems fan-out, failFast), retries, the onExit handler, and the
// `status.nodes` tree a real controller writes (names, ids, types, phases, messages, outputs).
// Pods are delegated to the host (controller.ts), which creates them through the API double.
import { type TaskResult, evalDepends, evalWhen, legacyDepends, substitute } from './expr.js';
import { taskDeps } from './lint.js';

export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const COMPLETED = ['Succeeded', 'Failed', 'Error'];
const FULFILLED = [...COMPLETED, 'Skipped', 'Omitted'];

export interface PodResult {
  phase: 'Succeeded' | 'Failed' | 'Error';
  message?: string;
  outputs?: { name: string; value: string }[];
}
export interface Host {
  /** run one container template (already substituted) as pod `podName`; resolves when it ends */
  runPod(req: { podName: string; node: any; template: any }): Promise<PodResult>;
  /** the node tree changed: persist status (coalesced by the host) */
  changed(): void;
  /** the Workflow was deleted or the controller is closing */
  stopped(): boolean;
}

/** Argo's FNV-1a 32-bit hash, used for node ids and pod names. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
/** POD_NAMES=v2: <workflow>-<template>-<hash of node name>, the prefix cut so the name stays ≤ 63. */
export const podNameFor = (wf: string, nodeName: string, tmpl: string) => `${`${wf}-${tmpl}`.slice(0, 63 - 11).replace(/[-.]+$/, '')}-${fnv32a(nodeName)}`;

/** Argo aggregates a TaskGroup's outputs: a JSON list, of parsed values when all are JSON objects/lists. */
function aggregate(values: string[]): string {
  const parsed = values.map((v) => {
    try {
      const x = JSON.parse(v);
      return x && typeof x === 'object' ? x : undefined;
    } catch {
      return undefined;
    }
  });
  return JSON.stringify(parsed.every((x) => x !== undefined) ? parsed : values);
}

class Semaphore {
  private waiting: (() => void)[] = [];
  private active = 0;
  constructor(private limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function durationMs(d: unknown): number {
  if (typeof d === 'number') return d * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(d ?? '0'));
  if (!m) return 0;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
}

export class WorkflowRun {
  readonly nodes: Record<string, any> = {};
  readonly globals: Record<string, string>;
  private templates = new Map<string, any>();
  private pods: Semaphore;
  private name: string;

  constructor(
    private wf: any,
    private spec: any,
    private host: Host,
  ) {
    this.name = wf.metadata.name;
    for (const t of spec.templates ?? []) this.templates.set(t.name, t);
    const created = wf.metadata.creationTimestamp;
    this.globals = {
      'workflow.name': this.name,
      'workflow.namespace': wf.metadata.namespace,
      'workflow.uid': wf.metadata.uid,
      'workflow.creationTimestamp': created,
      'workflow.serviceAccountName': spec.serviceAccountName ?? 'default',
      'workflow.mainEntrypoint': spec.entrypoint,
    };
    for (const p of spec.arguments?.parameters ?? []) this.globals[`workflow.parameters.${p.name}`] = String(p.value);
    this.pods = new Semaphore(spec.parallelism ?? Infinity);
  }

  private node(name: string, displayName: string, type: string, templateName: string | undefined, boundaryID: string | undefined, parents: any[], phase = 'Running', message?: string) {
    const id = name === this.name ? name : `${this.name}-${fnv32a(name)}`;
    const n: any = { id, name, displayName, type, phase, startedAt: now(), ...(templateName ? { templateName, templateScope: 'local/' } : {}), ...(boundaryID ? { boundaryID } : {}) };
    if (message) n.message = message;
    if (!['Running', 'Pending'].includes(phase)) n.finishedAt = n.startedAt;
    for (const p of parents) (p.children ??= []).includes(id) || p.children.push(id);
    this.nodes[id] = n;
    this.host.changed();
    return n;
  }
  private finish(n: any, phase: string, message?: string) {
    n.phase = phase;
    n.finishedAt = now();
    if (message) n.message = message;
    else delete n.message;
    this.host.changed();
    return n;
  }

  /** Entrypoint, then the exit handler; returns the Workflow's final phase and message. */
  async execute(): Promise<{ phase: string; message?: string }> {
    const entry = await this.execTemplate(this.name, this.name, this.spec.entrypoint, this.spec.arguments?.parameters ?? [], undefined, []);
    const mapped: Record<string, string> = { Succeeded: 'Succeeded', Skipped: 'Succeeded', Omitted: 'Succeeded', Failed: 'Failed', Error: 'Error' };
    const status = mapped[entry.phase] ?? 'Error';
    if (this.spec.onExit && !this.host.stopped()) {
      this.globals['workflow.status'] = status;
      const failures = Object.values(this.nodes)
        .filter((n) => n.phase === 'Failed' || n.phase === 'Error')
        .map((n) => ({ displayName: n.displayName, message: n.message ?? '', templateName: n.templateName ?? '', phase: n.phase, podName: n.type === 'Pod' ? podNameFor(this.name, n.name, n.templateName) : '', finishedAt: n.finishedAt }));
      this.globals['workflow.failures'] = JSON.stringify(failures);
      const exit = await this.execTemplate(`${this.name}.onExit`, `${this.name}.onExit`, this.spec.onExit, [], undefined, []);
      // a failed exit handler turns a succeeded workflow into a failed one (operator.go)
      if (status === 'Succeeded' && (exit.phase === 'Failed' || exit.phase === 'Error')) return { phase: exit.phase, message: exit.message };
    }
    return { phase: status, message: status === 'Succeeded' ? undefined : entry.message };
  }

  /** Run template `tmplName` as node `name`; `onNode` sees the node as soon as it exists. */
  async execTemplate(name: string, display: string, tmplName: string, args: any[], boundaryID: string | undefined, parents: any[], onNode?: (n: any) => void): Promise<any> {
    const tmpl = this.templates.get(tmplName)!;
    const inputs: { name: string; value: string }[] = [];
    let missing: string | undefined;
    for (const p of tmpl.inputs?.parameters ?? []) {
      const v = args.find((a) => a.name === p.name)?.value ?? p.value ?? p.default;
      if (v === undefined) missing ??= `inputs.parameters.${p.name} was not supplied`;
      else inputs.push({ name: p.name, value: String(v) });
    }
    const type = tmpl.dag ? 'DAG' : tmpl.retryStrategy ? 'Retry' : 'Pod';
    const n = this.node(name, display, type, tmplName, boundaryID, parents, missing ? 'Error' : type === 'Pod' ? 'Pending' : 'Running', missing);
    if (inputs.length) n.inputs = { parameters: inputs };
    onNode?.(n);
    if (missing) return n;
    const scope: Record<string, string> = { ...this.globals, ...Object.fromEntries(inputs.map((p) => [`inputs.parameters.${p.name}`, p.value])) };
    if (tmpl.dag) await this.execDag(n, tmpl, scope);
    else if (tmpl.retryStrategy) await this.execRetry(n, tmpl, scope, boundaryID);
    else await this.execPod(n, tmpl, scope, 0);
    return n;
  }

  private async execRetry(n: any, tmpl: any, scope: Record<string, string>, boundaryID: string | undefined) {
    const rs = tmpl.retryStrategy;
    const limit = rs.limit === undefined ? Infinity : Number(rs.limit);
    const policy = rs.retryPolicy ?? 'OnFailure';
    let last: any;
    for (let i = 0; ; i++) {
      last = this.node(`${n.name}(${i})`, `${n.displayName}(${i})`, 'Pod', tmpl.name, boundaryID, [n], 'Pending');
      await this.execPod(last, tmpl, scope, i);
      const retryable = (last.phase === 'Failed' && policy !== 'OnError') || (last.phase === 'Error' && policy !== 'OnFailure');
      if (last.phase === 'Succeeded' || !retryable || i >= limit || this.host.stopped()) break;
      // Argo waits duration * factor^i (capped by maxDuration); the emulator caps every wait at 2 s
      const b = rs.backoff ?? {};
      const wait = Math.min(durationMs(b.duration) * Number(b.factor ?? 1) ** i, b.maxDuration ? durationMs(b.maxDuration) : Infinity, 2000);
      await sleep(wait);
    }
    if (last.outputs) n.outputs = last.outputs;
    this.finish(n, last.phase, last.phase === 'Succeeded' ? undefined : last.message);
  }

  private async execPod(n: any, tmpl: any, scope: Record<string, string>, retries: number) {
    const podName = podNameFor(this.name, n.name, tmpl.name);
    const unresolved = new Set<string>();
    const { inputs: _i, ...body } = tmpl;
    const template = substitute(body, { ...scope, retries: String(retries), 'pod.name': podName }, unresolved);
    if (unresolved.size) return this.finish(n, 'Error', `failed to resolve {{${[...unresolved][0]}}}`);
    if (this.host.stopped()) return this.finish(n, 'Error', 'workflow stopped');
    const r = await this.pods.run(() => this.host.runPod({ podName, node: n, template }));
    if (r.outputs?.length) n.outputs = { parameters: r.outputs };
    this.finish(n, r.phase, r.message);
  }

  private async execDag(dagNode: any, tmpl: any, scope: Record<string, string>) {
    const tasks: any[] = tmpl.dag.tasks ?? [];
    const byName = new Map(tasks.map((t) => [t.name, t]));
    const failFast = tmpl.dag.failFast !== false;
    const taskNodes = new Map<string, any>();
    const started = new Set<string>(); // a task may wait for `parallelism` before its node exists
    const running = new Set<Promise<unknown>>();
    const limit = new Semaphore(tmpl.parallelism ?? Infinity);
    const continues = (task: any, phase: string) => (phase === 'Failed' && task.continueOn?.failed) || (phase === 'Error' && task.continueOn?.error);
    const results = (): Record<string, TaskResult> =>
      Object.fromEntries([...taskNodes].map(([t, n]) => [t, { phase: n.phase, children: n.type === 'TaskGroup' ? (n.children ?? []).map((c: string) => this.nodes[c].phase) : undefined }]));
    for (;;) {
      let progressed = false;
      const failed = [...taskNodes].some(([t, n]) => (n.phase === 'Failed' || n.phase === 'Error') && !continues(byName.get(t), n.phase));
      for (const task of tasks) {
        if (started.has(task.name) || this.host.stopped()) continue;
        const deps = taskDeps(task);
        if (deps.some((d) => !FULFILLED.includes(taskNodes.get(d)?.phase))) continue;
        // failFast (the default): once a task failed, no new task starts; running ones finish
        if (failFast && failed) continue;
        // Argo links a dependent to the expanded children of a TaskGroup, not to the group itself
        const linkTo = (p: any) => (p.type === 'TaskGroup' ? (p.children ?? []).map((c: string) => this.nodes[c]) : [p]);
        const parents = deps.length ? deps.flatMap((d) => linkTo(taskNodes.get(d))) : [dagNode];
        const name = `${dagNode.name}.${task.name}`;
        progressed = true;
        started.add(task.name);
        let go = true;
        try {
          if (deps.length) go = evalDepends(task.depends ?? legacyDepends(task.dependencies ?? [], (d) => byName.get(d).continueOn), results());
        } catch (e) {
          taskNodes.set(task.name, this.node(name, task.name, 'Skipped', task.template, dagNode.id, parents, 'Error', (e as Error).message));
          continue;
        }
        if (deps.length && !go) {
          taskNodes.set(task.name, this.node(name, task.name, 'Skipped', task.template, dagNode.id, parents, 'Omitted', 'omitted: depends condition not met'));
          continue;
        }
        const register = (n: any) => taskNodes.set(task.name, n);
        const p = this.runTask(task, name, dagNode, parents, { ...scope, ...this.taskScope(taskNodes) }, limit, register)
          .catch((e) => {
            // a bug in the emulator shows up as an Error node, not as a hung DAG
            const msg = String(e?.message ?? e);
            const n = taskNodes.get(task.name);
            if (n) this.finish(n, 'Error', msg);
            else register(this.node(name, task.name, 'Skipped', task.template, dagNode.id, parents, 'Error', msg));
          })
          .finally(() => running.delete(p));
        running.add(p);
      }
      if (!progressed) {
        if (running.size === 0) break;
        await Promise.race(running);
      }
    }
    // Argo's assessDAGPhase: walk each branch; a leaf whose branch last completed as Failed/Error fails
    // the DAG (Skipped/Omitted nodes inherit the phase of the branch above them).
    const memo = new Map<string, string[]>();
    const branch = (t: string): string[] => {
      if (memo.has(t)) return memo.get(t)!;
      const n = taskNodes.get(t);
      const own = COMPLETED.includes(n.phase) ? [continues(byName.get(t), n.phase) ? 'Succeeded' : n.phase] : undefined;
      const deps = taskDeps(byName.get(t)).filter((d) => taskNodes.has(d));
      const v = own ?? (deps.length ? [...new Set(deps.flatMap(branch))] : ['Succeeded']);
      memo.set(t, v);
      return v;
    };
    const leaves = [...taskNodes.keys()].filter((t) => !tasks.some((x) => taskNodes.has(x.name) && taskDeps(x).includes(t)));
    const bad = leaves.filter((t) => branch(t).some((p) => p === 'Failed' || p === 'Error'));
    if (this.host.stopped() && taskNodes.size < tasks.length) return this.finish(dagNode, 'Error', 'workflow stopped');
    if (bad.length === 0) return this.finish(dagNode, 'Succeeded');
    const phase = bad.some((t) => branch(t).includes('Failed')) ? 'Failed' : 'Error';
    const culprit = [...taskNodes.values()].find((n) => n.phase === 'Failed' || n.phase === 'Error') ?? taskNodes.get(bad[0]);
    this.finish(dagNode, phase, `child '${culprit.id}' failed`);
  }

  /** `tasks.X.*` variables from the finished tasks of a DAG (TaskGroups aggregated as Argo does). */
  private taskScope(taskNodes: Map<string, any>): Record<string, string> {
    const s: Record<string, string> = {};
    for (const [t, n] of taskNodes) {
      s[`tasks.${t}.status`] = n.phase;
      s[`tasks.${t}.id`] = n.id;
      if (n.startedAt) s[`tasks.${t}.startedAt`] = n.startedAt;
      if (n.finishedAt) s[`tasks.${t}.finishedAt`] = n.finishedAt;
      if (n.type === 'TaskGroup') {
        const kids = (n.children ?? []).map((c: string) => this.nodes[c]).filter((k: any) => k.outputs?.parameters);
        const names = new Set<string>(kids.flatMap((k: any) => k.outputs.parameters.map((p: any) => p.name)));
        for (const p of names) s[`tasks.${t}.outputs.parameters.${p}`] = aggregate(kids.flatMap((k: any) => k.outputs.parameters.filter((x: any) => x.name === p).map((x: any) => x.value)));
        s[`tasks.${t}.outputs.parameters`] = JSON.stringify(kids.map((k: any) => Object.fromEntries(k.outputs.parameters.map((x: any) => [x.name, x.value]))));
      } else for (const p of n.outputs?.parameters ?? []) s[`tasks.${t}.outputs.parameters.${p.name}`] = p.value;
    }
    return s;
  }

  private async runTask(task: any, name: string, dagNode: any, parents: any[], scope: Record<string, string>, limit: Semaphore, register: (n: any) => void) {
    const unresolved = new Set<string>();
    const error = (msg: string) => register(this.node(name, task.name, 'Skipped', task.template, dagNode.id, parents, 'Error', msg));
    if (task.when !== undefined) {
      const when = substitute(String(task.when), scope, unresolved);
      if (unresolved.size) return error(`failed to resolve {{${[...unresolved][0]}}}`);
      let ok: boolean;
      try {
        ok = evalWhen(when);
      } catch (e) {
        return error((e as Error).message);
      }
      if (!ok) return register(this.node(name, task.name, 'Skipped', task.template, dagNode.id, parents, 'Skipped', `when '${when}' evaluated false`));
    }
    let items: unknown[] | undefined = task.withItems;
    if (task.withParam !== undefined) {
      const raw = substitute(String(task.withParam), scope, unresolved);
      if (unresolved.size) return error(`failed to resolve {{${[...unresolved][0]}}}`);
      try {
        items = JSON.parse(raw);
      } catch {
        items = undefined;
      }
      if (!Array.isArray(items)) return error(`withParam value could not be parsed as a JSON list: ${raw}`);
    }
    const argsFor = (s: Record<string, string>) => substitute(task.arguments?.parameters ?? [], s, unresolved);
    if (!items) {
      const args = argsFor(scope);
      if (unresolved.size) return error(`failed to resolve {{${[...unresolved][0]}}}`);
      return limit.run(() => this.execTemplate(name, task.name, task.template, args, dagNode.id, parents, register));
    }
    if (items.length === 0) return register(this.node(name, task.name, 'Skipped', task.template, dagNode.id, parents, 'Skipped', 'Skipped, empty params'));
    const group = this.node(name, task.name, 'TaskGroup', task.template, dagNode.id, parents);
    register(group);
    const runs = items.map((item, i) => {
      const obj = item !== null && typeof item === 'object';
      const itemScope: Record<string, string> = { item: obj ? JSON.stringify(item) : String(item) };
      if (obj) for (const [k, v] of Object.entries(item as object)) itemScope[`item.${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
      const label = obj ? Object.entries(item as object).map(([k, v]) => `${k}:${typeof v === 'string' ? v : JSON.stringify(v)}`).join(',') : String(item);
      const args = argsFor({ ...scope, ...itemScope });
      const childName = `${name}(${i}:${label})`;
      if (unresolved.size) return Promise.resolve(this.node(childName, `${task.name}(${i}:${label})`, 'Skipped', task.template, dagNode.id, [group], 'Error', `failed to resolve {{${[...unresolved][0]}}}`));
      return limit.run(() => this.execTemplate(childName, `${task.name}(${i}:${label})`, task.template, args, dagNode.id, [group]));
    });
    const kids = await Promise.all(runs);
    const failed = kids.find((k) => k.phase === 'Failed' || k.phase === 'Error');
    this.finish(group, failed ? (kids.some((k) => k.phase === 'Failed') ? 'Failed' : 'Error') : 'Succeeded', failed ? `child '${failed.id}' failed` : undefined);
  }
}
