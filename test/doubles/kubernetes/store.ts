// The apiserver's object store: one global resourceVersion (etcd's revision) bumped by every change,
// a bounded history of change events so a watch can resume "after resourceVersion N", and the label
// and field selectors lists and watches filter with.
import { randomUUID } from 'node:crypto';

/** Argo's custom resources (argoproj.io/v1alpha1), stored like the built-in kinds. */
export type CustomPlural = 'workflowtemplates' | 'cronworkflows' | 'workflows';
export const CUSTOM_PLURALS: CustomPlural[] = ['workflowtemplates', 'cronworkflows', 'workflows'];
export type Kind = 'pods' | 'jobs' | CustomPlural;
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface StoreEvent {
  type: EventType;
  kind: Kind;
  object: any;
  /** the object before this change (MODIFIED), so a watch can tell "left the selector" from "changed" */
  prev?: any;
  rv: number;
}

/** RFC 3339 at second precision, as the apiserver writes metav1.Time. */
export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

// etcd compacts old revisions; a watch from before the oldest kept event gets 410 Gone, as for real
const HISTORY = 5000;

export class Store {
  rv = 1;
  private objs: Record<Kind, Map<string, any>> = { pods: new Map(), jobs: new Map(), workflowtemplates: new Map(), cronworkflows: new Map(), workflows: new Map() };
  readonly history: StoreEvent[] = [];
  private listeners = new Set<(e: StoreEvent) => void>();
  private queue: StoreEvent[] = [];
  private dispatching = false;

  get(kind: Kind, ns: string, name: string): any | undefined {
    const o = this.objs[kind].get(`${ns}/${name}`);
    return o && structuredClone(o);
  }
  has(kind: Kind, ns: string, name: string): boolean {
    return this.objs[kind].has(`${ns}/${name}`);
  }
  /** Current objects in creation order (Map insertion order), deep copies. */
  list(kind: Kind, ns?: string): any[] {
    return [...this.objs[kind].values()].filter((o) => !ns || o.metadata.namespace === ns).map((o) => structuredClone(o));
  }
  create(kind: Kind, obj: any): any {
    const o = structuredClone(obj);
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp = now();
    o.metadata.resourceVersion = String(++this.rv);
    this.objs[kind].set(`${o.metadata.namespace}/${o.metadata.name}`, o);
    this.emit({ type: 'ADDED', kind, object: structuredClone(o), rv: this.rv });
    return structuredClone(o);
  }
  /** Mutate in place; a no-op mutation writes nothing (no new resourceVersion, no event), like a real update. */
  update(kind: Kind, ns: string, name: string, mutate: (o: any) => void): any | undefined {
    const o = this.objs[kind].get(`${ns}/${name}`);
    if (!o) return undefined;
    const before = JSON.stringify(o);
    const prev = JSON.parse(before);
    mutate(o);
    if (JSON.stringify(o) === before) return structuredClone(o);
    o.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'MODIFIED', kind, object: structuredClone(o), prev, rv: this.rv });
    return structuredClone(o);
  }
  remove(kind: Kind, ns: string, name: string): any | undefined {
    const key = `${ns}/${name}`;
    const o = this.objs[kind].get(key);
    if (!o) return undefined;
    this.objs[kind].delete(key);
    o.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', kind, object: structuredClone(o), rv: this.rv });
    return structuredClone(o);
  }
  on(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  /**
   * Listeners often write in response (the scheduler binds, the kubelet reports): those writes are
   * queued, so every listener — watch streams included — sees events in resourceVersion order.
   */
  private emit(e: StoreEvent) {
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.shift();
    this.queue.push(e);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let ev = this.queue.shift(); ev; ev = this.queue.shift()) {
        for (const fn of [...this.listeners]) {
          try {
            fn(ev);
          } catch (err) {
            console.error('fake cluster: store listener failed:', err);
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }
}

// ---- selectors -------------------------------------------------------------------------------

export type Selector = (o: any) => boolean;

/** Split on commas outside parentheses: "a in (x,y),b" → ["a in (x,y)", "b"]. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

/** labels.Parse: equality (=, ==, !=), set (in, notin), existence (key, !key). Throws on bad syntax (→ 400). */
export function parseLabelSelector(sel: string | null | undefined): Selector {
  if (!sel) return () => true;
  const reqs: Selector[] = splitTerms(sel).map((t) => {
    let m: RegExpExecArray | null;
    const labels = (o: any): Record<string, string> => o.metadata?.labels ?? {};
    if ((m = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t))) {
      const [, k, op, vs] = m;
      const set = new Set(vs.split(',').map((v) => v.trim()));
      return op === 'in' ? (o) => k in labels(o) && set.has(labels(o)[k]) : (o) => !(k in labels(o)) || !set.has(labels(o)[k]);
    }
    if ((m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(t))) {
      const [, k, op, v] = m;
      return op === '!=' ? (o) => labels(o)[k] !== v : (o) => labels(o)[k] === v;
    }
    if ((m = /^!\s*([^\s!=(),]+)$/.exec(t))) return (o) => !(m![1] in labels(o));
    if (/^[^\s!=(),]+$/.test(t)) return (o) => t in labels(o);
    throw new Error(`unable to parse requirement: found '${t}', expected: in, notin, =, ==, !=, gt, lt`);
  });
  return (o) => reqs.every((r) => r(o));
}

// the field selectors the apiserver registers for each resource (anything else is a 400)
const FIELDS = {
  pods: {
    'metadata.name': (o) => o.metadata.name,
    'metadata.namespace': (o) => o.metadata.namespace,
    'spec.nodeName': (o) => o.spec?.nodeName ?? '',
    'spec.restartPolicy': (o) => o.spec?.restartPolicy ?? '',
    'spec.schedulerName': (o) => o.spec?.schedulerName ?? '',
    'spec.serviceAccountName': (o) => o.spec?.serviceAccountName ?? '',
    'status.phase': (o) => o.status?.phase ?? '',
    'status.podIP': (o) => o.status?.podIP ?? '',
    'status.nominatedNodeName': (o) => o.status?.nominatedNodeName ?? '',
  },
  jobs: {
    'metadata.name': (o) => o.metadata.name,
    'metadata.namespace': (o) => o.metadata.namespace,
    'status.successful': (o) => String(o.status?.succeeded ?? 0),
  },
  // custom resources get only the two metadata field selectors
  ...Object.fromEntries(CUSTOM_PLURALS.map((k) => [k, { 'metadata.name': (o: any) => o.metadata.name, 'metadata.namespace': (o: any) => o.metadata.namespace }])),
} as unknown as Record<Kind, Record<string, (o: any) => string>>;

export function parseFieldSelector(kind: Kind, sel: string | null | undefined): Selector {
  if (!sel) return () => true;
  const reqs: Selector[] = splitTerms(sel).map((t) => {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(t);
    if (!m) throw new Error(`invalid selector: '${sel}'; can't understand '${t}'`);
    const [, f, op, v] = m;
    const get = FIELDS[kind][f];
    if (!get) throw new Error(`field label not supported: ${f}`);
    return op === '!=' ? (o) => get(o) !== v : (o) => get(o) === v;
  });
  return (o) => reqs.every((r) => r(o));
}
