// The run part of a pathspec on the command line: `latest`, `latest-successful`, or an id.
import { Flow } from '../client/index.js';
import { NotFoundError } from '../errors.js';

/**
 * A pathspec with its run part resolved: `Flow/latest/…` is the flow's newest run,
 * `Flow/latest-successful/…` its newest successful one, and a bare `Flow` its newest run.
 * Shared by dump, logs, card and advise (call after the namespace is set).
 */
export async function resolvePathspec(pathspec: string): Promise<string> {
  const parts = pathspec.split('/');
  if (parts.length === 1 && parts[0]) parts.push('latest');
  if (parts[1] !== 'latest' && parts[1] !== 'latest-successful') return pathspec;
  const flow = Flow(parts[0]);
  const run = await (parts[1] === 'latest' ? flow.latestRun : flow.latestSuccessfulRun);
  if (!run) throw new NotFoundError(`flow ${parts[0]} has no ${parts[1] === 'latest' ? '' : 'successful '}runs`);
  parts[1] = run.id;
  return parts.join('/');
}
