// What the runner prints: the tasks' prefixed output as it comes, status lines, and progress —
// on a TTY a live line (done of total, running, failed, ETA) kept at the bottom; otherwise (a CI
// log, a pipe) the same as a plain line every FLOWBOOK_PROGRESS_SECONDS (10 s) while tasks run,
// so a short run prints none.
export interface RunProgress {
  done: number;
  running: number;
  failed: number;
  cloned: number;
  /** tasks planned so far: a foreach's tasks count once its split has run, a join once it is ready */
  total: number;
}

function duration(s: number): string {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/**
 * The time left, from the pace so far: tasks finish at the rate they have finished (cloned ones
 * took no time and do not count). Undefined until a task has run.
 */
export function eta(p: RunProgress, elapsedSeconds: number): number | undefined {
  const left = p.total - p.done - p.cloned - p.failed;
  if (p.done < 1 || left <= 0) return undefined;
  return (left * elapsedSeconds) / p.done;
}

export function progressLine(p: RunProgress, elapsedSeconds: number): string {
  const e = eta(p, elapsedSeconds);
  return (
    `${p.done + p.cloned} of ${p.total} tasks done${p.cloned ? ` (${p.cloned} cloned)` : ''}, ${p.running} running, ${p.failed} failed, ` +
    `${duration(elapsedSeconds)} elapsed${e !== undefined ? `, ETA ${duration(e)}` : ''}`
  );
}

function intervalSeconds(): number {
  const s = Number(process.env.FLOWBOOK_PROGRESS_SECONDS);
  return Number.isFinite(s) && s > 0 ? s : 10;
}

export class RunConsole {
  private line = '';
  private readonly tty = !!process.stderr.isTTY && !process.env.CI;
  private last?: RunProgress;
  private t0 = performance.now();
  private timer?: NodeJS.Timeout;

  constructor(private quiet = false) {}

  private clear(): void {
    if (this.tty && this.line) process.stderr.write('\r\x1b[K');
  }
  private redraw(): void {
    if (this.tty && this.line) process.stderr.write(this.line);
  }
  private elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** output of a task (already prefixed by the worker) */
  output(stream: 'stdout' | 'stderr', chunk: string): void {
    if (this.quiet) return;
    this.clear();
    (stream === 'stdout' ? process.stdout : process.stderr).write(chunk);
    this.redraw();
  }

  info(text: string): void {
    if (this.quiet) return;
    this.clear();
    process.stderr.write(text + '\n');
    this.redraw();
  }

  /** The run's tasks start from here (the elapsed time and the ETA count from it). */
  started(): void {
    this.t0 = performance.now();
    if (this.quiet) return;
    const tick = () => {
      if (this.tty) {
        // the live line's elapsed time and ETA move even when no task finishes
        if (this.last) this.progress(this.last);
      } else if (this.last && this.last.running > 0) {
        process.stderr.write(`progress: ${progressLine(this.last, this.elapsed())}\n`);
      }
    };
    this.timer = setInterval(tick, (this.tty ? 1 : intervalSeconds()) * 1000);
    this.timer.unref();
  }

  progress(p: RunProgress): void {
    this.last = p;
    if (!this.tty || this.quiet) return;
    this.clear();
    this.line = `  ${progressLine(p, this.elapsed())}`;
    this.redraw();
  }

  end(): void {
    clearInterval(this.timer);
    this.clear();
    this.line = '';
  }
}
