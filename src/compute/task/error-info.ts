// What a failed attempt records of its error (type, message, stack, where in the user's code), and
// which errors are worth another attempt. The task records them wherever it ran (a worker, a pod);
// the runner reads them by name.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorInfo } from '../../datastore/metadata.js';

/**
 * Errors flowbook raises about how the flow's code uses it (a bad next(), a foreach over a
 * non-array, an unknown parameter, a value that cannot be stored, …). The same code fails the same
 * way on every attempt, so retrying only delays the failure: they are never retried. Matched by
 * name, as a task's error reaches the runner as a record (from a worker or a pod).
 */
const FLOW_MISTAKES = new Set(['FlowUsageError', 'GraphError', 'ParamError', 'ForeachError', 'SerializationError', 'MergeConflictError']);

/** Whether a failed attempt may succeed when run again (user errors, timeouts, lost workers may). */
export function retryable(error: Pick<ErrorInfo, 'type'> | undefined): boolean {
  return !error || !FLOW_MISTAKES.has(error.type);
}

/** flowbook's own code (src/ and dist/ of this package; source maps show src/ for dist/): never "where" a user's error was thrown */
const PACKAGE = fileURLToPath(new URL('../../../', import.meta.url));
const FLOWBOOK_CODE = [path.join(PACKAGE, 'src') + path.sep, path.join(PACKAGE, 'dist') + path.sep];

export function errorInfo(err: unknown): ErrorInfo {
  const e = err as any;
  const stack: string | undefined = e instanceof Error ? e.stack : undefined;
  // where in the user's code it was thrown: the first frame outside flowbook and node_modules
  const where = stack
    ?.split('\n')
    .slice(1)
    .map((l) => /\((.+?):(\d+):\d+\)$|at (.+?):(\d+):\d+$/.exec(l.trim()))
    .find((m) => {
      const file = (m?.[1] ?? m?.[3] ?? '').replace(/^file:\/\//, '');
      return !!m && !/node_modules|^node:/.test(file) && !FLOWBOOK_CODE.some((dir) => file.startsWith(dir));
    });
  return {
    type: e?.name ?? typeof err,
    message: e instanceof Error ? e.message : String(err),
    stack,
    ...(where ? { where: `${path.relative(process.cwd(), where[1] ?? where[3])}:${where[2] ?? where[4]}` } : {}),
  };
}

