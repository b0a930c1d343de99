// kube-scheduler, reduced to what a batch product meets: taints, nodeSelector, resource fit
// (requests against allocatable minus what unfinished pods on the node already requested), PVC
// existence, and the FailedScheduling message in the real scheduler's wording (reasons counted
// per node, sorted, then the preemption postscript). Pending pods are retried whenever capacity
// may have freed up (a pod finished or was deleted), as the real scheduling queue does.
import { parseQuantity } from './quantity.js';
import { Store, now } from './store.js';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}
export interface FakeNode {
  name: string;
  cpu: number;
  memoryMiB: number;
  gpu?: number;
  /** extra node labels (kubernetes.io/hostname is always set) */
  labels?: Record<string, string>;
  taints?: Taint[];
}

export function nodeLabels(n: FakeNode): Record<string, string> {
  return { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...(n.labels ?? {}) };
}

export function allocatable(n: FakeNode): Record<string, number> {
  return { cpu: n.cpu, memory: n.memoryMiB * 2 ** 20, 'nvidia.com/gpu': n.gpu ?? 0, pods: 110 };
}

/** A v1 Node object for GET /api/v1/nodes. */
export function nodeObject(n: FakeNode, uid: string, created: string): any {
  const cap: Record<string, string> = { cpu: String(n.cpu), memory: `${n.memoryMiB}Mi`, pods: '110' };
  if (n.gpu) cap['nvidia.com/gpu'] = String(n.gpu);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, uid, resourceVersion: '1', creationTimestamp: created, labels: nodeLabels(n) },
    spec: n.taints?.length ? { taints: n.taints } : {},
    status: {
      capacity: cap,
      allocatable: cap,
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: n.name }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: created, lastTransitionTime: created }],
    },
  };
}

/** Sum of the pod's container requests (the apiserver already defaulted requests from limits). */
export function podRequests(pod: any): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of pod.spec?.containers ?? []) {
    const req = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    for (const [k, v] of Object.entries(req)) out[k] = (out[k] ?? 0) + (parseQuantity(v) ?? 0);
  }
  return out;
}

const tolerates = (pod: any, t: Taint) =>
  (pod.spec?.tolerations ?? []).some(
    (tol: any) =>
      (!tol.effect || tol.effect === t.effect) &&
      (tol.operator === 'Exists' ? !tol.key || tol.key === t.key : tol.key === t.key && (tol.value ?? '') === (t.value ?? '')),
  );

const terminal = (p: any) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export class Scheduler {
  private pending = false;
  constructor(
    private store: Store,
    private nodes: FakeNode[],
    private pvcs: Record<string, string>,
  ) {}

  /** Coalesce triggers: one scheduling pass per tick, after the change that caused it is stored. */
  kick() {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.schedulePass();
    });
  }

  private used(nodeName: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.store.list('pods')) {
      if (p.spec.nodeName !== nodeName || terminal(p)) continue;
      for (const [k, v] of Object.entries(podRequests(p))) out[k] = (out[k] ?? 0) + v;
    }
    return out;
  }

  private schedulePass() {
    for (const pod of this.store.list('pods')) {
      if (pod.spec.nodeName || pod.metadata.deletionTimestamp || terminal(pod)) continue;
      const { node, message } = this.fit(pod);
      const { namespace, name } = pod.metadata;
      this.store.update('pods', namespace, name, (p) => {
        const conds: any[] = (p.status.conditions ??= []);
        const i = conds.findIndex((c) => c.type === 'PodScheduled');
        const cond = node
          ? { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() }
          : { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: now(), reason: 'Unschedulable', message };
        if (i >= 0 && !node && conds[i].message === message) return; // unchanged: no write, no event
        if (i >= 0) conds[i] = cond;
        else conds.push(cond);
        if (node) p.spec.nodeName = node;
      });
    }
  }

  /** The node the pod goes to, or the FailedScheduling message. */
  fit(pod: any): { node?: string; message?: string } {
    const n = this.nodes.length;
    const suffix = (why: string) => `preemption: 0/${n} nodes are available: ${why}`;
    for (const v of pod.spec.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim && !(`${pod.metadata.namespace}/${claim}` in this.pvcs))
        return { message: `0/${n} nodes are available: persistentvolumeclaim "${claim}" not found. ${suffix(`${n} Preemption is not helpful for scheduling.`)}` };
    }
    const reasons = new Map<string, number>();
    let resourceOnly = 0;
    const count = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
    const req = podRequests(pod);
    const candidates: { name: string; free: number }[] = [];
    for (const node of this.nodes) {
      const taint = (node.taints ?? []).find((t) => t.effect !== 'PreferNoSchedule' && !tolerates(pod, t));
      if (taint) {
        count(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
        continue;
      }
      const labels = nodeLabels(node);
      if (Object.entries(pod.spec.nodeSelector ?? {}).some(([k, v]) => labels[k] !== v)) {
        count("node(s) didn't match Pod's node affinity/selector");
        continue;
      }
      const alloc = allocatable(node);
      const used = this.used(node.name);
      const short = Object.entries(req).filter(([k, v]) => v > 0 && (alloc[k] ?? 0) - (used[k] ?? 0) < v - 1e-9);
      if (short.length) {
        for (const [k] of short) count(`Insufficient ${k}`);
        resourceOnly++;
        continue;
      }
      candidates.push({ name: node.name, free: (alloc.cpu - (used.cpu ?? 0)) / alloc.cpu });
    }
    if (candidates.length) {
      // LeastAllocated-like scoring: spread onto the emptiest node; ties go to the first listed
      candidates.sort((a, b) => b.free - a.free);
      return { node: candidates[0].name };
    }
    const parts = [...reasons].map(([r, c]) => `${c} ${r}`).sort();
    const post = [resourceOnly ? `${resourceOnly} No preemption victims found for incoming pod` : '', n - resourceOnly ? `${n - resourceOnly} Preemption is not helpful for scheduling` : '']
      .filter(Boolean)
      .sort()
      .join(', ');
    return { message: `0/${n} nodes are available: ${parts.join(', ')}. ${suffix(post + '.')}` };
  }
}
