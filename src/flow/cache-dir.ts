// Where flowbook keeps what it derives from a flow's source and can always derive again: the
// parsed graph, the transformed TypeScript, the prepared bundle, code identities.
import os from 'node:os';
import path from 'node:path';

export function cacheDir(): string {
  return process.env.FLOWBOOK_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'flowbook');
}
