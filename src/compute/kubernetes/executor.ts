// Runs task attempts as Kubernetes Jobs: submit, follow the run's pods with one Watch (not
// polling), stream each pod's log into the run's output, and turn what the cluster says into the
// task's result within seconds — unschedulable, image pull errors, OOM kills, evictions and
// deadlines included. A pod that stays Pending fails its task after FLOWBOOK_KUBERNETES_PENDING_TIMEOUT
// seconds (default 600). On failure or interrupt the run's Jobs are deleted.
import { PassThrough } from 'node:stream';
import type { BatchV1Api, KubeConfig, V1Job, V1Pod } from '@kubernetes/client-node';
import type { FlowDatastore } from '../../datastore/store.js';
import { pathspecOf, type TaskResult, type TaskSpec } from '../../runtime/task-spec.js';
import type { OutputSink } from '../local-worker.js';
import { buildJob, LABEL } from './job.js';
import { loadKubeConfig, k8sApi, explainApiError } from './client.js';
import type { ResolvedKubernetes } from './options.js';
import { podVerdict } from './pod-status.js';

interface Active {
  name: string;
  namespace: string;
  spec: Omit<TaskSpec, 'worker'>;
  k8s: ResolvedKubernetes;
  pod?: string;
  /** the last thing Kubernetes said while the pod waited (ContainerCreating, Pending …) */
  waiting: string;
  logging?: Promise<void>;
  log: string;
  pendingTimer?: NodeJS.Timeout;
  settle: (r: TaskResult) => void;
  settled: boolean;
  /** the pod has finished and its result is being read: later events (deletion by TTL…) change nothing */
  completing?: boolean;
}

export class KubernetesExecutor {
  private kc: KubeConfig;
  private batch!: BatchV1Api;
  private core!: import('@kubernetes/client-node').CoreV1Api;
  private api!: typeof import('@kubernetes/client-node');
  private active = new Map<string, Active>();
  private watches = new Map<string, AbortController | 'starting'>();
  private closed = false;
  readonly pendingTimeoutMs: number;

  private constructor(
    kc: KubeConfig,
    private runId: string,
    private store: FlowDatastore,
    private sink: OutputSink,
  ) {
    this.kc = kc;
    this.pendingTimeoutMs = 1000 * (Number(process.env.FLOWBOOK_KUBERNETES_PENDING_TIMEOUT) || 600);
  }

  /** Connect to the cluster of the current kubeconfig context (KUBECONFIG, ~/.kube/config, in-cluster). */
  static async connect(runId: string, store: FlowDatastore, sink: OutputSink): Promise<KubernetesExecutor> {
    const api = await k8sApi();
    const ex = new KubernetesExecutor(loadKubeConfig(api), runId, store, sink);
    ex.api = api;
    ex.batch = ex.kc.makeApiClient(api.BatchV1Api);
    ex.core = ex.kc.makeApiClient(api.CoreV1Api);
    return ex;
  }

  /** every pod of this run */
  private get selector(): string {
    return `${LABEL.app}=flowbook,${LABEL.run}=${this.runId}`;
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '?';
  }

  /** One attempt of one task as a Job; resolves when it has finished, ok or not. */
  async run(spec: Omit<TaskSpec, 'worker'>, k8s: ResolvedKubernetes, timeoutSeconds?: number): Promise<TaskResult> {
    const job: V1Job = buildJob({ spec, k8s, timeoutSeconds });
    const name = job.metadata!.name!;
    const pathspec = pathspecOf(spec);
    await this.ensureWatch(k8s.namespace);
    const done = new Promise<TaskResult>((resolve) => {
      const a: Active = { name, namespace: k8s.namespace, spec, k8s, log: '', waiting: 'not created yet', settled: false, settle: resolve };
      this.active.set(name, a);
      a.pendingTimer = setTimeout(() => {
        void this.finish(a, lost(pathspec, 'PodPending', `the pod did not start within ${this.pendingTimeoutMs / 1000} s (FLOWBOOK_KUBERNETES_PENDING_TIMEOUT); last state: ${a.waiting}`));
      }, this.pendingTimeoutMs);
    });
    try {
      await this.batch.createNamespacedJob({ namespace: k8s.namespace, body: job });
    } catch (err) {
      const a = this.active.get(name)!;
      await this.finish(a, lost(pathspec, 'KubernetesError', explainApiError(err, `cannot create Job ${name}`, this.server).message), false);
    }
    return done;
  }

  /** Watch every pod of this run in a namespace (one stream for all its tasks). */
  private async ensureWatch(namespace: string): Promise<void> {
    if (this.watches.has(namespace) || this.closed) return;
    this.watches.set(namespace, 'starting');
    const restart = (err?: any) => {
      this.watches.delete(namespace);
      if (err?.statusCode >= 400) {
        // refused (401/403/404): watching again would fail the same way; fail the waiting tasks now
        const why = explainApiError({ code: err.statusCode, message: err.message }, 'cannot watch pods', this.server).message;
        for (const a of [...this.active.values()].filter((x) => x.namespace === namespace)) {
          void this.finish(a, lost(pathspecOf(a.spec), 'KubernetesError', why));
        }
        return;
      }
      // the server closes watches from time to time: catch up with a listing, then watch again
      if (!this.closed && this.active.size) setTimeout(() => void this.resync(namespace).then(() => this.ensureWatch(namespace)), 500);
    };
    try {
      const ctl = await new this.api.Watch(this.kc).watch(
        `/api/v1/namespaces/${namespace}/pods`,
        { labelSelector: this.selector, allowWatchBookmarks: false },
        (type: string, pod: V1Pod) => this.onPod(type, pod),
        (err: unknown) => restart(err),
      );
      this.watches.set(namespace, ctl);
    } catch (err) {
      this.watches.delete(namespace);
      throw explainApiError(err, 'cannot watch pods', this.server);
    }
  }

  private async resync(namespace: string): Promise<void> {
    const list = await this.core.listNamespacedPod({ namespace, labelSelector: this.selector }).catch(() => undefined);
    for (const pod of list?.items ?? []) this.onPod('MODIFIED', pod);
  }

  private onPod(type: string, pod: V1Pod): void {
    const jobName = pod.metadata?.labels?.['job-name'];
    const a = jobName ? this.active.get(jobName) : undefined;
    if (!a || a.settled || a.completing) return;
    const pathspec = pathspecOf(a.spec);
    if (type === 'DELETED') return void this.finish(a, lost(pathspec, 'PodDeleted', `the pod ${pod.metadata?.name} was deleted before it finished`));
    a.pod = pod.metadata?.name;
    const v = podVerdict(pod, a.k8s);
    if (v.state === 'waiting') {
      a.waiting = v.note ?? 'Pending';
      return;
    }
    if (v.state === 'running' || v.state === 'succeeded' || v.state === 'task-failed' || (v.state === 'lost' && pod.status?.containerStatuses?.[0]?.state?.terminated)) {
      if (a.pendingTimer) clearTimeout(a.pendingTimer);
      a.logging ??= this.followLog(a);
    }
    if (v.state === 'running') return;
    if (v.state === 'lost') return void this.finish(a, lost(pathspec, v.type, v.message));
    a.completing = true;
    void this.complete(a, pathspec, v.state === 'succeeded');
  }

  /** Stream the pod's log (its lines already carry the [run/step/task] prefix) into the run's output. */
  private async followLog(a: Active): Promise<void> {
    const out = new PassThrough();
    out.setEncoding('utf8');
    out.on('data', (c: string) => {
      a.log += c;
      this.sink('stdout', c);
    });
    const ended = new Promise<void>((r) => out.once('end', r).once('close', r).once('error', () => r()));
    try {
      await new this.api.Log(this.kc).log(a.namespace, a.pod!, 'step', out, { follow: true });
      await ended;
    } catch {
      // logs are a convenience here; the task's own logs are in the datastore
    }
  }

  /** The pod finished: read what the task recorded in the datastore. */
  private async complete(a: Active, pathspec: string, podOk: boolean): Promise<void> {
    // let the log stream drain, but never wait long for it
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([a.logging, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    const { runId, step, taskId, attempt } = a.spec;
    const key = this.store.outcomeKey(runId, step, taskId, attempt);
    const outcome = await this.store.backend
      .get(key)
      .then((b) => this.store.parseMetadata<TaskResult>(key, b, (v) => typeof v?.ok === 'boolean' && Array.isArray(v.records)))
      .catch(() => undefined);
    if (podOk) {
      if (outcome?.ok) return this.finish(a, { ...outcome, pathspec }, false);
      return this.finish(a, lost(pathspec, 'PodFailed', `the pod ${a.pod} exited 0 but the task reported no outcome (${this.store.displayPath(key)})`));
    }
    if (outcome && !outcome.ok && outcome.error) return this.finish(a, { ...outcome, pathspec });
    const last = a.log.split('\n').filter((l) => /\berror:/.test(l)).at(-1)?.replace(/^.*?\berror:\s*/, '');
    this.finish(a, lost(pathspec, 'PodFailed', `the pod ${a.pod} failed before the task could record why${last ? `: ${last}` : ''}`));
  }

  private finish(a: Active, r: TaskResult, deleteJob = !r.ok): Promise<void> {
    if (a.settled) return Promise.resolve();
    a.settled = true;
    if (a.pendingTimer) clearTimeout(a.pendingTimer);
    this.active.delete(a.name);
    // a pod that cannot run would wait forever (ImagePullBackOff, Unschedulable): remove its Job
    const cleanup = deleteJob ? this.deleteJob(a.name, a.namespace) : Promise.resolve();
    return cleanup.then(async () => {
      // the pod could not upload its logs: keep what the runner saw of them
      if (r.lost && a.log) await this.saveLog(a).catch(() => {});
      a.settle(r);
    });
  }

  private async saveLog(a: Active): Promise<void> {
    const { runId, step, taskId, attempt } = a.spec;
    const key = this.store.logKey(runId, step, taskId, attempt, 'stdout');
    if (await this.store.backend.exists(key)) return;
    const prefix = /^\[[^\]]*\] ?/;
    await this.store.backend.put(key, a.log.split('\n').map((l) => l.replace(prefix, '')).join('\n'));
  }

  private async deleteJob(name: string, namespace: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
    } catch (err: any) {
      if (err?.code !== 404) this.sink('stderr', `warning: could not delete Job ${namespace}/${name}: ${explainApiError(err, 'delete', this.server).message}\n`);
    }
  }

  /** Delete every Job still running for this run (Ctrl-C, SIGTERM, a failed task). */
  async killAll(): Promise<void> {
    const all = [...this.active.values()];
    // each task settles only once its Job is deleted, so the runner exits after the deletions
    await Promise.all(all.map((a) => this.finish(a, lost(pathspecOf(a.spec), 'Interrupted', 'the run was stopped: its Job was deleted'), true)));
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) if (w !== 'starting') w.abort();
    this.watches.clear();
  }
}

const lost = (pathspec: string, type: string, message: string): TaskResult => ({ ok: false, lost: true, pathspec, error: { type, message } });
