// An Argo workflow-controller for the fake Kubernetes cluster (test/doubles/kubernetes): it polls the double's
// Workflows through the REST API, resolves workflowTemplateRef, lints the spec, runs it (run.ts) and
// writes labels and `status` back with optimistic concurrency, as the real controller does. Pods are
// created through the API (so the Pod schema/validation applies and the kubelet emulator runs them).
// Output parameters are captured like `argoexec emissary` does: the container runs under
// argoexec.sh with a private bind mount over each output directory (see there).
//
// Differences from real Argo: no init/wait sidecars (one container, `main`), the container needs an
// explicit command (no image entrypoint lookup), retry back-offs are capped at 2 s, and every API call
// carries User-Agent `argo-workflow-controller-emulator` so tests can tell them from the product's.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeCluster } from '../kubernetes/cluster.js';
import { lintWorkflow } from './lint.js';
import { type PodResult, WorkflowRun, now } from './run.js';

export const USER_AGENT = 'argo-workflow-controller-emulator';
const ARGOEXEC = fileURLToPath(new URL('./argoexec.sh', import.meta.url));
const API = '/apis/argoproj.io/v1alpha1';
const L = { template: 'workflows.argoproj.io/workflow-template', phase: 'workflows.argoproj.io/phase', completed: 'workflows.argoproj.io/completed', workflow: 'workflows.argoproj.io/workflow' };

export interface ArgoControllerOptions {
  /** watch only this namespace (default: all) */
  namespace?: string;
  /** poll interval for Workflows and pods, ms (default 100) */
  pollMs?: number;
  /** don't use mount namespaces even if they work: pods with output parameters then run one at a time */
  noMountNamespace?: boolean;
}
export interface ArgoController {
  /** how concurrent pods' output files are kept apart */
  isolation: 'mount-namespace' | 'serial';
  /** internal failures (a refused status write, a bug): tests should expect this to stay empty */
  errors: string[];
  /** resolves with the Workflow once it is labelled completed */
  waitForWorkflow(name: string, opts?: { namespace?: string; timeoutMs?: number }): Promise<any>;
  /** what the cron controller does when a schedule fires: a Workflow from the CronWorkflow's workflowSpec; resolves with its name */
  fireCronWorkflow(name: string, namespace?: string): Promise<string>;
  close(): Promise<void>;
}

/** Probe once: can this process give a child its own mount namespace and bind-mount there? */
function mountNamespacesWork(): boolean {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-probe-'));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-probe-'));
  try {
    fs.writeFileSync(path.join(a, 'x'), 'ok');
    return execFileSync('unshare', ['-m', 'sh', '-c', `mount --bind '${a}' '${b}' && cat '${b}/x'`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString() === 'ok';
  } catch {
    return false;
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
}

class Mutex {
  private tail = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.tail.then(fn);
    this.tail = r.then(
      () => undefined,
      () => undefined,
    );
    return r;
  }
}

export async function startArgoController(cluster: FakeCluster, opts: ArgoControllerOptions = {}): Promise<ArgoController> {
  const token = /token: (\S+)/.exec(fs.readFileSync(cluster.kubeconfigPath, 'utf8'))?.[1] ?? '';
  const pollMs = opts.pollMs ?? 100;
  const isolation = !opts.noMountNamespace && mountNamespacesWork() ? 'mount-namespace' : 'serial';
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-controller-'));
  const serial = new Mutex();
  const errors: string[] = [];
  const runs = new Map<string, { stopped: boolean }>(); // by Workflow uid
  const podWaiters = new Map<string, (pod: any | undefined) => void>(); // "ns/name" → called every poll
  let closed = false;

  async function api(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(cluster.url + p, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'User-Agent': USER_AGENT, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  }

  function start(wf: any) {
    const state = { stopped: false };
    runs.set(wf.metadata.uid, state);
    const ns = wf.metadata.namespace;
    const name = wf.metadata.name;
    const labels: Record<string, string> = {};
    const annotations: Record<string, string> = {};
    let status: any = {};
    let run: WorkflowRun | undefined;
    let writing: Promise<void> | undefined;
    let dirty = false;

    async function write() {
      for (let attempt = 0; attempt < 10; attempt++) {
        const cur = await api('GET', `${API}/namespaces/${ns}/workflows/${name}`);
        if (cur.status === 404) return void (state.stopped = true);
        const o = cur.body;
        o.metadata.labels = { ...(o.metadata.labels ?? {}), ...labels };
        o.metadata.annotations = { ...(o.metadata.annotations ?? {}), ...annotations };
        if (Object.keys(o.metadata.annotations).length === 0) delete o.metadata.annotations;
        const nodes = run ? structuredClone(run.nodes) : undefined;
        const pods = nodes ? Object.values(nodes).filter((n: any) => n.type === 'Pod') : [];
        o.status = { ...status, ...(nodes ? { nodes, progress: `${pods.filter((n: any) => n.phase === 'Succeeded').length}/${pods.length}` } : {}) };
        const r = await api('PUT', `${API}/namespaces/${ns}/workflows/${name}`, o);
        if (r.status === 409) continue;
        if (r.status === 404) return void (state.stopped = true);
        if (r.status >= 300) errors.push(`status write for ${ns}/${name} refused (${r.status}): ${r.body?.message}`);
        return;
      }
      errors.push(`status write for ${ns}/${name}: too many conflicts`);
    }
    const changed = () => {
      dirty = true;
      writing ??= (async () => {
        while (dirty && !closed) {
          dirty = false;
          await write().catch((e) => errors.push(String(e)));
        }
        writing = undefined;
      })();
    };
    const flush = async () => {
      changed();
      while (writing) await writing;
    };
    const end = async (phase: string, message?: string) => {
      status = { ...status, phase, startedAt: status.startedAt ?? now(), finishedAt: now(), ...(message ? { message } : {}) };
      labels[L.phase] = phase;
      labels[L.completed] = 'true';
      await flush();
    };

    void (async () => {
      let spec = wf.spec ?? {};
      const ref = spec.workflowTemplateRef?.name;
      if (ref) {
        labels[L.template] = ref;
        const t = await api('GET', `${API}/namespaces/${ns}/workflowtemplates/${ref}`);
        if (t.status !== 200) return end('Error', t.body?.message ?? `workflowtemplates.argoproj.io "${ref}" not found`);
        const ts = t.body.spec ?? {};
        // the Workflow's own fields win; its arguments override the template's defaults by name
        const params = new Map<string, any>((ts.arguments?.parameters ?? []).map((p: any) => [p.name, p]));
        for (const p of spec.arguments?.parameters ?? []) params.set(p.name, { ...(params.get(p.name) ?? {}), ...p });
        spec = { ...ts, ...spec, arguments: { ...(ts.arguments ?? {}), ...(spec.arguments ?? {}), parameters: [...params.values()] } };
        Object.assign(labels, ts.workflowMetadata?.labels ?? {});
        Object.assign(annotations, ts.workflowMetadata?.annotations ?? {});
      }
      const invalid = lintWorkflow(spec);
      // the real controller marks an invalid Workflow Failed (markWorkflowFailed), not Error
      if (invalid) return end('Failed', `invalid spec: ${invalid}`);
      status = { phase: 'Running', startedAt: now() };
      labels[L.phase] = 'Running';
      run = new WorkflowRun(wf, spec, { runPod: (req) => runPod(wf, spec, req, () => changed()), changed, stopped: () => state.stopped || closed });
      changed();
      const r = await run.execute();
      await end(r.phase, r.message);
    })().catch((e) => {
      errors.push(`workflow ${ns}/${name}: ${e?.stack ?? e}`);
      void end('Error', String(e?.message ?? e)).catch(() => undefined);
    });
  }

  async function runPod(wf: any, spec: any, req: { podName: string; node: any; template: any }, changed: () => void): Promise<PodResult> {
    const t = req.template;
    const outs: any[] = (t.outputs?.parameters ?? []).filter((p: any) => p.valueFrom?.path);
    if (outs.length && isolation === 'serial') return serial.run(() => podOnce(wf, spec, req, changed, outs));
    return podOnce(wf, spec, req, changed, outs);
  }

  async function podOnce(wf: any, spec: any, { podName, node, template: t }: { podName: string; node: any; template: any }, changed: () => void, outs: any[]): Promise<PodResult> {
    const ns = wf.metadata.namespace;
    const c = t.container;
    if (!c.command?.length) return { phase: 'Error', message: 'container.command is required by the emulator (it cannot read an image entrypoint)' };
    const dirs = [...new Set(outs.map((p) => path.dirname(p.valueFrom.path)))];
    const hostRoot = path.join(workDir, podName);
    const hostDir = (d: string) => (isolation === 'serial' ? d : path.join(hostRoot, String(dirs.indexOf(d))));
    let command: string[] = c.command;
    if (outs.length && isolation === 'mount-namespace') command = ['/bin/sh', ARGOEXEC, ...dirs.flatMap((d) => [hostDir(d), d]), '--', ...c.command];
    if (isolation === 'serial') for (const p of outs) fs.rmSync(p.valueFrom.path, { force: true });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        // spec.podMetadata applies to every pod, the template's metadata on top
        labels: { ...(spec.podMetadata?.labels ?? {}), ...(t.metadata?.labels ?? {}), [L.workflow]: wf.metadata.name, [L.completed]: 'false' },
        annotations: { ...(spec.podMetadata?.annotations ?? {}), ...(t.metadata?.annotations ?? {}), 'workflows.argoproj.io/node-name': node.name, 'workflows.argoproj.io/node-id': node.id },
        ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name: wf.metadata.name, uid: wf.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        restartPolicy: 'Never',
        containers: [{ ...c, name: 'main', command }],
        ...pick({ nodeSelector: t.nodeSelector ?? spec.nodeSelector, tolerations: t.tolerations ?? spec.tolerations, affinity: t.affinity ?? spec.affinity, volumes: [...(spec.volumes ?? []), ...(t.volumes ?? [])], serviceAccountName: t.serviceAccountName ?? spec.serviceAccountName, securityContext: t.securityContext ?? spec.securityContext, priorityClassName: t.priorityClassName ?? spec.priorityClassName }),
        ...(t.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: Number(t.activeDeadlineSeconds) } : {}),
      },
    };
    const created = await api('POST', `/api/v1/namespaces/${ns}/pods`, pod);
    if (created.status !== 201 && created.status !== 409) return { phase: 'Error', message: created.body?.message ?? `pod create failed (${created.status})` };
    const final = await new Promise<any>((resolve) => {
      podWaiters.set(`${ns}/${podName}`, (p) => {
        if (!p || closed || ['Succeeded', 'Failed'].includes(p.status?.phase)) {
          podWaiters.delete(`${ns}/${podName}`);
          return resolve(p);
        }
        const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
        const phase = p.status?.phase === 'Running' ? 'Running' : 'Pending';
        const message = waiting && waiting.reason !== 'ContainerCreating' ? `${waiting.reason}: ${waiting.message ?? ''}`.trim() : undefined;
        if (node.phase !== phase || node.message !== message) {
          node.phase = phase;
          if (message) node.message = message;
          else delete node.message;
          changed();
        }
      });
    });
    try {
      if (!final) return { phase: 'Error', message: closed ? 'controller closed' : 'pod deleted' };
      if (final.status.phase === 'Failed') {
        const term = final.status.containerStatuses?.[0]?.state?.terminated;
        const message = final.status.message ?? (term ? (term.reason === 'StartError' ? term.message : `${term.reason} (exit code ${term.exitCode})`) : 'pod failed');
        return { phase: 'Failed', message };
      }
      const outputs: { name: string; value: string }[] = [];
      for (const p of outs) {
        const file = isolation === 'serial' ? p.valueFrom.path : path.join(hostDir(path.dirname(p.valueFrom.path)), path.basename(p.valueFrom.path));
        try {
          // argoexec trims surrounding whitespace (echo's newline) from a parameter file
          outputs.push({ name: p.name, value: fs.readFileSync(file, 'utf8').trim() });
        } catch {
          if (p.valueFrom.default === undefined) return { phase: 'Failed', message: `open ${p.valueFrom.path}: no such file or directory` };
          outputs.push({ name: p.name, value: String(p.valueFrom.default) });
        }
      }
      for (const p of t.outputs?.parameters ?? []) if (p.value !== undefined && !p.valueFrom) outputs.push({ name: p.name, value: String(p.value) });
      return { phase: 'Succeeded', outputs };
    } finally {
      fs.rmSync(hostRoot, { recursive: true, force: true });
      if (isolation === 'serial') for (const p of outs) fs.rmSync(p.valueFrom.path, { force: true });
    }
  }

  let busy = false;
  async function tick() {
    if (busy || closed) return;
    busy = true;
    try {
      const list = await api('GET', opts.namespace ? `${API}/namespaces/${opts.namespace}/workflows` : `${API}/workflows`);
      const seen = new Set<string>();
      for (const wf of list.body?.items ?? []) {
        seen.add(wf.metadata.uid);
        // a Workflow with a phase was handled before (or by someone else): leave it alone
        if (!runs.has(wf.metadata.uid) && !wf.status?.phase) start(wf);
      }
      for (const [uid, s] of runs) if (!seen.has(uid)) s.stopped = true;
      if (podWaiters.size) {
        const pods = await api('GET', `/api/v1/pods?labelSelector=${encodeURIComponent(L.workflow)}`);
        const byKey = new Map<string, any>((pods.body?.items ?? []).map((p: any) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
        for (const [k, fn] of [...podWaiters]) fn(byKey.get(k));
      }
    } catch (e) {
      if (!closed) errors.push(`poll: ${e}`);
    } finally {
      busy = false;
    }
  }
  const timer = setInterval(() => void tick(), pollMs);
  await tick();

  return {
    isolation,
    errors,
    async waitForWorkflow(name, o = {}) {
      const end = Date.now() + (o.timeoutMs ?? 30_000);
      for (;;) {
        const wf = cluster.customObjects('workflows', o.namespace ?? 'default').find((w) => w.metadata.name === name);
        if (wf?.metadata.labels?.[L.completed] === 'true') return wf;
        if (Date.now() > end) throw new Error(`workflow ${name} did not complete; status: ${JSON.stringify(wf?.status ?? null).slice(0, 2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async fireCronWorkflow(name, ns = 'default') {
      const cron = await api('GET', `${API}/namespaces/${ns}/cronworkflows/${name}`);
      if (cron.status !== 200) throw new Error(cron.body?.message ?? `cronworkflow ${name}: ${cron.status}`);
      const c = cron.body;
      const md = c.spec.workflowMetadata ?? {};
      const wf = {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Workflow',
        // the real cron controller names runs <cron>-<unix time of the schedule>
        metadata: {
          name: `${name}-${Math.floor(Date.now() / 1000)}`,
          labels: { ...(md.labels ?? {}), 'workflows.argoproj.io/cron-workflow': name },
          annotations: { ...(md.annotations ?? {}), 'workflows.argoproj.io/scheduled-time': now() },
          ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'CronWorkflow', name, uid: c.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
        spec: c.spec.workflowSpec,
      };
      const r = await api('POST', `${API}/namespaces/${ns}/workflows`, wf);
      if (r.status !== 201) throw new Error(r.body?.message ?? `workflow create: ${r.status}`);
      return r.body.metadata.name;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      for (const fn of [...podWaiters.values()]) fn(undefined);
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** Drop undefined and empty-list fields (the Pod schema rejects nulls). */
function pick(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}
