// A fake Kubernetes cluster for tests: an HTTP server speaking the real REST API (pods, jobs,
// nodes, watch, logs) plus the controllers a cluster runs on its own — job controller, scheduler,
// and a kubelet that runs each container's command as a local child process. Talk to it with
// @kubernetes/client-node through `kubeconfigPath`, exactly as against a real cluster.
//
// Deliberate differences from a real cluster: no TLS (client-node needs insecure-skip-tls-verify
// for http://), volumes are not mounted (processes see the host file system), the default
// termination grace period is 2 s instead of 30 s, and retry back-offs are sub-second.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { JobController } from './jobs.js';
import { Kubelet } from './kubelet.js';
import { type FakeNode, Scheduler, nodeObject } from './scheduler.js';
import { createApiServer } from './server.js';
import { type CustomPlural, Store, now } from './store.js';

export type { CustomPlural } from './store.js';

export type { FakeNode, Taint } from './scheduler.js';

export interface FakeClusterOptions {
  nodes: FakeNode[];
  /** image name (exact string as in the pod spec) → a local directory that plays the image: the
   * container's working directory (unless workingDir is set); `<dir>/bin` and `<dir>/node_modules/.bin`
   * go first on PATH. An image not in this map fails to pull (ErrImagePull, then ImagePullBackOff). */
  images: Record<string, string>;
  /** seconds a pull of an image takes (a big image on a cold node): the pod waits in ContainerCreating */
  imagePullSeconds?: Record<string, number>;
  /** Secrets by "namespace/name" → string data (as if created with kubectl create secret generic). */
  secrets?: Record<string, Record<string, string>>;
  /** PersistentVolumeClaims by "namespace/name" → a local directory (recorded, not mounted). */
  persistentVolumeClaims?: Record<string, string>;
  /** bearer token required on every request (default: a random one, written in the kubeconfig) */
  token?: string;
  /** extra env given to every container process (e.g. NODE_OPTIONS); default none */
  baseEnv?: Record<string, string>;
  /** namespaces that exist besides default, kube-system, kube-public and those named in secrets/PVCs */
  namespaces?: string[];
}

export interface FakeCluster {
  url: string;
  kubeconfigPath: string;
  /** every API request, in order; userAgent lets a test tell the Argo controller emulator's calls from the product's */
  requests: { method: string; path: string; query: string; userAgent?: string }[];
  /** objects refused by validation (422) */
  rejected: { path: string; error: string }[];
  jobs(namespace?: string): any[];
  pods(namespace?: string): any[];
  /** argoproj.io custom objects as stored (workflowtemplates, cronworkflows, workflows) */
  customObjects(plural: CustomPlural, namespace?: string): any[];
  /** pids of running container processes (for tests that check cleanup) */
  runningProcesses(): number[];
  /** Node-pressure eviction: kill the pod's processes at once; phase Failed, reason Evicted. */
  evict(podName: string, message?: string, namespace?: string): Promise<void>;
  /** kills every container process it started, ends watch/log streams, closes the server */
  close(): Promise<void>;
}

function kubeconfig(url: string, token: string): string {
  // client-node 1.4 refuses http:// servers unless insecure-skip-tls-verify is set
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    `    server: ${url}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: fake-user',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: fake',
    '  context:',
    '    cluster: fake',
    '    user: fake-user',
    '    namespace: default',
    'current-context: fake',
    '',
  ].join('\n');
}

export async function startFakeCluster(opts: FakeClusterOptions): Promise<FakeCluster> {
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-k8s-'));
  const token = opts.token ?? randomBytes(16).toString('hex');
  const secrets = opts.secrets ?? {};
  const pvcs = opts.persistentVolumeClaims ?? {};
  const namespaces = new Set(['default', 'kube-system', 'kube-public', ...(opts.namespaces ?? []), ...[...Object.keys(secrets), ...Object.keys(pvcs)].map((k) => k.split('/')[0])]);
  const store = new Store();
  let port = 0;
  const kubelet = new Kubelet({ store, nodes: opts.nodes, images: opts.images, imagePullSeconds: opts.imagePullSeconds ?? {}, secrets, baseEnv: opts.baseEnv ?? {}, apiPort: () => port, tmpRoot });
  const jobs = new JobController(store, kubelet);
  const scheduler = new Scheduler(store, opts.nodes, pvcs);
  store.on((e) => {
    kubelet.observe(e);
    jobs.observe(e);
    // new pods need a node; finished or deleted ones may free room for pending ones
    if (e.kind === 'pods') scheduler.kick();
  });
  const created = now();
  const nodeUids = opts.nodes.map(() => randomUUID());
  const requests: FakeCluster['requests'] = [];
  const rejected: FakeCluster['rejected'] = [];
  const api = createApiServer({ store, kubelet, jobs, token, namespaces, requests, rejected, nodeObjects: () => opts.nodes.map((n, i) => nodeObject(n, nodeUids[i], created)) });
  await new Promise<void>((resolve, reject) => {
    api.server.once('error', reject);
    api.server.listen(0, '127.0.0.1', () => resolve());
  });
  port = (api.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfigPath = path.join(tmpRoot, 'kubeconfig');
  fs.writeFileSync(kubeconfigPath, kubeconfig(url, token));
  let closing: Promise<void> | undefined;

  return {
    url,
    kubeconfigPath,
    requests,
    rejected,
    jobs: (ns) => store.list('jobs', ns),
    pods: (ns) => store.list('pods', ns),
    customObjects: (plural, ns) => store.list(plural, ns),
    runningProcesses: () => kubelet.runningPids(),
    evict: (podName, message = 'The node was low on resource: memory.', ns = 'default') =>
      kubelet.kill(ns, podName, { graceSeconds: 0, override: { reason: 'Evicted', message, disruption: 'TerminationByKubelet' } }),
    close() {
      closing ??= (async () => {
        jobs.close();
        await kubelet.close();
        api.endStreams();
        await new Promise<void>((resolve) => {
          api.server.close(() => resolve());
          // ended streams flush first; whatever is still open after that is cut
          setTimeout(() => api.server.closeAllConnections(), 200).unref();
        });
        fs.rmSync(tmpRoot, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
