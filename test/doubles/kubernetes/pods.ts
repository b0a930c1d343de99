// POST /api/v1/namespaces/{ns}/pods: what the apiserver does to a bare Pod (no Job owner), e.g. one
// the Argo workflow-controller emulator creates. Schema check with kubernetes-models, then the same
// hand-written checks as a Job's pod template (validate.ts), then defaulting and admission.
import { randomUUID } from 'node:crypto';
import { Pod } from 'kubernetes-models/v1/Pod';
import { qosClass } from './jobs.js';
import { errorText, generateName, validateJob } from './validate.js';

/** Validates and defaults `pod` in place; returns field error texts (empty when the pod is accepted). */
export function preparePod(pod: any, namespace: string): string[] {
  try {
    new Pod(pod).validate();
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
  const md = (pod.metadata ??= {});
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'generation', 'selfLink']) delete md[k];
  md.namespace = namespace;
  if (!md.name && md.generateName) md.name = generateName(md.generateName);
  const spec = (pod.spec ??= {});
  spec.restartPolicy ??= 'Always';
  // reuse the Job pod-template validation; only the field paths and the restartPolicy rule differ
  const asJob = { metadata: { name: md.name ?? 'x' }, spec: { template: { metadata: md, spec: { ...spec, restartPolicy: spec.restartPolicy === 'Always' ? 'Never' : spec.restartPolicy } } } };
  const errs = validateJob(asJob)
    .filter((e) => e.field !== 'metadata.name')
    .map((e) => ({ ...e, field: e.field.replace(/^spec\.template\.spec\./, 'spec.').replace(/^spec\.template\./, 'metadata.') }));
  if (!md.name) errs.unshift({ type: 'Required', field: 'metadata.name', detail: 'name or generateName is required' });
  if (errs.length) return errs.map(errorText);
  md.uid = randomUUID();
  pod.apiVersion = 'v1';
  pod.kind = 'Pod';
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.securityContext ??= {};
  spec.tolerations = [
    ...(spec.tolerations ?? []),
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ];
  for (const c of spec.containers ?? []) {
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.imagePullPolicy ??= /:[^/]+$/.test(c.image) && !c.image.endsWith(':latest') ? 'IfNotPresent' : 'Always';
    c.resources ??= {};
    for (const [k, v] of Object.entries(c.resources.limits ?? {})) (c.resources.requests ??= {})[k] ??= v;
  }
  pod.status = { phase: 'Pending', qosClass: qosClass(spec) };
  return [];
}
