// What the apiserver does to a Job body before storing it: schema check (kubernetes-models stands in
// for decoding), defaulting, name generation, and the hand-written validation the schema cannot
// express (name and label syntax, restartPolicy, quantities, image required, references between
// fields). Messages follow k8s.io/apimachinery's field.Error wording so a product that greps them
// sees what it would see against a real cluster.
import { randomUUID } from 'node:crypto';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { isExtendedResource, isValidResourceName, parseQuantity } from './quantity.js';

export interface FieldError {
  type: 'Required' | 'Invalid' | 'NotSupported' | 'Duplicate' | 'NotFound';
  field: string;
  value?: unknown;
  detail?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const MSG_LABEL = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
const MSG_SUBDOMAIN = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
const MSG_VALUE = `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`;
const MSG_QNAME = `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`;
const FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.labels', 'metadata.annotations', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];
const RESOURCE_FIELDS = ['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage'];
// the alphabet apiserver name generation uses (no vowels, no confusable characters)
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

export const randomSuffix = (n = 5) => Array.from({ length: n }, () => ALNUM[Math.floor(Math.random() * ALNUM.length)]).join('');
/** metadata.generateName → name: the prefix is cut to 58 characters so the result stays ≤ 63. */
export const generateName = (prefix: string) => prefix.slice(0, 58) + randomSuffix();

/** The kubernetes-models schema check; returns the message ("data/spec/... must be string") or null. */
export function schemaError(body: unknown): string | null {
  try {
    new Job(body as any).validate();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function fmtValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
}
/** One field.Error as text: `spec.x: Invalid value: "v": detail`. */
export function errorText(e: FieldError): string {
  const what = { Required: 'Required value', Invalid: 'Invalid value', NotSupported: 'Unsupported value', Duplicate: 'Duplicate value', NotFound: 'Not found' }[e.type];
  const val = e.type === 'Required' ? '' : `: ${fmtValue(e.value)}`;
  return `${e.field}: ${what}${val}${e.detail ? `: ${e.detail}` : ''}`;
}

export function validateLabels(labels: unknown, field: string, errs: FieldError[]) {
  if (!labels || typeof labels !== 'object') return;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    validateQualifiedName(k, field, errs);
    const s = String(v);
    if (s.length > 63) errs.push({ type: 'Invalid', field, value: s, detail: 'must be no more than 63 characters' });
    else if (!LABEL_VALUE.test(s)) errs.push({ type: 'Invalid', field, value: s, detail: MSG_VALUE });
  }
}

function validateQualifiedName(k: string, field: string, errs: FieldError[]) {
  const parts = k.split('/');
  let name = k;
  if (parts.length === 2) {
    const [prefix] = parts;
    name = parts[1];
    if (prefix.length === 0) errs.push({ type: 'Invalid', field, value: k, detail: 'prefix part must be non-empty' });
    else if (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) errs.push({ type: 'Invalid', field, value: k, detail: `prefix part ${MSG_SUBDOMAIN}` });
  } else if (parts.length > 2) {
    errs.push({ type: 'Invalid', field, value: k, detail: `${MSG_QNAME.replace('name part ', 'a qualified name ')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')` });
    return;
  }
  if (name.length === 0) errs.push({ type: 'Invalid', field, value: k, detail: 'name part must be non-empty' });
  else if (name.length > 63) errs.push({ type: 'Invalid', field, value: k, detail: 'name part must be no more than 63 characters' });
  else if (!QUALIFIED_NAME.test(name)) errs.push({ type: 'Invalid', field, value: k, detail: MSG_QNAME });
}

function validateResources(res: any, field: string, errs: FieldError[]) {
  const limits: Record<string, unknown> = res?.limits ?? {};
  const requests: Record<string, unknown> = res?.requests ?? {};
  for (const [kind, map] of [['limits', limits], ['requests', requests]] as const) {
    for (const [name, q] of Object.entries(map)) {
      const f = `${field}.${kind}[${name}]`;
      if (!isValidResourceName(name)) errs.push({ type: 'Invalid', field: f, value: name, detail: 'must be a standard resource type or fully qualified' });
      const v = parseQuantity(q);
      if (v === null) errs.push({ type: 'Invalid', field: f, value: q, detail: `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` });
      else if (v < 0) errs.push({ type: 'Invalid', field: f, value: q, detail: 'must be greater than or equal to 0' });
      else if (isExtendedResource(name) && !Number.isInteger(v)) errs.push({ type: 'Invalid', field: f, value: q, detail: 'must be an integer' });
    }
  }
  for (const [name, q] of Object.entries(requests)) {
    const r = parseQuantity(q);
    const l = name in limits ? parseQuantity(limits[name]) : null;
    if (r === null) continue;
    if (isExtendedResource(name)) {
      if (!(name in limits)) errs.push({ type: 'Required', field: `${field}.limits`, detail: 'Limit must be set for non overcommitable resources' });
      else if (l !== null && l !== r) errs.push({ type: 'Invalid', field: `${field}.requests[${name}]`, value: q, detail: `must be equal to ${name} limit of ${limits[name]}` });
    } else if (l !== null && r > l) {
      errs.push({ type: 'Invalid', field: `${field}.requests`, value: q, detail: `must be less than or equal to ${name} limit of ${limits[name]}` });
    }
  }
}

function validateContainer(c: any, field: string, volumeNames: Set<string>, errs: FieldError[]) {
  if (!c.name) errs.push({ type: 'Required', field: `${field}.name` });
  else if (c.name.length > 63 || !DNS_LABEL.test(c.name)) errs.push({ type: 'Invalid', field: `${field}.name`, value: c.name, detail: c.name.length > 63 ? 'must be no more than 63 characters' : MSG_LABEL });
  if (!c.image) errs.push({ type: 'Required', field: `${field}.image` });
  else if (c.image.trim() !== c.image) errs.push({ type: 'Invalid', field: `${field}.image`, value: c.image, detail: 'must not have leading or trailing whitespace' });
  (c.env ?? []).forEach((e: any, i: number) => {
    const f = `${field}.env[${i}]`;
    if (!e.name) errs.push({ type: 'Required', field: `${f}.name` });
    const vf = e.valueFrom;
    if (!vf) return;
    if (e.value) errs.push({ type: 'Invalid', field: `${f}.valueFrom`, value: '', detail: 'may not be specified when `value` is not empty' });
    const sources = ['fieldRef', 'resourceFieldRef', 'secretKeyRef', 'configMapKeyRef', 'fileKeyRef'].filter((k) => vf[k]);
    if (sources.length !== 1) errs.push({ type: 'Invalid', field: `${f}.valueFrom`, value: '', detail: sources.length ? 'may not have more than one field specified at a time' : 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`' });
    const fp: string | undefined = vf.fieldRef?.fieldPath;
    if (vf.fieldRef && !FIELD_PATHS.includes(fp ?? '') && !/^metadata\.(labels|annotations)\['[^']+'\]$/.test(fp ?? ''))
      errs.push({ type: 'NotSupported', field: `${f}.valueFrom.fieldRef.fieldPath`, value: fp ?? '', detail: `supported values: ${FIELD_PATHS.map((p) => `"${p}"`).join(', ')}` });
    if (vf.resourceFieldRef && !RESOURCE_FIELDS.includes(vf.resourceFieldRef.resource))
      errs.push({ type: 'NotSupported', field: `${f}.valueFrom.resourceFieldRef.resource`, value: vf.resourceFieldRef.resource, detail: `supported values: ${RESOURCE_FIELDS.map((p) => `"${p}"`).join(', ')}` });
    for (const k of ['secretKeyRef', 'configMapKeyRef'] as const) {
      if (vf[k] && !vf[k].name) errs.push({ type: 'Required', field: `${f}.valueFrom.${k}.name` });
      if (vf[k] && !vf[k].key) errs.push({ type: 'Required', field: `${f}.valueFrom.${k}.key` });
    }
  });
  (c.envFrom ?? []).forEach((e: any, i: number) => {
    for (const k of ['secretRef', 'configMapRef'] as const) if (e[k] && !e[k].name) errs.push({ type: 'Required', field: `${field}.envFrom[${i}].${k}.name` });
  });
  validateResources(c.resources, `${field}.resources`, errs);
  const paths = new Set<string>();
  (c.volumeMounts ?? []).forEach((m: any, i: number) => {
    const f = `${field}.volumeMounts[${i}]`;
    if (!m.name) errs.push({ type: 'Required', field: `${f}.name` });
    else if (!volumeNames.has(m.name)) errs.push({ type: 'NotFound', field: `${f}.name`, value: m.name });
    if (!m.mountPath) errs.push({ type: 'Required', field: `${f}.mountPath` });
    else if (paths.has(m.mountPath)) errs.push({ type: 'Invalid', field: `${f}.mountPath`, value: m.mountPath, detail: 'must be unique' });
    paths.add(m.mountPath);
  });
}

/** Validation of a defaulted Job (ValidateJob + ValidatePodTemplateSpec, the parts a product can trip). */
export function validateJob(job: any): FieldError[] {
  const errs: FieldError[] = [];
  const md = job.metadata ?? {};
  if (!md.name) errs.push({ type: 'Required', field: 'metadata.name', detail: 'name or generateName is required' });
  else if (md.name.length > 253 || !DNS_SUBDOMAIN.test(md.name)) errs.push({ type: 'Invalid', field: 'metadata.name', value: md.name, detail: MSG_SUBDOMAIN });
  validateLabels(md.labels, 'metadata.labels', errs);
  for (const k of Object.keys(md.annotations ?? {})) validateQualifiedName(k.toLowerCase(), 'metadata.annotations', errs);
  const spec = job.spec ?? {};
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished'])
    if (typeof spec[f] === 'number' && spec[f] < 0) errs.push({ type: 'Invalid', field: `spec.${f}`, value: spec[f], detail: 'must be greater than or equal to 0' });
  const tmpl = spec.template ?? {};
  // job-name and controller-uid are copied into the template's labels: a job name over 63 fails here, as for real
  validateLabels(tmpl.metadata?.labels, 'spec.template.labels', errs);
  for (const k of Object.keys(tmpl.metadata?.annotations ?? {})) validateQualifiedName(k.toLowerCase(), 'spec.template.annotations', errs);
  const ps = tmpl.spec ?? {};
  const rp = ps.restartPolicy;
  if (rp !== 'Never' && rp !== 'OnFailure') errs.push({ type: 'NotSupported', field: 'spec.template.spec.restartPolicy', value: rp, detail: 'supported values: "OnFailure", "Never"' });
  if (typeof ps.activeDeadlineSeconds === 'number' && ps.activeDeadlineSeconds <= 0)
    errs.push({ type: 'Invalid', field: 'spec.template.spec.activeDeadlineSeconds', value: ps.activeDeadlineSeconds, detail: 'must be between 1 and 2147483647, inclusive' });
  validateLabels(ps.nodeSelector, 'spec.template.spec.nodeSelector', errs);
  const volumeNames = new Set<string>();
  (ps.volumes ?? []).forEach((v: any, i: number) => {
    const f = `spec.template.spec.volumes[${i}]`;
    if (!v.name) errs.push({ type: 'Required', field: `${f}.name` });
    else if (!DNS_LABEL.test(v.name)) errs.push({ type: 'Invalid', field: `${f}.name`, value: v.name, detail: MSG_LABEL });
    else if (volumeNames.has(v.name)) errs.push({ type: 'Duplicate', field: `${f}.name`, value: v.name });
    volumeNames.add(v.name);
    if (Object.keys(v).filter((k) => k !== 'name').length === 0) errs.push({ type: 'Required', field: f, detail: 'must specify a volume type' });
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) errs.push({ type: 'Required', field: `${f}.persistentVolumeClaim.claimName` });
  });
  const containers: any[] = ps.containers ?? [];
  if (containers.length === 0) errs.push({ type: 'Required', field: 'spec.template.spec.containers' });
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const f = `spec.template.spec.containers[${i}]`;
    if (c.name && names.has(c.name)) errs.push({ type: 'Duplicate', field: `${f}.name`, value: c.name });
    names.add(c.name);
    validateContainer(c, f, volumeNames, errs);
  });
  return errs;
}

/**
 * Defaulting + PrepareForCreate, in place: system fields reset, generateName, spec defaults,
 * the generated selector and the job-name/controller-uid labels on the pod template.
 */
export function defaultJob(job: any, namespace: string): void {
  const md = (job.metadata ??= {});
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'generation', 'selfLink']) delete md[k];
  md.namespace = namespace;
  if (!md.name && md.generateName) md.name = generateName(md.generateName);
  md.uid = randomUUID();
  md.generation = 1;
  job.apiVersion = 'batch/v1';
  job.kind = 'Job';
  const spec = (job.spec ??= {});
  const tmpl = (spec.template ??= {});
  const tmd = (tmpl.metadata ??= {});
  if (!md.labels || Object.keys(md.labels).length === 0) if (tmd.labels) md.labels = { ...tmd.labels };
  spec.parallelism ??= 1;
  spec.completions ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  const jobLabels = { 'batch.kubernetes.io/controller-uid': md.uid, 'batch.kubernetes.io/job-name': md.name ?? '', 'controller-uid': md.uid, 'job-name': md.name ?? '' };
  spec.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': md.uid } };
  tmd.labels = { ...(tmd.labels ?? {}), ...jobLabels };
  const ps = (tmpl.spec ??= {});
  ps.restartPolicy ??= 'Always'; // the PodSpec default, which Job validation then refuses
  ps.dnsPolicy ??= 'ClusterFirst';
  ps.schedulerName ??= 'default-scheduler';
  ps.securityContext ??= {};
  for (const c of ps.containers ?? []) {
    const tagged = typeof c.image === 'string' && /:[^/]+$/.test(c.image) && !c.image.endsWith(':latest');
    c.imagePullPolicy ??= tagged || c.image?.includes('@') ? 'IfNotPresent' : 'Always';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
    // requests default to limits, per resource, as the apiserver's defaulting does
    for (const [k, v] of Object.entries(c.resources.limits ?? {})) (c.resources.requests ??= {})[k] ??= v;
    for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
  job.status = {};
}
