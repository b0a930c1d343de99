// The kube-apiserver's REST surface for pods, jobs and nodes: bearer-token authn, list/get/create/
// delete with real Status errors, watch streams (newline-delimited JSON, resumable by
// resourceVersion, 410 Gone when too old) and the pods/log subresource (follow, tailLines, …).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { JobController, Propagation } from './jobs.js';
import type { Kubelet } from './kubelet.js';
import type { LogOptions } from './logs.js';
import { type Kind, type Store, type StoreEvent, parseFieldSelector, parseLabelSelector } from './store.js';
import { type FieldError, defaultJob, errorText, schemaError, validateJob } from './validate.js';
import { ARGO_API_VERSION, customRoutes, kindOf } from './custom.js';
import { preparePod } from './pods.js';

export interface ServerDeps {
  store: Store;
  kubelet: Kubelet;
  jobs: JobController;
  token: string;
  namespaces: Set<string>;
  nodeObjects: () => any[];
  requests: { method: string; path: string; query: string; userAgent?: string }[];
  rejected: { path: string; error: string }[];
}

class HttpError extends Error {
  constructor(
    public code: number,
    public reason: string,
    message: string,
    public details?: object,
  ) {
    super(message);
  }
}
const notFound = (resource: string, name: string, group = '') =>
  new HttpError(404, 'NotFound', `${resource}${group ? '.' + group : ''} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });
const badRequest = (m: string) => new HttpError(400, 'BadRequest', m);
const statusBody = (code: number, reason: string, message: string, details?: object) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});
const success = (details: object) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
const TYPES: Record<Kind, { apiVersion: string; kind: string; group: string }> = {
  pods: { apiVersion: 'v1', kind: 'Pod', group: '' },
  jobs: { apiVersion: 'batch/v1', kind: 'Job', group: 'batch' },
  workflowtemplates: { apiVersion: ARGO_API_VERSION, kind: kindOf('workflowtemplates'), group: 'argoproj.io' },
  cronworkflows: { apiVersion: ARGO_API_VERSION, kind: kindOf('cronworkflows'), group: 'argoproj.io' },
  workflows: { apiVersion: ARGO_API_VERSION, kind: kindOf('workflows'), group: 'argoproj.io' },
};
const CAUSE: Record<FieldError['type'], string> = { Required: 'FieldValueRequired', Invalid: 'FieldValueInvalid', NotSupported: 'FieldValueNotSupported', Duplicate: 'FieldValueDuplicate', NotFound: 'FieldValueNotFound' };
const PUBLIC = new Set(['/version', '/healthz', '/livez', '/readyz']);

export function createApiServer(d: ServerDeps) {
  const streams = new Set<http.ServerResponse>();
  const json = (res: http.ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'Content-Type': 'application/json', 'Audit-Id': randomUUID(), 'Cache-Control': 'no-cache, private' });
    res.end(JSON.stringify(body));
  };

  async function readBody(req: http.IncomingMessage): Promise<any> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }

  function list(kind: Kind, ns: string | undefined, q: URLSearchParams) {
    const lsel = parseLabelSelector(q.get('labelSelector'));
    const fsel = parseFieldSelector(kind, q.get('fieldSelector'));
    // built-in list items carry no apiVersion/kind in real responses (only the list does); custom resources keep theirs
    const builtin = kind === 'pods' || kind === 'jobs';
    let items = d.store.list(kind, ns).filter((o) => lsel(o) && fsel(o)).map(({ apiVersion: _a, kind: _k, ...o }) => (builtin ? o : { apiVersion: _a, kind: _k, ...o }));
    const limit = Number(q.get('limit') ?? 0);
    const offset = q.get('continue') ? Number(JSON.parse(Buffer.from(q.get('continue')!, 'base64').toString()).offset) : 0;
    const metadata: any = { resourceVersion: String(d.store.rv) };
    items = items.slice(offset);
    if (limit > 0 && items.length > limit) {
      metadata.continue = Buffer.from(JSON.stringify({ offset: offset + limit })).toString('base64');
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    return { apiVersion: TYPES[kind].apiVersion, kind: `${TYPES[kind].kind}List`, metadata, items };
  }

  function watch(req: http.IncomingMessage, res: http.ServerResponse, kind: Kind, ns: string | undefined, q: URLSearchParams) {
    const lsel = parseLabelSelector(q.get('labelSelector'));
    const fsel = parseFieldSelector(kind, q.get('fieldSelector'));
    const rvParam = q.get('resourceVersion');
    if (rvParam && rvParam !== '0' && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
    const match = (o: any) => !!o && (!ns || o.metadata.namespace === ns) && lsel(o) && fsel(o);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Audit-Id': randomUUID(), 'Cache-Control': 'no-cache, private' });
    // client-node's Watch.watch() resolves only once the headers arrive
    res.flushHeaders();
    streams.add(res);
    const send = (type: string, object: unknown) => res.write(JSON.stringify({ type, object }) + '\n');
    const deliver = (e: StoreEvent) => {
      if (e.kind !== kind) return;
      const now = match(e.object);
      const before = e.type === 'MODIFIED' && match(e.prev);
      if (e.type === 'MODIFIED') {
        // an object that enters or leaves the selector is ADDED/DELETED for this watcher
        if (now) send(before ? 'MODIFIED' : 'ADDED', e.object);
        else if (before) send('DELETED', e.object);
      } else if (now) send(e.type, e.object);
    };
    if (!rvParam || rvParam === '0') {
      for (const o of d.store.list(kind, ns)) if (match(o)) send('ADDED', o);
    } else {
      const from = Number(rvParam);
      const oldest = d.store.history[0]?.rv ?? d.store.rv + 1;
      if (from < oldest - 1) {
        send('ERROR', statusBody(410, 'Expired', `too old resource version: ${from} (${oldest - 1})`));
        streams.delete(res);
        res.end();
        return;
      }
      for (const e of d.store.history) if (e.rv > from) deliver(e);
    }
    const off = d.store.on(deliver);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    const stop = () => {
      off();
      clearTimeout(timer);
      streams.delete(res);
    };
    res.on('close', stop);
    req.on('close', stop);
  }

  function podLog(req: http.IncomingMessage, res: http.ServerResponse, ns: string, name: string, q: URLSearchParams) {
    const pod = d.store.get('pods', ns, name);
    if (!pod) throw notFound('pods', name);
    const names: string[] = pod.spec.containers.map((c: any) => c.name);
    let container = q.get('container');
    if (!container) {
      if (names.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
      container = names[0];
    } else if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    if (!pod.spec.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    const cs = (pod.status?.containerStatuses ?? []).find((c: any) => c.name === container);
    const previous = q.get('previous') === 'true';
    let buf = d.kubelet.log(ns, name, container, previous);
    if (previous && !buf) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    const waiting = !cs || cs.state?.waiting;
    if (!previous && waiting) {
      // a restarting container shows its last terminated instance; one that never ran has no log yet
      if (cs?.lastState?.terminated) buf = d.kubelet.log(ns, name, container, true);
      else {
        const reason = cs?.state?.waiting?.reason ?? 'ContainerCreating';
        const why = reason === 'ErrImagePull' ? "image can't be pulled" : reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason;
        throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`);
      }
    }
    if (!buf) throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
    const num = (k: string) => (q.get(k) !== null && q.get(k) !== '' ? Number(q.get(k)) : undefined);
    const opts: LogOptions = { tailLines: num('tailLines'), sinceSeconds: num('sinceSeconds'), sinceTime: q.get('sinceTime') ?? undefined, limitBytes: num('limitBytes'), timestamps: q.get('timestamps') === 'true' };
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Audit-Id': randomUUID(), 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    streams.add(res);
    const follow = q.get('follow') === 'true' || q.get('follow') === '1';
    const unsub = buf.stream(opts, follow, (b) => res.write(b), () => res.end());
    res.on('close', () => {
      unsub();
      streams.delete(res);
    });
  }

  async function createJob(req: http.IncomingMessage, res: http.ServerResponse, ns: string, path: string, q: URLSearchParams) {
    const body = await readBody(req);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Object \'Kind\' is missing in request body');
    if (body.apiVersion !== undefined && body.apiVersion !== 'batch/v1') throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (batch/v1)`);
    if (body.kind !== undefined && body.kind !== 'Job') throw badRequest(`Job in version "v1" cannot be handled as a Job: kind ${body.kind} does not match`);
    if (body.metadata?.namespace && body.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (!d.namespaces.has(ns)) throw new HttpError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    const invalid = (name: string, detail: string, causes: object[]) => {
      const message = `Job.batch "${name}" is invalid: ${detail}`;
      d.rejected.push({ path, error: message });
      return new HttpError(422, 'Invalid', message, { name, group: 'batch', kind: 'Job', causes });
    };
    const schema = schemaError(body);
    if (schema) throw invalid(body.metadata?.name ?? body.metadata?.generateName ?? '', schema, [{ reason: 'FieldValueInvalid', message: schema }]);
    defaultJob(body, ns);
    const errs = validateJob(body);
    if (errs.length) {
      const texts = errs.map(errorText);
      const causes = errs.map((e, i) => ({ reason: CAUSE[e.type], message: texts[i].slice(e.field.length + 2), field: e.field }));
      throw invalid(body.metadata.name ?? '', texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`, causes);
    }
    if (d.store.has('jobs', ns, body.metadata.name))
      throw new HttpError(409, 'AlreadyExists', `jobs.batch "${body.metadata.name}" already exists`, { name: body.metadata.name, group: 'batch', kind: 'jobs' });
    if (q.get('dryRun') === 'All') return json(res, 201, body);
    json(res, 201, d.store.create('jobs', body));
  }

  async function createPod(req: http.IncomingMessage, res: http.ServerResponse, ns: string, path: string, q: URLSearchParams) {
    const body = await readBody(req);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Object \'Kind\' is missing in request body');
    if (body.apiVersion !== undefined && body.apiVersion !== 'v1') throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (v1)`);
    if (body.kind !== undefined && body.kind !== 'Pod') throw badRequest(`Pod in version "v1" cannot be handled as a Pod: kind ${body.kind} does not match`);
    if (body.metadata?.namespace && body.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (!d.namespaces.has(ns)) throw new HttpError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    const errors = preparePod(body, ns);
    if (errors.length) {
      const message = `Pod "${body.metadata?.name ?? ''}" is invalid: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`;
      d.rejected.push({ path, error: message });
      throw new HttpError(422, 'Invalid', message, { name: body.metadata?.name ?? '', kind: 'Pod', causes: errors.map((message) => ({ reason: 'FieldValueInvalid', message })) });
    }
    if (d.store.has('pods', ns, body.metadata.name)) throw new HttpError(409, 'AlreadyExists', `pods "${body.metadata.name}" already exists`, { name: body.metadata.name, kind: 'pods' });
    if (q.get('dryRun') === 'All') return json(res, 201, body);
    json(res, 201, d.store.create('pods', body));
  }

  const custom = customRoutes({ store: d.store, jobs: d.jobs, namespaces: d.namespaces, rejected: d.rejected, fail: (code, reason, message, details) => new HttpError(code, reason, message, details) });

  async function del(req: http.IncomingMessage, res: http.ServerResponse, kind: Kind, ns: string, name: string, q: URLSearchParams) {
    const opts = (await readBody(req)) ?? {};
    const graceRaw = q.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
    const grace = graceRaw !== undefined && graceRaw !== null ? Number(graceRaw) : undefined;
    const orphan = q.get('orphanDependents') ?? opts.orphanDependents;
    let policy = (q.get('propagationPolicy') ?? opts.propagationPolicy) as Propagation | undefined;
    if (policy && !['Orphan', 'Background', 'Foreground'].includes(policy)) throw new HttpError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
    if (kind === 'pods') {
      const pod = d.jobs.deletePod(ns, name, grace);
      if (!pod) throw notFound('pods', name);
      return json(res, 200, pod);
    }
    // batch/v1 Jobs default to orphaning their pods when no policy is given (unlike kubectl, which sends Background)
    policy ??= orphan === true || orphan === 'true' ? 'Orphan' : orphan === false || orphan === 'false' ? 'Background' : 'Orphan';
    const job = d.jobs.deleteJob(ns, name, policy, grace);
    if (!job) throw notFound('jobs', name, 'batch');
    if (policy === 'Foreground') return json(res, 200, job);
    json(res, 200, success({ name, group: 'batch', kind: 'jobs', uid: job.metadata.uid }));
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const ua = req.headers['user-agent'];
    d.requests.push({ method, path: p, query: url.search.replace(/^\?/, ''), ...(ua ? { userAgent: ua } : {}) });
    const auth = req.headers.authorization;
    if (auth !== undefined && auth !== `Bearer ${d.token}`) throw new HttpError(401, 'Unauthorized', 'Unauthorized');
    if (auth === undefined && !PUBLIC.has(p)) throw new HttpError(403, 'Forbidden', `forbidden: User "system:anonymous" cannot ${method.toLowerCase()} path "${p}"`);
    const isWatch = q.get('watch') === 'true' || q.get('watch') === '1';
    if (p === '/version') return json(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-fake', platform: 'linux/amd64' });
    if (p === '/healthz' || p === '/livez' || p === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end('ok');
    }
    if (p === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: req.headers.host ?? '' }] });
    if (p === '/apis')
      return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [
          { name: 'batch', versions: [{ groupVersion: 'batch/v1', version: 'v1' }], preferredVersion: { groupVersion: 'batch/v1', version: 'v1' } },
          { name: 'argoproj.io', versions: [{ groupVersion: ARGO_API_VERSION, version: 'v1alpha1' }], preferredVersion: { groupVersion: ARGO_API_VERSION, version: 'v1alpha1' } },
        ],
      });
    if (p === '/api/v1/nodes' && method === 'GET') return json(res, 200, { apiVersion: 'v1', kind: 'NodeList', metadata: { resourceVersion: String(d.store.rv) }, items: d.nodeObjects() });
    let m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(p);
    if (m && method === 'GET') {
      const n = d.nodeObjects().find((x) => x.metadata.name === m![1]);
      if (!n) throw notFound('nodes', m[1]);
      return json(res, 200, n);
    }
    if (p.startsWith('/apis/argoproj.io/')) {
      const r = await custom(req, p, q, () => readBody(req), (plural, ns) => (isWatch ? watch(req, res, plural, ns, q) : list(plural, ns, q)));
      if (!r) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource', {});
      if (res.headersSent) return; // a watch answered on its own
      return json(res, r.code, r.body);
    }
    m = /^\/(?:api\/v1|apis\/batch\/v1)(?:\/namespaces\/([^/]+))?\/(pods|jobs)(?:\/([^/]+)(?:\/(log|status))?)?$/.exec(p);
    if (!m || (m[2] === 'pods') !== p.startsWith('/api/v1/')) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource', {});
    const [, ns, kindStr, name, sub] = m;
    const kind = kindStr as Kind;
    const notAllowed = () => new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    if (!name) {
      if (method === 'GET') return isWatch ? watch(req, res, kind, ns, q) : json(res, 200, list(kind, ns, q));
      if (method === 'POST' && kind === 'jobs' && ns) return createJob(req, res, ns, p, q);
      if (method === 'POST' && kind === 'pods' && ns) return createPod(req, res, ns, p, q);
      throw notAllowed();
    }
    if (!ns) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource', {});
    if (sub === 'log') {
      if (kind !== 'pods' || method !== 'GET') throw notAllowed();
      return podLog(req, res, ns, name, q);
    }
    if (method === 'GET') {
      const o = d.store.get(kind, ns, name);
      if (!o) throw kind === 'jobs' ? notFound('jobs', name, 'batch') : notFound('pods', name);
      return json(res, 200, o);
    }
    if (method === 'DELETE' && !sub) return del(req, res, kind, ns, name, q);
    throw notAllowed();
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((e) => {
      const msg = String(e?.message ?? e);
      // selector parse errors are the client's fault (400); anything else is a bug in the double (500)
      const err = e instanceof HttpError ? e : /selector|requirement|field label/.test(msg) ? badRequest(msg) : new HttpError(500, 'InternalError', msg);
      if (res.headersSent) return res.end();
      json(res, err.code, statusBody(err.code, err.reason, err.message, err.details));
    });
  });

  return {
    server,
    /** End every open watch and log stream cleanly (clients see a normal end, not a reset). */
    endStreams() {
      for (const r of streams) r.end();
      streams.clear();
    },
  };
}
