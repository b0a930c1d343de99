// @retry and `--with retry`: what the run says about attempts — when one failed and another
// follows, when it starts, why one was not retried (which failures are worth another attempt:
// compute/task/error-info.ts). Metaflow's default wait is 2 minutes: a silent 2 minutes reads as a hang.
import type { ErrorInfo } from '../datastore/metadata.js';
import { retryable } from '../compute/task/error-info.js';

/** `120 s`, `3 s`, `0.5 s`: the wait before the next attempt. */
function seconds(minutes: number): string {
  const s = minutes * 60;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(1))} s`;
}

/**
 * The run's line when an attempt failed and another follows. `attempt` is 0-based (as
 * current.retryCount); people count attempts from 1, as `flowbook logs` marks them.
 */
export function retryLine(pathspec: string, attempt: number, times: number, minutesBetweenRetries: number, message: string | undefined): string {
  const total = times + 1;
  const when = minutesBetweenRetries > 0 ? `in ${seconds(minutesBetweenRetries)}` : 'now';
  return `${pathspec}: attempt ${attempt + 1} of ${total} failed: ${message}; attempt ${attempt + 2} of ${total} ${when}`;
}

/** The run's line when a retry that waited starts (after a wait of minutes, a sign of life). */
export function retryStartLine(pathspec: string, attempt: number, times: number): string {
  return `${pathspec}: attempt ${attempt + 1} of ${times + 1} starting`;
}

/** Why a failed task with retries left was not retried, for the run's failure line. */
export function notRetriedNote(attempt: number, times: number, error: Pick<ErrorInfo, 'type'> | undefined): string {
  if (attempt >= times || retryable(error)) return '';
  return ` (not retried: a ${error!.type} is a mistake in the flow's code, which fails the same way on every attempt)`;
}
