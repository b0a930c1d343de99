// A warm local worker: a child process that keeps the flow module loaded and runs one task at a
// time. A task that overruns its @timeout, or a worker that dies (OOM, process.exit), fails the
// task with a clear error; the pool replaces the worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import { pathspecOf, type TaskResult, type TaskSpec } from '../task/spec.js';
import type { ErrorInfo } from '../../datastore/metadata.js';
import type { OutputSink } from '../executor.js';
import { PDEATHSIG_FLAG, pdeathsigLauncher } from './orphan-watchdog.js';

function workerEntry(): string {
  const here = fileURLToPath(new URL('./worker-main.js', import.meta.url));
  if (fs.existsSync(here)) return here;
  // running from the TypeScript sources (tests): use the built worker
  return fileURLToPath(new URL('../../../dist/compute/local/worker-main.js', import.meta.url));
}

let nextId = 1;

export class LocalWorker {
  readonly name: string;
  private child: ChildProcess;
  private pending?: { id: number; resolve: (r: TaskResult) => void; spec: TaskSpec; timer?: NodeJS.Timeout };
  private exited = false;
  private heapFull = false;
  /** what the worker said killed it (an error thrown outside the step's await chain) */
  private fatalError?: ErrorInfo;
  /** killed (timeout, run failed): never given another task, even before its exit event arrives */
  private killed = false;
  busy = false;
  tasksRun = 0;

  /** where its output goes; what it prints before a run attaches is held until then */
  private sink?: OutputSink;
  private held: [stream: 'stdout' | 'stderr', chunk: string][] = [];

  constructor(index: number, sink?: OutputSink) {
    this.name = `local-${index}`;
    this.sink = sink;
    const entry = [process.execPath, '--enable-source-maps', workerEntry()];
    const setpriv = pdeathsigLauncher();
    // a node started by spawn() with an 'ipc' pipe is connected exactly as fork() connects it
    this.child = spawn(setpriv ?? entry[0], setpriv ? ['--pdeathsig', 'KILL', ...entry, PDEATHSIG_FLAG] : entry.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, FLOWBOOK_WORKER: this.name },
    });
    this.child.stdout!.setEncoding('utf8').on('data', (c: string) => this.output('stdout', c));
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      // V8's last words before it aborts on a full heap
      if (c.includes('JavaScript heap out of memory')) this.heapFull = true;
      this.output('stderr', c);
    });
    this.child.on('message', (m: any) => {
      if (m?.type === 'result' && this.pending?.id === m.id) this.settle(m.result);
      // the worker is about to exit for an error outside the step's await chain: it is the task's
      if (m?.type === 'fatal' && this.pending?.id === m.id) this.fatalError = m.error;
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      if (this.pending) {
        const p = this.pending;
        if (this.heapFull) {
          const m = p.spec.resources.memory;
          this.settle({ ok: false, lost: true, pathspec: pathspecOf(p.spec), error: { type: 'OutOfMemory', message: `out of memory: the JavaScript heap is full${m ? ` (${m} MiB requested)` : ''}; raise @resources(memory)` } });
          return;
        }
        if (this.fatalError) {
          this.settle({ ok: false, lost: true, pathspec: pathspecOf(p.spec), error: this.fatalError });
          return;
        }
        const why = signal === 'SIGKILL' ? 'was killed (SIGKILL: out of memory?)' : signal ? `was killed by ${signal}` : `exited with code ${code}`;
        this.settle({ ok: false, lost: true, pathspec: pathspecOf(p.spec), error: { type: 'WorkerDied', message: `the worker process running the task ${why}` } });
      }
    });
  }

  /** Load the flow now, so the first task does not wait for it (`flowModule`: the prepared bundle). */
  preload(flowFile: string, flowName: string, flowModule: string | undefined): void {
    if (this.alive && this.child.connected) this.child.send({ type: 'preload', flowFile, flowName, flowModule });
  }

  private output(stream: 'stdout' | 'stderr', chunk: string): void {
    if (this.sink) this.sink(stream, chunk);
    else this.held.push([stream, chunk]);
  }

  /** A run takes this worker (started before it, by warm-start.ts): its output goes to `sink` from now on. */
  attach(sink: OutputSink): void {
    this.sink = sink;
    for (const [stream, chunk] of this.held.splice(0)) sink(stream, chunk);
  }

  get alive(): boolean {
    return !this.exited && !this.killed;
  }

  private settle(r: TaskResult): void {
    const p = this.pending;
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    this.pending = undefined;
    this.busy = false;
    this.tasksRun++;
    p.resolve(r);
  }

  run(spec: TaskSpec, timeoutSeconds?: number): Promise<TaskResult> {
    this.busy = true;
    return new Promise((resolve) => {
      const id = nextId++;
      this.pending = { id, resolve, spec };
      if (spec.resources.memory > 0) this.watchMemory(id, spec);
      if (timeoutSeconds) {
        this.pending.timer = setTimeout(() => {
          const p = this.pending;
          if (!p || p.id !== id) return;
          this.settle({
            ok: false,
            lost: true,
            pathspec: pathspecOf(spec),
            error: { type: 'TimeoutError', message: `step '${spec.step}' timed out after ${timeoutSeconds} s (@timeout)` },
          });
          this.kill();
        }, timeoutSeconds * 1000);
      }
      this.child.send({ type: 'task', id, spec }, (err) => {
        if (err && this.pending?.id === id) {
          this.settle({ ok: false, lost: true, pathspec: pathspecOf(spec), error: { type: 'WorkerDied', message: `could not send the task to its worker: ${err.message}` } });
        }
      });
    });
  }

  /**
   * The memory a step requested is its limit, as on Kubernetes: a task whose memory passes it is
   * killed and reported, instead of slowing the machine down unnoticed. What counts is the task's
   * own rise over what its warm worker held when the task was handed over (as its resource record
   * measures it: compute/task/usage.ts), so a small join is not killed for a model an earlier task left.
   */
  private watchMemory(id: number, spec: TaskSpec): void {
    const limit = spec.resources.memory;
    const held = rssMiB(this.child.pid) ?? 0;
    const timer: NodeJS.Timeout = setInterval(() => {
      if (this.pending?.id !== id) return clearInterval(timer);
      const rss = rssMiB(this.child.pid);
      const used = rss === undefined ? undefined : rss - held;
      if (used === undefined || used <= limit) return;
      clearInterval(timer);
      this.settle({
        ok: false,
        lost: true,
        pathspec: pathspecOf(spec),
        error: { type: 'OutOfMemory', message: `out of memory: used ≥ ${used} MiB of the ${limit} MiB requested; raise @resources(memory)` },
      });
      this.kill();
    }, 100);
    timer.unref();
  }

  kill(): void {
    this.killed = true;
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Let the worker finish: closing IPC makes it exit. */
  close(): void {
    if (!this.exited && this.child.connected) this.child.disconnect();
  }
}


/** Resident memory of a process in MiB (Linux /proc), undefined when it cannot be read. */
function rssMiB(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
