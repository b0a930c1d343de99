// What a pod's status means for its task, in one line a user can act on. Kubernetes reports
// trouble in several places (pod conditions, container waiting/terminated states, pod reason);
// this reads them all so a pod never fails — or hangs — with a bare exit code.
import type { V1Pod } from '@kubernetes/client-node';
import type { ResolvedKubernetes } from './options.js';

export type PodVerdict =
  | { state: 'waiting'; note?: string }
  | { state: 'running' }
  | { state: 'succeeded' }
  /** the task's own code failed: its error is in the datastore */
  | { state: 'task-failed'; exitCode: number }
  /** the pod could not run or was killed: flowbook must record the failure */
  | { state: 'lost'; type: string; message: string };

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export function podVerdict(pod: V1Pod, k8s: Pick<ResolvedKubernetes, 'cpu' | 'memory' | 'gpu' | 'image'>): PodVerdict {
  const st = pod.status ?? {};
  const cs = st.containerStatuses?.[0];
  const term = cs?.state?.terminated;
  if (st.phase === 'Succeeded') return { state: 'succeeded' };
  if (st.reason === 'Evicted') return { state: 'lost', type: 'PodEvicted', message: `the pod was evicted from its node: ${st.message ?? 'no reason given'}` };
  if (st.reason === 'DeadlineExceeded') return { state: 'lost', type: 'TimeoutError', message: `the pod ran past its deadline (@timeout) and was stopped` };
  if (term && (term.reason === 'OOMKilled' || (term.exitCode === 137 && st.phase === 'Failed'))) {
    return {
      state: 'lost',
      type: 'OOMKilled',
      message: `OOMKilled: the pod used its whole memory limit (${k8s.memory} MiB); raise @kubernetes(memory)`,
    };
  }
  if (st.phase === 'Failed') {
    if (term && term.exitCode === 1) return { state: 'task-failed', exitCode: 1 };
    const code = term?.exitCode;
    return { state: 'lost', type: 'PodFailed', message: `the pod failed${code !== undefined ? ` with exit code ${code}` : ''}${term?.reason ? ` (${term.reason})` : ''}${st.message ? `: ${st.message}` : ''}` };
  }
  const waiting = cs?.state?.waiting;
  if (waiting?.reason && IMAGE_PULL.has(waiting.reason)) {
    return { state: 'lost', type: 'ImagePullError', message: `cannot pull image ${cs?.image ?? k8s.image} (${waiting.reason}): ${waiting.message ?? 'no details'}` };
  }
  if (waiting?.reason && CONFIG.has(waiting.reason)) {
    return { state: 'lost', type: 'PodConfigError', message: `the pod's container cannot start (${waiting.reason}): ${waiting.message ?? 'no details'}` };
  }
  const unsched = st.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unsched) {
    const want = `cpu=${k8s.cpu} memory=${k8s.memory}Mi${k8s.gpu ? ` gpu=${k8s.gpu}` : ''}`;
    const why = unsched.message ?? 'the scheduler gave no reason';
    // "Insufficient cpu/memory": the request is the problem; otherwise (a missing volume claim, a
    // node selector nothing matches) say what the scheduler said
    const message = /Insufficient/.test(why) ? `no node can fit ${want}: ${why}` : `the pod cannot be scheduled: ${why}`;
    return { state: 'lost', type: 'Unschedulable', message };
  }
  if (st.phase === 'Running' || cs?.state?.running) return { state: 'running' };
  return { state: 'waiting', note: waiting?.reason ?? st.phase ?? 'Pending' };
}
