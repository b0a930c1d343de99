// A task's stdout/stderr: stored in the datastore beside the task and echoed with a
// `[run/step/task]` prefix. Inside a warm worker, process.stdout/stderr writes are captured for
// the duration of the task (console.log goes through them).
import fs from 'node:fs';
import path from 'node:path';

type Write = typeof process.stdout.write;

export class TaskOutput {
  private fds: Record<'stdout' | 'stderr', number>;
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private originals: Record<'stdout' | 'stderr', Write>;

  constructor(
    files: Record<'stdout' | 'stderr', string>,
    private prefix: string,
    private echo: boolean,
  ) {
    fs.mkdirSync(path.dirname(files.stdout), { recursive: true });
    this.fds = { stdout: fs.openSync(files.stdout, 'a'), stderr: fs.openSync(files.stderr, 'a') };
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
    fs.writeSync(this.fds[stream], text);
  }

  write(stream: 'stdout' | 'stderr', text: string): void {
    fs.writeSync(this.fds[stream], text);
    if (!this.echo) return;
    const lines = (this.partial[stream] + text).split('\n');
    this.partial[stream] = lines.pop()!;
    if (lines.length) this.originals[stream].call(process[stream], lines.map((l) => `${this.prefix} ${l}\n`).join(''));
  }

  close(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      (process[stream] as any).write = this.originals[stream];
      if (this.echo && this.partial[stream]) process[stream].write(`${this.prefix} ${this.partial[stream]}\n`);
      fs.fsyncSync(this.fds[stream]);
      fs.closeSync(this.fds[stream]);
    }
  }
}
