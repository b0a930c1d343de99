// Progress of long work as plain lines, every few seconds: a transcription (how much of the audio
// is done) and a download (how many bytes). Lines, not a redrawn bar, because a task's output is
// a log: it goes to the run's console with a prefix, into `flowbook logs` and the live card.

/** What an engine reports while it transcribes. */
export interface TranscribeProgress {
  /** seconds of audio transcribed so far */
  audioSeconds: number;
  totalSeconds: number;
  /** since the engine started */
  elapsedSeconds: number;
}

/** FLOWBOOK_PROGRESS_SECONDS: how often progress lines are printed (default 5 s for a task's work). */
export function progressEverySeconds(fallback = 5): number {
  const s = Number(process.env.FLOWBOOK_PROGRESS_SECONDS);
  return Number.isFinite(s) && s > 0 ? s : fallback;
}

/**
 * `transcribe jfk: 42% (4.6 of 11.0 s of audio, 3.1 s elapsed)` at most every `everySeconds`;
 * the first after `everySeconds`, so a short transcription prints none (its result line says it all).
 */
export function transcriptionProgressLines(
  label: string,
  opts: {
    /** seconds between lines. Default: FLOWBOOK_PROGRESS_SECONDS, else 5 */
    everySeconds?: number;
    /** where a line goes. Default console.log (the task's stdout) */
    print?: (line: string) => void;
  } = {},
): (p: TranscribeProgress) => void {
  const every = (opts.everySeconds ?? progressEverySeconds()) * 1000;
  const print = opts.print ?? ((l: string) => console.log(l));
  const t0 = Date.now();
  let last = t0;
  return (p) => {
    const now = Date.now();
    if (now - last < every) return;
    last = now;
    const pct = p.totalSeconds > 0 ? Math.min(100, Math.floor((100 * p.audioSeconds) / p.totalSeconds)) : 0;
    print(`transcribe ${label}: ${pct}% (${p.audioSeconds.toFixed(1)} of ${p.totalSeconds.toFixed(1)} s of audio, ${p.elapsedSeconds.toFixed(1)} s elapsed)`);
  };
}

const mib = (n: number) => (n / 2 ** 20).toFixed(1);

/**
 * Download progress for a log (not a TTY): a line at every 10% of a known size, or every few
 * seconds when the size is unknown or the 10% steps are slow — `tiny.en: 30% (22.5 of 74.1 MiB, 3.2 MiB/s)`.
 */
export function downloadProgressLines(
  label: string,
  opts: {
    /** seconds between lines when the 10% steps are slower. Default: FLOWBOOK_PROGRESS_SECONDS, else 5 */
    everySeconds?: number;
    /** where a line goes. Default: stderr */
    print?: (line: string) => void;
    /** a download done sooner prints nothing. Default 0 */
    quietSeconds?: number;
  } = {},
): (p: { received: number; total?: number }) => void {
  const every = (opts.everySeconds ?? progressEverySeconds()) * 1000;
  const quiet = (opts.quietSeconds ?? 0) * 1000;
  const print = opts.print ?? ((l: string) => process.stderr.write(`${l}\n`));
  const t0 = Date.now();
  let last = t0;
  let lastTenth = 0;
  let first: number | undefined;
  return ({ received, total }) => {
    first ??= received; // a resumed download starts with what the part file held
    const now = Date.now();
    if (now - t0 < quiet) return;
    const tenth = total ? Math.floor((10 * received) / total) : 0;
    const stepped = total !== undefined && tenth > lastTenth;
    if (!stepped && now - last < every) return;
    if (total !== undefined && received >= total && tenth === lastTenth) return;
    last = now;
    lastTenth = tenth;
    const rate = (received - first) / Math.max((now - t0) / 1000, 1e-3);
    const size = total ? `${Math.floor((100 * received) / total)}% (${mib(received)} of ${mib(total)} MiB` : `${mib(received)} MiB (`;
    print(`${label}: ${size}${total ? ', ' : ''}${mib(rate)} MiB/s)`);
  };
}
