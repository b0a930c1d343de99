// A task's stdout/stderr: stored in the datastore beside the task and echoed with a
// `[run/step/task]` prefix. Inside a warm worker, process.stdout/stderr writes are captured for
// the duration of the task (console.log goes through them).
import fs from 'node:fs';
import path from 'node:path';

type Write = typeof process.stdout.write;

export class TaskOutput {
  /** opened on the first write: a task that prints nothing creates no file */
  private fds: Partial<Record<'stdout' | 'stderr', number>> = {};
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private originals: Record<'stdout' | 'stderr', Write>;

  constructor(
    private files: Record<'stdout' | 'stderr', string>,
    private prefix: string,
    private echo: boolean,
  ) {
    this.originals = { stdout: process.stdout.write, stderr: process.stderr.write };
    for (const stream of ['stdout', 'stderr'] as const) {
      const self = this;
      (process[stream] as any).write = function (chunk: any, enc?: any, cb?: any) {
        self.write(stream, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString((typeof enc === 'string' ? enc : 'utf8') as BufferEncoding));
        const done = typeof enc === 'function' ? enc : cb;
        if (typeof done === 'function') queueMicrotask(() => done());
        return true;
      };
    }
  }

  /** To the task's log only: a user's stack trace belongs there, not on the run's console. */
  logOnly(stream: 'stdout' | 'stderr', text: string): void {
    fs.writeSync(this.fd(stream), text);
  }

  private fd(stream: 'stdout' | 'stderr'): number {
    let fd = this.fds[stream];
    if (fd === undefined) {
      fs.mkdirSync(path.dirname(this.files[stream]), { recursive: true });
      this.fds[stream] = fd = fs.openSync(this.files[stream], 'a');
    }
    return fd;
  }

  write(stream: 'stdout' | 'stderr', text: string): void {
    if (!text) return;
    fs.writeSync(this.fd(stream), text);
    if (!this.echo) return;
    const lines = (this.partial[stream] + text).split('\n');
    this.partial[stream] = lines.pop()!;
    if (lines.length) this.originals[stream].call(process[stream], lines.map((l) => `${this.prefix} ${l}\n`).join(''));
  }

  close(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      (process[stream] as any).write = this.originals[stream];
      if (this.echo && this.partial[stream]) process[stream].write(`${this.prefix} ${this.partial[stream]}\n`);
      const fd = this.fds[stream];
      if (fd === undefined) continue;
      // durable before the task's record says it finished
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      delete this.fds[stream];
    }
  }
}
