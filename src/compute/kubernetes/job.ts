// The Kubernetes Job for one task attempt. flowbook does the retries (@retry), so the Job never
// restarts its pod (backoffLimit 0, restartPolicy Never); memory limit = request, so a task that
// outgrows its request is OOMKilled with a clear message instead of slowing its neighbours.
import crypto from 'node:crypto';
import type { V1Container, V1EnvVar, V1Job, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { TaskSpec } from '../task/spec.js';
import type { ResolvedKubernetes } from './options.js';

/** annotations and labels flowbook puts on its Jobs and pods */
export const LABEL = {
  app: 'app.kubernetes.io/created-by',
  flow: 'flowbook/flow-name',
  run: 'flowbook/run-id',
  step: 'flowbook/step-name',
  task: 'flowbook/task-id',
  attempt: 'flowbook/attempt',
  user: 'flowbook/user',
} as const;

/** ≤ 63 chars of [-A-Za-z0-9_.], starting and ending alphanumeric (a valid label value) */
export function labelValue(s: string): string {
  const v = s.replace(/[^-A-Za-z0-9_.]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return v || 'x';
}

/**
 * A DNS-1123 label from any text: lowercase, '-' between words, at most `max` characters (past
 * that, cut and followed by a hash of the text, so long names stay distinct).
 */
export function dnsName(s: string, max = 63): string {
  const clean = s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
  if (clean.length <= max) return clean;
  const hash = crypto.createHash('sha256').update(s).digest('hex').slice(0, 8);
  return `${clean.slice(0, max - 9).replace(/-+$/, '')}-${hash}`;
}

/** A DNS-1123 name ≤ 63 chars that says what it runs: fb-<flow>-<run>-<step>-<task>-<attempt>[-hash]. */
export function jobName(spec: Pick<TaskSpec, 'flowName' | 'runId' | 'step' | 'taskId' | 'attempt'>): string {
  return dnsName(['fb', spec.flowName, spec.runId, spec.step, spec.taskId, String(spec.attempt)].join('-'));
}

/** The env a pod needs to reach the same datastore; credentials come from secrets or the pod's role. */
export function datastoreEnv(root: string): V1EnvVar[] {
  const pass = ['FLOWBOOK_S3_ENDPOINT', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'FLOWBOOK_MODELS', 'FLOWBOOK_USER'];
  return [
    { name: 'FLOWBOOK_DATASTORE', value: 's3' },
    { name: 'FLOWBOOK_S3_ROOT', value: root },
    ...pass.filter((n) => process.env[n]).map((name) => ({ name, value: process.env[name]! })),
  ];
}

/** the downward API: where the task ran, for the timeline and resources cards */
export const whereEnv: V1EnvVar[] = [
  { name: 'FLOWBOOK_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
  { name: 'FLOWBOOK_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
];

/**
 * What a step's decorators make of its pod, shared by Jobs and Argo's templates: the container's
 * requests and limits, secrets, volumes and their mounts, and where the pod may be placed.
 */
export function podParts(k8s: ResolvedKubernetes): {
  container: Pick<V1Container, 'resources' | 'envFrom' | 'volumeMounts'>;
  spec: { serviceAccountName?: string; nodeSelector?: Record<string, string>; tolerations?: any[]; volumes?: V1Volume[] };
} {
  const memory = `${Math.ceil(k8s.memory)}Mi`;
  const gpuKey = `${k8s.gpuVendor ?? 'nvidia'}.com/gpu`;
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (k8s.sharedMemory) {
    volumes.push({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: `${k8s.sharedMemory}Mi` } });
    mounts.push({ name: 'dshm', mountPath: '/dev/shm' });
  }
  for (const [claim, mountPath] of Object.entries(k8s.persistentVolumeClaims ?? {})) {
    const vname = `pvc-${claim}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
    volumes.push({ name: vname, persistentVolumeClaim: { claimName: claim } });
    mounts.push({ name: vname, mountPath });
  }
  const nodeSelector = { ...k8s.nodeSelector, ...(k8s.computePool ? { 'flowbook/compute-pool': k8s.computePool } : {}) };
  return {
    container: {
      ...(k8s.secrets?.length ? { envFrom: k8s.secrets.map((s) => ({ secretRef: { name: s } })) } : {}),
      resources: {
        requests: {
          cpu: String(k8s.cpu),
          memory,
          ...(k8s.disk ? { 'ephemeral-storage': `${k8s.disk}Mi` } : {}),
        },
        limits: { memory, ...(k8s.gpu ? { [gpuKey]: String(k8s.gpu) } : {}) },
      },
      ...(mounts.length ? { volumeMounts: mounts } : {}),
    },
    spec: {
      ...(k8s.serviceAccount ? { serviceAccountName: k8s.serviceAccount } : {}),
      ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
      ...(k8s.tolerations?.length ? { tolerations: k8s.tolerations as any[] } : {}),
      ...(volumes.length ? { volumes } : {}),
    },
  };
}

export interface JobInput {
  spec: Omit<TaskSpec, 'worker'>;
  k8s: ResolvedKubernetes;
  timeoutSeconds?: number;
  /** seconds a finished Job stays for `kubectl logs` before Kubernetes deletes it */
  ttlSecondsAfterFinished?: number;
}

export function buildJob({ spec, k8s, timeoutSeconds, ttlSecondsAfterFinished = 600 }: JobInput): V1Job {
  const name = jobName(spec);
  const labels: Record<string, string> = {
    ...k8s.labels,
    [LABEL.app]: 'flowbook',
    [LABEL.flow]: labelValue(spec.flowName),
    [LABEL.run]: labelValue(spec.runId),
    [LABEL.step]: labelValue(spec.step),
    [LABEL.task]: labelValue(spec.taskId),
    [LABEL.attempt]: String(spec.attempt),
    [LABEL.user]: labelValue(spec.user),
  };
  // annotations keep the exact values (labels must be sanitized)
  const annotations: Record<string, string> = {
    ...k8s.annotations,
    [LABEL.flow]: spec.flowName,
    [LABEL.run]: spec.runId,
    [LABEL.step]: spec.step,
    [LABEL.task]: spec.taskId,
    [LABEL.attempt]: String(spec.attempt),
    [LABEL.user]: spec.user,
  };
  const pod = podParts(k8s);
  const container: V1Container = {
    name: 'step',
    image: k8s.image,
    command: ['flowbook', 'step', '--task-spec', JSON.stringify({ ...spec, echo: true })],
    env: [...datastoreEnv(spec.root), ...whereEnv],
    ...pod.container,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: k8s.namespace, labels, annotations },
    spec: {
      backoffLimit: 0,
      ...(timeoutSeconds ? { activeDeadlineSeconds: Math.ceil(timeoutSeconds) } : {}),
      ttlSecondsAfterFinished,
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: 'Never',
          containers: [container],
          ...pod.spec,
        },
      },
    },
  };
}
