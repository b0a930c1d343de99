// The pieces of the Kubernetes runner that need no cluster: Job names and labels, --with parsing,
// and how each pod status reads to a user.
import { describe, it, expect } from 'vitest';
import { jobName, labelValue } from '../../src/compute/kubernetes/job.js';
import { parseKubernetesWith } from '../../src/flow/with-kubernetes.js';
import { podVerdict } from '../../src/compute/kubernetes/pod-status.js';

const k8s = { cpu: 8, memory: 12288, gpu: 0, image: 'img:1' };

describe('Kubernetes job naming', () => {
  it('names are DNS-1123 and at most 63 characters, unique by hash when cut', () => {
    const a = jobName({ flowName: 'YouTubeVideoTranscription', runId: '1795672543881', step: 'transcribe_with_a_very_long_step_name', taskId: '12', attempt: 1 });
    const b = jobName({ flowName: 'YouTubeVideoTranscription', runId: '1795672543881', step: 'transcribe_with_a_very_long_step_name', taskId: '13', attempt: 1 });
    for (const n of [a, b]) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(a).not.toBe(b);
    expect(jobName({ flowName: 'F', runId: '1', step: 'start', taskId: '1', attempt: 0 })).toBe('fb-f-1-start-1-0');
    expect(labelValue('alice@example.com')).toBe('alice_example.com');
    expect(labelValue('-x-')).toBe('x');
  });

  it('--with kubernetes parses numbers, strings, secrets and claims, and names a bad key', () => {
    expect(parseKubernetesWith('cpu=4,memory=8192,image=r/i:1,secrets=a;b,persistentVolumeClaims=models:/models')).toEqual({
      cpu: 4,
      memory: 8192,
      image: 'r/i:1',
      secrets: ['a', 'b'],
      persistentVolumeClaims: { models: '/models' },
    });
    expect(() => parseKubernetesWith('cpu=lots')).toThrow('--with kubernetes: cpu must be a positive number, got "lots"');
    expect(() => parseKubernetesWith('cpus=2')).toThrow(/unknown option "cpus"/);
    expect(() => parseKubernetesWith('persistentVolumeClaims=models')).toThrow(/takes claim:\/mount\/path/);
  });
});

describe('pod status → what the user reads', () => {
  const pod = (status: any) => ({ status });
  it('unschedulable for lack of room names the request and the scheduler', () => {
    const v = podVerdict(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.' }] }), k8s);
    expect(v).toEqual({ state: 'lost', type: 'Unschedulable', message: 'no node can fit cpu=8 memory=12288Mi: 0/2 nodes are available: 2 Insufficient cpu.' });
  });
  it('OOMKilled, eviction, deadline, config errors and plain exit codes', () => {
    const term = (t: any, phase = 'Failed', extra = {}) => pod({ phase, ...extra, containerStatuses: [{ name: 'step', image: 'img:1', state: { terminated: t } }] });
    expect(podVerdict(term({ exitCode: 137, reason: 'OOMKilled' }), k8s)).toMatchObject({ state: 'lost', message: 'OOMKilled: the pod used its whole memory limit (12288 MiB); raise @kubernetes(memory)' });
    expect(podVerdict(term({ exitCode: 137, reason: 'Error' }), k8s)).toMatchObject({ type: 'OOMKilled' });
    expect(podVerdict(pod({ phase: 'Failed', reason: 'Evicted', message: 'low on ephemeral-storage' }), k8s)).toMatchObject({ message: 'the pod was evicted from its node: low on ephemeral-storage' });
    expect(podVerdict(pod({ phase: 'Failed', reason: 'DeadlineExceeded' }), k8s)).toMatchObject({ type: 'TimeoutError' });
    expect(podVerdict(term({ exitCode: 1, reason: 'Error' }), k8s)).toEqual({ state: 'task-failed', exitCode: 1 });
    expect(podVerdict(term({ exitCode: 3, reason: 'Error' }), k8s)).toMatchObject({ state: 'lost', message: 'the pod failed with exit code 3 (Error)' });
    expect(podVerdict(term({ exitCode: 0, reason: 'Completed' }, 'Succeeded'), k8s)).toEqual({ state: 'succeeded' });
    const waiting = (reason: string, message: string) => pod({ phase: 'Pending', containerStatuses: [{ name: 'step', image: 'img:1', state: { waiting: { reason, message } } }] });
    expect(podVerdict(waiting('ImagePullBackOff', 'Back-off pulling image "img:1"'), k8s)).toMatchObject({ message: 'cannot pull image img:1 (ImagePullBackOff): Back-off pulling image "img:1"' });
    expect(podVerdict(waiting('CreateContainerConfigError', 'secret "s3" not found'), k8s)).toMatchObject({ message: "the pod's container cannot start (CreateContainerConfigError): secret \"s3\" not found" });
    expect(podVerdict(waiting('ContainerCreating', ''), k8s)).toEqual({ state: 'waiting', note: 'ContainerCreating' });
    expect(podVerdict(pod({ phase: 'Running', containerStatuses: [{ state: { running: {} } }] }), k8s)).toEqual({ state: 'running' });
  });
});
