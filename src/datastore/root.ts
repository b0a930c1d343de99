// Where the datastore lives: a local folder (found as git finds .git) or an s3:// root.
import fs from 'node:fs';
import path from 'node:path';
import { DatastoreError } from '../errors.js';

/**
 * Where the datastore lives. An `s3://bucket/prefix` root is used as it is. With
 * FLOWBOOK_DATASTORE=s3 (or `--datastore s3`): --datastore-root, else FLOWBOOK_S3_ROOT. Locally:
 * --datastore-root, then FLOWBOOK_HOME, then the nearest `.flowbook` directory in the working
 * directory or above it (as git finds `.git`: a notebook in `notebooks/` sees the runs made from
 * the project root), else ./.flowbook.
 */
export function resolveRoot(explicit?: string): string {
  if (explicit?.startsWith('s3://')) return explicit;
  const kind = process.env.FLOWBOOK_DATASTORE || 'local';
  if (kind === 's3') {
    const root = explicit ?? process.env.FLOWBOOK_S3_ROOT;
    if (!root) throw new DatastoreError('the S3 datastore needs a root: set FLOWBOOK_S3_ROOT=s3://bucket/prefix (or --datastore-root s3://…)');
    if (!root.startsWith('s3://')) throw new DatastoreError(`the S3 datastore root must be s3://bucket/prefix, got ${JSON.stringify(root)}`);
    return root;
  }
  if (kind !== 'local') throw new DatastoreError(`FLOWBOOK_DATASTORE must be 'local' or 's3', got ${JSON.stringify(kind)}`);
  const given = explicit ?? process.env.FLOWBOOK_HOME;
  if (given) return path.resolve(given);
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.flowbook'))) return path.join(dir, '.flowbook');
    if (path.dirname(dir) === dir) return path.resolve('.flowbook');
  }
}
