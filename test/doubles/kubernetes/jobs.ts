// kube-controller-manager's part: the Job controller (pods from the template, success/failure
// accounting, backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished) and the garbage
// collector's cascading deletes. Conditions follow Kubernetes ≥ 1.31: FailureTarget/SuccessCriteriaMet
// first, and the terminal Failed/Complete only once no pod of the job is still running.
import { DEFAULT_GRACE_SECONDS, type Kubelet } from './kubelet.js';
import { type Store, type StoreEvent, now } from './store.js';
import { generateName } from './validate.js';

export type Propagation = 'Orphan' | 'Background' | 'Foreground';
const terminal = (p: any) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const has = (conds: any[] | undefined, type: string) => (conds ?? []).some((c: any) => c.type === type && c.status === 'True');

export function qosClass(spec: any): string {
  const cs: any[] = spec.containers ?? [];
  const any = cs.some((c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((c) =>
    ['cpu', 'memory'].every((r) => c.resources?.limits?.[r] !== undefined && String(c.resources?.requests?.[r] ?? c.resources.limits[r]) === String(c.resources.limits[r])),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export class JobController {
  private queue = new Set<string>();
  private counted = new Map<string, Set<string>>(); // job uid → terminal pod uids already in status
  private timers = new Map<string, NodeJS.Timeout>(); // job uid → deadline / ttl / backoff wake-up
  private nextCreate = new Map<string, number>(); // job uid → earliest time for a replacement pod
  // when the job started, in ms: status.startTime has second precision, which would make a 1 s deadline fire at random
  private started = new Map<string, number>();
  private removed = new Map<string, any[]>(); // job uid → its pods deleted before being counted
  private closed = false;

  constructor(
    private store: Store,
    private kubelet: Kubelet,
  ) {}

  observe(e: StoreEvent) {
    if (e.kind === 'jobs') this.enqueue(e.object.metadata.namespace, e.object.metadata.name);
    else {
      const owner = (e.object.metadata.ownerReferences ?? []).find((r: any) => r.kind === 'Job' && r.controller);
      if (!owner) return;
      // a pod removed before it was counted still counts (job-tracking finalizers do this for real):
      // as failed unless it had succeeded
      if (e.type === 'DELETED' && !this.counted.get(owner.uid)?.has(e.object.metadata.uid)) {
        const list = this.removed.get(owner.uid) ?? [];
        this.removed.set(owner.uid, [...list, e.object]);
      }
      this.enqueue(e.object.metadata.namespace, owner.name);
    }
  }

  private enqueue(ns: string, name: string) {
    if (this.closed) return;
    if (this.queue.size === 0) setImmediate(() => this.drain());
    this.queue.add(`${ns}/${name}`);
  }
  private drain() {
    const keys = [...this.queue];
    this.queue.clear();
    for (const k of keys) {
      const [ns, name] = k.split('/');
      if (!this.closed) this.reconcile(ns, name);
    }
  }
  private wakeAt(job: any, ms: number) {
    const uid = job.metadata.uid;
    clearTimeout(this.timers.get(uid));
    const t = setTimeout(() => this.enqueue(job.metadata.namespace, job.metadata.name), Math.max(0, ms));
    this.timers.set(uid, t);
  }

  private ownedPods(job: any): any[] {
    return this.store.list('pods', job.metadata.namespace).filter((p) => (p.metadata.ownerReferences ?? []).some((r: any) => r.uid === job.metadata.uid));
  }

  private reconcile(ns: string, name: string) {
    const job = this.store.get('jobs', ns, name);
    if (!job) return;
    const uid = job.metadata.uid;
    const pods = this.ownedPods(job);
    if (job.metadata.deletionTimestamp) {
      // foreground deletion: the owner goes once its dependents are gone
      if (pods.length === 0) this.store.remove('jobs', ns, name);
      return;
    }
    const st = job.status ?? {};
    if (has(st.conditions, 'Complete') || has(st.conditions, 'Failed')) {
      this.removed.delete(uid);
      const ttl = job.spec.ttlSecondsAfterFinished;
      if (ttl !== undefined && !this.timers.has(uid)) {
        const fin = (st.conditions ?? []).find((c: any) => c.type === 'Complete' || c.type === 'Failed');
        const at = Date.parse(st.completionTime ?? fin?.lastTransitionTime ?? now()) + ttl * 1000;
        const t = setTimeout(() => this.deleteJob(ns, name, 'Background'), Math.max(0, at - Date.now()));
        this.timers.set(uid, t);
      }
      return;
    }
    const counted = this.counted.get(uid) ?? new Set<string>();
    this.counted.set(uid, counted);
    let succeeded = st.succeeded ?? 0;
    let failed = st.failed ?? 0;
    const removed = this.removed.get(uid) ?? [];
    this.removed.delete(uid);
    for (const p of [...pods.filter(terminal), ...removed]) {
      if (counted.has(p.metadata.uid)) continue;
      counted.add(p.metadata.uid);
      if (p.status?.phase === 'Succeeded') succeeded++;
      // a replacement for a failed pod waits a little (the real controller waits 10 s, doubling)
      else this.nextCreate.set(uid, Date.now() + Math.min(100 * 2 ** failed++, 1000));
    }
    const active = pods.filter((p) => !terminal(p) && !p.metadata.deletionTimestamp);
    const terminating = pods.filter((p) => !terminal(p) && p.metadata.deletionTimestamp);
    const conds: any[] = [...(st.conditions ?? [])];
    const addCond = (type: string, reason: string, message: string) =>
      conds.push({ type, status: 'True', lastProbeTime: now(), lastTransitionTime: now(), reason, message });
    const startTime = st.startTime ?? now();
    const spec = job.spec;
    if (!has(conds, 'FailureTarget') && !has(conds, 'SuccessCriteriaMet') && !spec.suspend) {
      // OnFailure pods restart in place; their restarts count against backoffLimit too
      const restarts = pods.reduce((s, p) => s + (p.status?.containerStatuses ?? []).reduce((a: number, c: any) => a + (c.restartCount ?? 0), 0), 0);
      if (!this.started.has(uid)) this.started.set(uid, st.startTime ? Date.parse(st.startTime) : Date.now());
      const elapsed = (Date.now() - this.started.get(uid)!) / 1000;
      if (failed + restarts > spec.backoffLimit) {
        addCond('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
        for (const p of active) this.deletePod(ns, p.metadata.name);
      } else if (spec.activeDeadlineSeconds !== undefined && elapsed >= spec.activeDeadlineSeconds) {
        addCond('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline');
        const override = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
        for (const p of active) {
          if (this.kubelet.has(ns, p.metadata.name)) void this.kubelet.kill(ns, p.metadata.name, { graceSeconds: DEFAULT_GRACE_SECONDS, override });
          else this.deletePod(ns, p.metadata.name); // not started on a node yet: simply removed
        }
      } else if (succeeded >= spec.completions) {
        addCond('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods');
        for (const p of active) this.deletePod(ns, p.metadata.name);
      } else {
        const want = Math.min(spec.parallelism, spec.completions - succeeded) - active.length - terminating.length;
        const notBefore = this.nextCreate.get(uid) ?? 0;
        if (want > 0 && Date.now() < notBefore) this.wakeAt(job, notBefore - Date.now());
        else for (let i = 0; i < want; i++) active.push(this.createPod(job));
        if (spec.activeDeadlineSeconds !== undefined) this.wakeAt(job, (spec.activeDeadlineSeconds - elapsed) * 1000);
      }
    }
    // pods removed just above (deletePod of an unstarted pod) are no longer running
    const stillRunning = active.filter((p) => this.store.has('pods', ns, p.metadata.name) && !terminal(this.store.get('pods', ns, p.metadata.name))).length + terminating.length;
    const failure = conds.find((c) => c.type === 'FailureTarget');
    if (failure && stillRunning === 0 && !has(conds, 'Failed')) addCond('Failed', failure.reason, failure.message);
    if (has(conds, 'SuccessCriteriaMet') && stillRunning === 0 && !has(conds, 'Complete')) addCond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods');
    const ready = active.filter((p) => (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
    this.store.update('jobs', ns, name, (j) => {
      const s: any = { conditions: conds.length ? conds : undefined, startTime, active: active.length || undefined, ready, terminating: terminating.length };
      s.succeeded = succeeded || undefined;
      s.failed = failed || undefined;
      if (has(conds, 'Complete')) s.completionTime = j.status?.completionTime ?? now();
      s.uncountedTerminatedPods = {};
      j.status = JSON.parse(JSON.stringify(s));
    });
    if (has(conds, 'Complete') || has(conds, 'Failed')) {
      clearTimeout(this.timers.get(uid));
      this.timers.delete(uid);
      this.enqueue(ns, name); // arm the TTL, if any
    }
  }

  private createPod(job: any): any {
    const t = job.spec.template;
    let name = generateName(`${job.metadata.name}-`);
    while (this.store.has('pods', job.metadata.namespace, name)) name = generateName(`${job.metadata.name}-`);
    const spec = structuredClone(t.spec);
    spec.serviceAccountName ??= 'default';
    spec.serviceAccount ??= spec.serviceAccountName;
    spec.enableServiceLinks ??= true;
    spec.priority ??= 0;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
    // admission adds these (DefaultTolerationSeconds)
    spec.tolerations = [
      ...(spec.tolerations ?? []),
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ];
    return this.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        generateName: `${job.metadata.name}-`,
        namespace: job.metadata.namespace,
        labels: { ...(t.metadata?.labels ?? {}) },
        ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec,
      status: { phase: 'Pending', qosClass: qosClass(spec) },
    });
  }

  /**
   * Graceful pod deletion: deletionTimestamp set (MODIFIED), SIGTERM, SIGKILL after the grace
   * period, then removal (DELETED). Unscheduled or finished pods go at once, as the apiserver does.
   */
  deletePod(ns: string, name: string, graceSeconds?: number): any | undefined {
    const pod = this.store.get('pods', ns, name);
    if (!pod) return undefined;
    if (pod.metadata.deletionTimestamp) return pod;
    if (!pod.spec.nodeName || terminal(pod) || !this.kubelet.has(ns, name)) {
      const gone = this.store.remove('pods', ns, name);
      this.kubelet.forget(ns, name);
      return gone;
    }
    const grace = graceSeconds ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    const updated = this.store.update('pods', ns, name, (p) => {
      p.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      p.metadata.deletionGracePeriodSeconds = grace;
    });
    void this.kubelet.kill(ns, name, { graceSeconds: grace }).then(() => {
      this.store.remove('pods', ns, name);
      this.kubelet.forget(ns, name);
    });
    return updated;
  }

  /** DELETE on a Job, with the garbage collector's cascade. Returns the job as last stored. */
  deleteJob(ns: string, name: string, policy: Propagation, graceSeconds?: number): any | undefined {
    const job = this.store.get('jobs', ns, name);
    if (!job) return undefined;
    const pods = this.ownedPods(job);
    clearTimeout(this.timers.get(job.metadata.uid));
    this.timers.delete(job.metadata.uid);
    if (policy === 'Foreground') {
      const updated = this.store.update('jobs', ns, name, (j) => {
        j.metadata.deletionTimestamp ??= now();
        j.metadata.deletionGracePeriodSeconds = 0;
        j.metadata.finalizers = [...new Set([...(j.metadata.finalizers ?? []), 'foregroundDeletion'])];
      });
      for (const p of pods) this.deletePod(ns, p.metadata.name, graceSeconds);
      this.enqueue(ns, name);
      return updated;
    }
    const gone = this.store.remove('jobs', ns, name);
    for (const p of pods) {
      if (policy === 'Background') this.deletePod(ns, p.metadata.name, graceSeconds);
      else
        this.store.update('pods', ns, p.metadata.name, (x) => {
          x.metadata.ownerReferences = x.metadata.ownerReferences.filter((r: any) => r.uid !== job.metadata.uid);
          if (x.metadata.ownerReferences.length === 0) delete x.metadata.ownerReferences;
        });
    }
    return gone;
  }

  close() {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
