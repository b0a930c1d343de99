// The task a card type renders for (CardTask), made from its DONE record: artifacts are read from
// the store only when a card type awaits them.
import type { FlowDatastore } from '../../datastore/store.js';
import type { TaskDone } from '../../datastore/metadata.js';
import type { CardTask } from './define.js';

/** The CardTask view of a DONE record: artifacts read lazily from the store. */
export function cardTask(store: FlowDatastore, done: TaskDone, params: Record<string, unknown>): CardTask {
  const [flowName, runId, step, id] = done.pathspec.split('/');
  const data = new Proxy({} as Record<string, Promise<unknown>>, {
    get: (_, name) => {
      if (typeof name !== 'string') return undefined;
      const ref = done.artifacts[name];
      return ref ? store.getArtifact(name, ref) : Promise.reject(new Error(`${done.pathspec} has no artifact '${name}' (it has: ${Object.keys(done.artifacts).join(', ') || 'none'})`));
    },
    has: (_, name) => typeof name === 'string' && name in done.artifacts,
    ownKeys: () => Object.keys(done.artifacts),
    getOwnPropertyDescriptor: (_, name) => (typeof name === 'string' && name in done.artifacts ? { enumerable: true, configurable: true } : undefined),
  });
  return { pathspec: done.pathspec, flowName, runId, step, id, params, data, artifacts: Object.keys(done.artifacts), resources: done.resources, startedAt: done.startedAt, finishedAt: done.finishedAt };
}
