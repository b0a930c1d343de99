// Argo's custom resources (argoproj.io/v1alpha1 WorkflowTemplate, CronWorkflow, Workflow) served the
// way the apiserver serves a CRD: metadata defaulting, generateName, AlreadyExists/NotFound/Conflict
// Status errors, optimistic concurrency on PUT (a CR update must carry metadata.resourceVersion), and
// the CRD's OpenAPI schema — here @kubernetes-models/argo-workflows, whose schema also embeds the
// Kubernetes Container/Volume/... schemas, so pod fields inside templates are checked too.
// Deleting an object garbage-collects what it owns (a Workflow's pods, a CronWorkflow's Workflows).
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { CronWorkflow, Workflow, WorkflowTemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1';
import type { JobController } from './jobs.js';
import { type CustomPlural, type Store } from './store.js';
import { type FieldError, errorText, generateName, validateLabels } from './validate.js';

export const ARGO_GROUP = 'argoproj.io';
export const ARGO_API_VERSION = 'argoproj.io/v1alpha1';
const MODELS: Record<CustomPlural, { kind: string; model: new (b: any) => { validate(): void } }> = {
  workflowtemplates: { kind: 'WorkflowTemplate', model: WorkflowTemplate as any },
  cronworkflows: { kind: 'CronWorkflow', model: CronWorkflow as any },
  workflows: { kind: 'Workflow', model: Workflow as any },
};
export const kindOf = (plural: CustomPlural) => MODELS[plural].kind;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

type Fail = (code: number, reason: string, message: string, details?: object) => Error;
export interface CustomDeps {
  store: Store;
  jobs: JobController;
  namespaces: Set<string>;
  rejected: { path: string; error: string }[];
  fail: Fail;
}

/** The ajv message ("data/spec/templates/1/container must have required property name, …") as field errors. */
export function schemaFieldErrors(message: string): string[] {
  return message.split(/, (?=data\/|data )/).map((part) => {
    const m = /^data(\S*) (.*)$/.exec(part.trim());
    if (!m) return part;
    const field = m[1]
      .split('/')
      .filter(Boolean)
      .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
      .join('');
    const req = /^must have required property '?([^']+?)'?$/.exec(m[2]);
    if (req) return `${field ? field + '.' : ''}${req[1]}: Required value`;
    return `${field || '<root>'}: Invalid value: ${m[2]}`;
  });
}

export function customRoutes(d: CustomDeps) {
  const notFound = (plural: CustomPlural, name: string) => d.fail(404, 'NotFound', `${plural}.${ARGO_GROUP} "${name}" not found`, { name, group: ARGO_GROUP, kind: plural });
  const invalid = (plural: CustomPlural, name: string, path: string, errs: string[]) => {
    const message = `${kindOf(plural)}.${ARGO_GROUP} "${name}" is invalid: ${errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`}`;
    d.rejected.push({ path, error: message });
    return d.fail(422, 'Invalid', message, { name, group: ARGO_GROUP, kind: kindOf(plural), causes: errs.map((e) => ({ reason: 'FieldValueInvalid', message: e })) });
  };

  /** Type/version checks, schema and metadata validation shared by create and replace. */
  function check(plural: CustomPlural, body: any, ns: string, path: string) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw d.fail(400, 'BadRequest', "Object 'Kind' is missing in request body");
    if (body.apiVersion !== ARGO_API_VERSION) throw d.fail(400, 'BadRequest', `the API version in the data (${body.apiVersion ?? ''}) does not match the expected API version (${ARGO_API_VERSION})`);
    if (body.kind !== kindOf(plural)) throw d.fail(400, 'BadRequest', `${body.kind ?? ''} in version "v1alpha1" cannot be handled as a ${kindOf(plural)}: kind does not match`);
    if (body.metadata?.namespace && body.metadata.namespace !== ns) throw d.fail(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    const name = body.metadata?.name ?? body.metadata?.generateName ?? '';
    try {
      new MODELS[plural].model(body).validate();
    } catch (e) {
      throw invalid(plural, name, path, schemaFieldErrors(e instanceof Error ? e.message : String(e)));
    }
    const errs: FieldError[] = [];
    const md = body.metadata ?? {};
    if (!md.name && !md.generateName) errs.push({ type: 'Required', field: 'metadata.name', detail: 'name or generateName is required' });
    else if (md.name && (md.name.length > 253 || !DNS_SUBDOMAIN.test(md.name)))
      errs.push({ type: 'Invalid', field: 'metadata.name', value: md.name, detail: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character" });
    validateLabels(md.labels, 'metadata.labels', errs);
    if (errs.length) throw invalid(plural, name, path, errs.map(errorText));
  }

  async function create(plural: CustomPlural, ns: string, body: any, path: string, dryRun: boolean) {
    check(plural, body, ns, path);
    if (!d.namespaces.has(ns)) throw d.fail(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    const md = body.metadata;
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'generation', 'selfLink', 'managedFields']) delete md[k];
    md.namespace = ns;
    if (!md.name) {
      // the apiserver retries a generated name a few times on collision
      do md.name = generateName(md.generateName);
      while (d.store.has(plural, ns, md.name));
    }
    if (d.store.has(plural, ns, md.name)) throw d.fail(409, 'AlreadyExists', `${plural}.${ARGO_GROUP} "${md.name}" already exists`, { name: md.name, group: ARGO_GROUP, kind: plural });
    md.uid = randomUUID();
    md.generation = 1;
    if (dryRun) return body;
    return d.store.create(plural, body);
  }

  function replace(plural: CustomPlural, ns: string, name: string, body: any, path: string) {
    check(plural, body, ns, path);
    if (body.metadata.name !== name) throw d.fail(400, 'BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    const cur = d.store.get(plural, ns, name);
    if (!cur) throw notFound(plural, name);
    // custom resources never allow an unconditional update
    if (!body.metadata.resourceVersion) throw invalid(plural, name, path, ['metadata.resourceVersion: Invalid value: 0x0: must be specified for an update']);
    if (body.metadata.resourceVersion !== cur.metadata.resourceVersion)
      throw d.fail(409, 'Conflict', `Operation cannot be fulfilled on ${plural}.${ARGO_GROUP} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: ARGO_GROUP, kind: plural });
    return d.store.update(plural, ns, name, (o) => {
      const { metadata: _m, ...oldRest } = o;
      const { metadata: newMd, ...newRest } = body;
      // CRDs without a status subresource bump generation on any non-metadata change
      const changed = JSON.stringify(oldRest) !== JSON.stringify(newRest);
      for (const k of Object.keys(o)) if (k !== 'metadata') delete o[k];
      Object.assign(o, structuredClone(newRest));
      const keep = { uid: o.metadata.uid, creationTimestamp: o.metadata.creationTimestamp, namespace: ns, name, generation: o.metadata.generation + (changed ? 1 : 0) };
      o.metadata = { ...structuredClone(newMd), ...keep };
    });
  }

  /** Garbage collection of dependents (background propagation): pods via the kubelet's graceful path. */
  function collect(uid: string, ns: string) {
    for (const p of d.store.list('pods', ns)) if ((p.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid)) d.jobs.deletePod(ns, p.metadata.name);
    for (const w of d.store.list('workflows', ns))
      if ((w.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid)) {
        d.store.remove('workflows', ns, w.metadata.name);
        collect(w.metadata.uid, ns);
      }
  }

  function remove(plural: CustomPlural, ns: string, name: string) {
    const gone = d.store.remove(plural, ns, name);
    if (!gone) throw notFound(plural, name);
    collect(gone.metadata.uid, ns);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: ARGO_GROUP, kind: plural, uid: gone.metadata.uid } };
  }

  /** Returns the response body, or undefined when the path is not an argoproj.io resource. */
  return async function route(req: http.IncomingMessage, p: string, q: URLSearchParams, readBody: () => Promise<any>, listOrWatch: (plural: CustomPlural, ns?: string) => unknown): Promise<{ code: number; body: unknown } | undefined> {
    const m = /^\/apis\/argoproj\.io\/v1alpha1(?:\/namespaces\/([^/]+))?\/(workflowtemplates|cronworkflows|workflows)(?:\/([^/]+))?$/.exec(p);
    if (!m) return undefined;
    const [, ns, pluralStr, name] = m;
    const plural = pluralStr as CustomPlural;
    const method = req.method ?? 'GET';
    const notAllowed = () => d.fail(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    if (!name) {
      if (method === 'GET') return { code: 200, body: listOrWatch(plural, ns) };
      if (method === 'POST' && ns) return { code: 201, body: await create(plural, ns, await readBody(), p, q.get('dryRun') === 'All') };
      throw notAllowed();
    }
    if (!ns) throw d.fail(404, 'NotFound', 'the server could not find the requested resource', {});
    if (method === 'GET') {
      const o = d.store.get(plural, ns, name);
      if (!o) throw notFound(plural, name);
      return { code: 200, body: o };
    }
    if (method === 'PUT') return { code: 200, body: replace(plural, ns, name, await readBody(), p) };
    if (method === 'DELETE') return { code: 200, body: remove(plural, ns, name) };
    throw notAllowed();
  };
}
