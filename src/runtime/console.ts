// What the runner prints: the tasks' prefixed output as it comes, status lines, and on a TTY a
// live progress line (done / running / failed) kept at the bottom.
export class RunConsole {
  private line = '';
  private readonly tty = !!process.stderr.isTTY && !process.env.CI;

  constructor(private quiet = false) {}

  private clear(): void {
    if (this.tty && this.line) process.stderr.write('\r\x1b[K');
  }
  private redraw(): void {
    if (this.tty && this.line) process.stderr.write(this.line);
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

  progress(p: { done: number; running: number; failed: number; cloned: number }): void {
    if (!this.tty || this.quiet) return;
    this.clear();
    this.line = `  ${p.done} done${p.cloned ? `, ${p.cloned} cloned` : ''}, ${p.running} running, ${p.failed} failed`;
    this.redraw();
  }

  end(): void {
    this.clear();
    this.line = '';
  }
}
