// The worker thread behind S3Backend.getSync/existsSync/listSync: the calling thread blocks (synckit,
// Atomics.wait) while this thread runs the backend's own async get/exists, so a step's `this.x`
// can stay a plain synchronous property on S3 too.
import { runAsWorker } from 'synckit';
import { NotFoundError } from '../../errors.js';
import { S3Backend } from './backend.js';
import type { SyncRequest, SyncResponse } from './sync-protocol.js';

const backends = new Map<string, S3Backend>();

runAsWorker(async (req: SyncRequest): Promise<SyncResponse> => {
  const id = `${req.location}\0${JSON.stringify(req.config)}`;
  let backend = backends.get(id);
  if (!backend) backends.set(id, (backend = new S3Backend(req.location, req.config)));
  try {
    if (req.op === 'get') return { found: true, data: await backend.get(req.key) };
    if (req.op === 'list') return { found: true, names: await backend.list(req.key) };
    return { found: await backend.exists(req.key) };
  } catch (err: any) {
    if (err instanceof NotFoundError) return { found: false };
    return { found: false, error: String(err?.message ?? err) };
  }
});
