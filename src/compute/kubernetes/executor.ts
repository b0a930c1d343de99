// Runs task attempts as Kubernetes Jobs: submit, follow the run's pods with one Watch (not
// polling), stream each pod's log into the run's output, and turn what the cluster says into the
// task's result within seconds — unschedulable, image pull errors, OOM kills, evictions and
// deadlines included. A pod that stays Pending fails its task after FLOWBOOK_KUBERNETES_PENDING_TIMEOUT
// seconds (default 600). On failure or interrupt the run's Jobs are deleted.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchV1Api, KubeConfig, V1Job, V1Pod } from '@kubernetes/client-node';
import type { FlowDatastore } from '../../datastore/store.js';
import type { RunMeta } from '../../datastore/metadata.js';
import { pathspecOf, type TaskResult, type TaskSpec } from '../task/spec.js';
import type { Executor, OutputSink, StepTerms } from '../executor.js';
import type { CodePackageRef } from '../code-package.js';
import { buildJob, LABEL } from './job.js';
import { loadKubeConfig, k8sApi, explainApiError, isRefusal, refusal, describeNetError } from './client.js';
import type { ResolvedKubernetes } from './options.js';
import { podVerdict } from './pod-status.js';
import { followPodLog } from './pod-log.js';
import { LIST_TIMEOUT_MS, NOTICE_MS, lost, until, type Active, type WatchState } from './active-task.js';

export class KubernetesExecutor implements Executor {
  readonly name = 'pods';
  private kc?: KubeConfig;
  private batch!: BatchV1Api;
  private core!: import('@kubernetes/client-node').CoreV1Api;
  private api!: typeof import('@kubernetes/client-node');
  private runId = '';
  private active = new Map<string, Active>();
  private watches = new Map<string, WatchState>();
  private closed = false;
  readonly pendingTimeoutMs: number;
  /** how long the API may be unreachable before the waiting tasks fail */
  readonly apiTimeoutMs: number;

  /** `steps`: what each step that runs as pods asks of Kubernetes; `code`: the flow's uploaded code package */
  constructor(
    private steps: ReadonlyMap<string, ResolvedKubernetes>,
    private code: CodePackageRef & { uploadedBytes: number; files: number },
    private store: FlowDatastore,
    private sink: OutputSink,
  ) {
    this.pendingTimeoutMs = 1000 * (Number(process.env.FLOWBOOK_KUBERNETES_PENDING_TIMEOUT) || 600);
    this.apiTimeoutMs = 1000 * (Number(process.env.FLOWBOOK_KUBERNETES_API_TIMEOUT) || 300);
  }

  /** Connect to the cluster of the current kubeconfig context (KUBECONFIG, ~/.kube/config, in-cluster). */
  async prepare(run: RunMeta): Promise<string> {
    const api = await k8sApi();
    this.kc = loadKubeConfig(api);
    this.api = api;
    this.batch = this.kc.makeApiClient(api.BatchV1Api);
    this.core = this.kc.makeApiClient(api.CoreV1Api);
    this.runId = run.runId;
    const c = this.code;
    return `Kubernetes ${this.server}: ${[...this.steps.keys()].join(', ')} run as pods; code package ${c.sha.slice(0, 12)} (${c.files} files, ${c.uploadedBytes} bytes uploaded)`;
  }

  /** A pod holds no local cores or memory (--max-workers still caps how many run at once); it gets no secret in its spec. */
  terms(step: string): StepTerms {
    const k = this.k8sOf(step);
    return { slot: { cpu: 0, memory: 0, gpu: 0 }, resources: { cpu: k.cpu, memory: k.memory, gpu: k.gpu }, secretsInSpec: false, codePackage: { sha: this.code.sha, flowPath: this.code.flowPath } };
  }

  private k8sOf(step: string): ResolvedKubernetes {
    const k = this.steps.get(step);
    if (!k) throw new Error(`step '${step}' does not run as pods in this run`);
    return k;
  }

  /** every pod of this run */
  private get selector(): string {
    return `${LABEL.app}=flowbook,${LABEL.run}=${this.runId}`;
  }

  get server(): string {
    return this.kc?.getCurrentCluster()?.server ?? '?';
  }

  /** One attempt of one task as a Job; resolves when it has finished, ok or not. */
  async run(spec: Omit<TaskSpec, 'worker'>, timeoutSeconds?: number): Promise<TaskResult> {
    const k8s = this.k8sOf(spec.step);
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
    const failed = await this.createJob(job, k8s.namespace);
    if (failed) await this.finish(this.active.get(name)!, lost(pathspec, failed.type, failed.message), false);
    return done;
  }

  /**
   * Create the Job; while the API cannot be reached, try again with backoff up to
   * FLOWBOOK_KUBERNETES_API_TIMEOUT (a 409 then means an earlier try did create it). What went
   * wrong, or undefined when it is created.
   */
  private async createJob(job: V1Job, namespace: string): Promise<{ type: string; message: string } | undefined> {
    const name = job.metadata!.name!;
    const t0 = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.batch.createNamespacedJob({ namespace, body: job });
        return undefined;
      } catch (err: any) {
        if (attempt > 0 && err?.code === 409) return undefined;
        // an HTTP answer (the API is there): asking again would get the same
        if (typeof err?.code === 'number') return { type: 'KubernetesError', message: explainApiError(err, `cannot create Job ${name}`, this.server).message };
        if (this.closed || Date.now() - t0 >= this.apiTimeoutMs) {
          return { type: 'KubernetesUnreachable', message: `cannot create Job ${name}: the Kubernetes API at ${this.server} was unreachable for ${Math.round((Date.now() - t0) / 1000)} s (FLOWBOOK_KUBERNETES_API_TIMEOUT): ${describeNetError(err)}; resume the run once it is back` };
        }
        if (attempt % 5 === 0) this.sink('stderr', `Kubernetes API unreachable for ${Math.round((Date.now() - t0) / 1000)} s, retrying the creation of Job ${name} (${describeNetError(err)})\n`);
        await sleep(Math.min(500 * 2 ** attempt, 10_000));
      }
    }
  }

  /** Watch every pod of this run in a namespace (one stream for all its tasks). A refusal throws. */
  private async ensureWatch(namespace: string): Promise<void> {
    if (this.watches.has(namespace) || this.closed) return;
    const w: WatchState = { attempt: 0 };
    this.watches.set(namespace, w);
    const first = await this.openWatch(namespace, w);
    if (first) {
      this.watches.delete(namespace);
      throw refusal(first, 'watch', 'pods', namespace, this.server);
    }
  }

  /**
   * Open the pod watch. Resolves with the error when the server refused it at once (an HTTP
   * 4xx); any later end of the stream — the server closing it, the connection dropping —
   * reconnects (reconnect()).
   */
  private async openWatch(namespace: string, w: WatchState): Promise<any | undefined> {
    let ended = false;
    let opening = true;
    let refused: any;
    const onEnd = (err: any) => {
      if (ended) return;
      ended = true;
      w.ctl = undefined;
      if (this.closed) return;
      // refused while opening: the caller says so; later, the waiting tasks fail with why
      if (isRefusal(err) && opening) refused = err;
      else if (isRefusal(err)) this.refuse(namespace, refusal(err, 'watch', 'pods', namespace, this.server));
      else void this.reconnect(namespace, w, err ?? undefined);
    };
    try {
      const ctl = await new this.api.Watch(this.kc!).watch(
        `/api/v1/namespaces/${namespace}/pods`,
        { labelSelector: this.selector, allowWatchBookmarks: false },
        (type: string, pod: V1Pod) => this.onPod(type, pod),
        onEnd,
      );
      if (!ended) w.ctl = ctl;
    } catch (err) {
      onEnd(err);
    }
    opening = false;
    return refused;
  }

  /**
   * The watch ended: catch up with a listing, then watch again. While the API cannot be
   * reached, retry with backoff (0.5 s doubling to 10 s) and say so every few seconds; past
   * FLOWBOOK_KUBERNETES_API_TIMEOUT seconds (default 300) the waiting tasks fail with that reason,
   * and the run, failed, can be resumed.
   */
  private async reconnect(namespace: string, w: WatchState, err?: any): Promise<void> {
    if (w.reconnecting) return;
    w.reconnecting = true;
    try {
      let cause = err;
      // a stream the server closed normally is reopened at once; a broken one after a pause
      if (cause) w.failingSince ??= Date.now();
      let logsCut = false;
      for (;;) {
        if (this.closed || !this.waitingIn(namespace).length) {
          this.watches.delete(namespace);
          return;
        }
        if (w.failingSince) {
          // the pods' log streams went with the API, perhaps without a word: follow them again
          if (!logsCut) for (const a of this.waitingIn(namespace)) a.logAbort?.abort();
          logsCut = true;
          const down = (Date.now() - w.failingSince) / 1000;
          if (down * 1000 >= this.apiTimeoutMs) {
            const why = `the Kubernetes API at ${this.server} was unreachable for ${Math.round(down)} s (FLOWBOOK_KUBERNETES_API_TIMEOUT=${this.apiTimeoutMs / 1000}): ${describeNetError(cause)}; resume the run once it is back`;
            this.watches.delete(namespace);
            for (const a of this.waitingIn(namespace)) void this.finish(a, lost(pathspecOf(a.spec), 'KubernetesUnreachable', why), false);
            return;
          }
          if (!w.lastNotice || Date.now() - w.lastNotice >= NOTICE_MS) {
            w.lastNotice = Date.now();
            this.sink('stderr', `Kubernetes API unreachable for ${Math.round(down)} s, retrying (${describeNetError(cause)}; gives up after ${this.apiTimeoutMs / 1000} s)\n`);
          }
          await sleep(Math.min(500 * 2 ** w.attempt++, 10_000));
        }
        try {
          await this.resync(namespace);
        } catch (e) {
          if (isRefusal(e)) return this.refuse(namespace, refusal(e, 'list', 'pods', namespace, this.server));
          cause = e;
          w.failingSince ??= Date.now();
          continue;
        }
        if (w.failingSince) this.sink('stderr', `Kubernetes API reachable again after ${Math.round((Date.now() - w.failingSince) / 1000)} s\n`);
        w.failingSince = undefined;
        w.lastNotice = undefined;
        w.attempt = 0;
        w.reconnecting = false;
        const refused = await this.openWatch(namespace, w);
        if (refused) this.refuse(namespace, refusal(refused, 'watch', 'pods', namespace, this.server));
        return;
      }
    } finally {
      w.reconnecting = false;
    }
  }

  /** Kubernetes refused a call it will refuse again: the tasks waiting in the namespace fail with why. */
  private refuse(namespace: string, err: Error): void {
    this.watches.delete(namespace);
    for (const a of this.waitingIn(namespace)) void this.finish(a, lost(pathspecOf(a.spec), 'KubernetesError', err.message));
  }

  private waitingIn(namespace: string): Active[] {
    return [...this.active.values()].filter((a) => a.namespace === namespace && !a.settled);
  }

  /** Catch up on what the watch missed; throws when the API cannot be reached or refuses. */
  private async resync(namespace: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // an API server that accepts the connection and never answers must not hold the run
    const silent = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${LIST_TIMEOUT_MS / 1000} s`)), LIST_TIMEOUT_MS)));
    const list = await Promise.race([this.core.listNamespacedPod({ namespace, labelSelector: this.selector }), silent]).finally(() => clearTimeout(timer));
    for (const pod of list.items ?? []) this.onPod('MODIFIED', pod);
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

  /**
   * Stream the pod's log (its lines already carry the [run/step/task] prefix) into the run's
   * output. A stream that ends while the pod still runs was cut (the API went away): it is
   * followed again from the last line's timestamp, with backoff, and the lines already shown are
   * skipped, so the console gets each line once.
   */
  private async followLog(a: Active): Promise<void> {
    const seen = { ts: '', atTs: 0 };
    const done = () => a.settled || this.closed;
    const finished = () => done() || !!a.completing;
    for (let attempt = 0; !done(); attempt++) {
      // a pause before following again, cut short when the pod finishes (then one last read)
      if (attempt > 0) await until(finished, Math.min(500 * 2 ** (attempt - 1), 10_000));
      if (done()) return;
      const last = !!a.completing;
      let refused = false;
      a.logAbort = new AbortController();
      const clean = await followPodLog(new this.api.Log(this.kc!), a.namespace, a.pod!, seen, (text) => {
        a.log += text + '\n';
        this.sink('stdout', text + '\n');
      }, a.logAbort.signal).catch((err) => {
        // logs are a convenience here (the task's own logs are in the datastore), but a refusal is said, once
        if (isRefusal(err)) {
          this.sink('stderr', `warning: ${refusal(err, 'get', 'pods/log', a.namespace, this.server).message}; the task's log is in the datastore (flowbook logs ${pathspecOf(a.spec)})\n`);
          refused = true;
        }
        return false;
      });
      if (refused || last) return;
      // the container ended, or the stream was cut: the watch tells which, soon
      await until(finished, 1000);
      if (a.completing && clean) return;
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
    const cleanup = deleteJob ? this.deleteJob(a.name, a.namespace) : Promise.resolve(true);
    return cleanup.then(async (deleted) => {
      // say what happened to the Job, never that it was deleted when the delete failed
      if (!deleted && r.error?.type === 'Interrupted') r = { ...r, error: { ...r.error, message: `the run was stopped, but its Job ${a.namespace}/${a.name} could not be deleted: kubectl delete job -n ${a.namespace} ${a.name}` } };
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

  /** true when the Job is gone (deleted now, or already) */
  private async deleteJob(name: string, namespace: string): Promise<boolean> {
    try {
      await this.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
      return true;
    } catch (err: any) {
      if (err?.code === 404) return true;
      this.sink('stderr', `warning: could not delete Job ${namespace}/${name}: ${explainApiError(err, 'delete', this.server).message}\n`);
      return false;
    }
  }

  /** Delete every Job still running for this run (Ctrl-C, SIGTERM, a failed task). */
  async killAll(): Promise<void> {
    const all = [...this.active.values()];
    // each task settles only once its Job is deleted, so the runner exits after the deletions
    await Promise.all(all.map((a) => this.finish(a, lost(pathspecOf(a.spec), 'Interrupted', `the run was stopped: its Job ${a.namespace}/${a.name} was deleted`), true)));
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) w.ctl?.abort();
    this.watches.clear();
  }
}

