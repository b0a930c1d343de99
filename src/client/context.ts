// The client's process-wide settings: the datastore root and the namespace. Kept on globalThis
// so a notebook that loads the package twice (source and build) still has one namespace.
import { FlowDatastore, currentUser, resolveRoot } from '../datastore/store.js';
import { runIndexFor, type RunIndex } from '../datastore/index-files.js';

interface ClientState {
  root?: string;
  /** undefined: not chosen yet (→ user:<name>); null: every run */
  namespace?: string | null;
  stores: Map<string, { store: FlowDatastore; index: RunIndex }>;
}

const KEY = Symbol.for('flowbook.client');
const g = globalThis as any;
g[KEY] ??= { stores: new Map() } satisfies ClientState;
const state = (): ClientState => g[KEY];

/** Point the client at a datastore (default: $FLOWBOOK_HOME or ./.flowbook). */
export function setDatastoreRoot(root: string | undefined): void {
  state().root = root === undefined ? undefined : resolveRoot(root);
  state().stores.clear();
}

export function datastoreRoot(): string {
  return state().root ?? resolveRoot();
}

/** Metaflow's namespace(): a tag runs must carry to be seen; null sees every run. Returns it. */
export function namespace(ns: string | null): string | null {
  state().namespace = ns;
  return ns;
}

export function getNamespace(): string | null {
  const ns = state().namespace;
  return ns === undefined ? `user:${currentUser()}` : ns;
}

/** Back to `user:<you>`. */
export function defaultNamespace(): string {
  const ns = `user:${currentUser()}`;
  state().namespace = ns;
  return ns;
}

export function storeFor(flowName: string): { store: FlowDatastore; index: RunIndex } {
  const root = datastoreRoot();
  const key = `${root}\0${flowName}`;
  let s = state().stores.get(key);
  if (!s) {
    const store = new FlowDatastore(root, flowName);
    s = { store, index: runIndexFor(store.backend, flowName) };
    state().stores.set(key, s);
  }
  return s;
}
