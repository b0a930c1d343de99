// One follow of a pod's log, resumable: lines come with the kubelet's timestamps, so a stream cut
// by a lost connection can be followed again from the last line shown (sinceTime), skipping the
// lines of that instant already shown — the console gets each line once.
import { PassThrough } from 'node:stream';
import type { Log } from '@kubernetes/client-node';

/** where the lines shown so far end: the last line's time, and how many lines had that time */
export interface LogPosition {
  ts: string;
  atTs: number;
}

/**
 * Follow the log of the pod's `step` container from `seen` on. Resolves when the stream ends:
 * true when it ended cleanly (the container's output closed), false when it was cut.
 */
export async function followPodLog(log: Log, namespace: string, pod: string, seen: LogPosition, show: (line: string) => void, signal?: AbortSignal): Promise<boolean> {
  const out = new PassThrough();
  out.setEncoding('utf8');
  let partial = '';
  let skip = seen.atTs; // lines at seen.ts that the stream before showed
  const line = (l: string) => {
    const sp = l.indexOf(' ');
    const ts = sp > 0 ? nanoTime(l.slice(0, sp)) : '';
    const text = ts ? l.slice(sp + 1) : l;
    if (ts && seen.ts && ts < seen.ts) return;
    if (ts && ts === seen.ts) {
      if (skip > 0) return void skip--;
      seen.atTs++;
    } else if (ts) {
      seen.ts = ts;
      seen.atTs = 1;
      skip = 0;
    }
    show(text);
  };
  out.on('data', (c: string) => {
    const lines = (partial + c).split('\n');
    partial = lines.pop()!;
    for (const l of lines) line(l);
  });
  // a connection cut without a word can leave the stream open forever: the caller aborts it then
  // (the watch saw the API go), and this follow counts as cut
  let ctl: AbortController | undefined;
  const ended = new Promise<boolean>((r) => {
    out.once('end', () => r(true)).once('close', () => r(false)).once('error', () => r(false));
    signal?.addEventListener('abort', () => (ctl?.abort(), r(false)), { once: true });
  });
  try {
    if (signal?.aborted) return false;
    ctl = await log.log(namespace, pod, 'step', out, { follow: true, timestamps: true, ...(seen.ts ? { sinceTime: seen.ts } : {}) });
    if (signal?.aborted) ctl.abort();
    return await ended;
  } finally {
    if (partial) line(partial);
  }
}

/** An RFC 3339 time with its fraction padded to nanoseconds, so times compare as strings. */
function nanoTime(ts: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(ts);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z` : '';
}
