// The pool of local workers. Warm (default): long-lived processes, one task at a time each.
// `--isolation process`: a fresh process per task, closed after it.
import { LocalWorker, type OutputSink } from '../compute/local-worker.js';
import type { TaskResult, TaskSpec } from './task-spec.js';

export class WorkerPool {
  private workers: LocalWorker[] = [];
  private spawned = 0;

  constructor(
    private isolation: 'worker' | 'process',
    private sink: OutputSink,
    private flowFile: string,
    private flowName: string,
  ) {}

  private spawn(): LocalWorker {
    const w = new LocalWorker(++this.spawned, this.sink, this.flowFile, this.flowName);
    this.workers.push(w);
    return w;
  }

  /** Start workers ahead of the first tasks so their start-up overlaps the runner's. */
  prestart(n: number): void {
    if (this.isolation === 'worker') for (let i = this.workers.length; i < n; i++) this.spawn();
  }

  async run(spec: Omit<TaskSpec, 'worker'>, timeoutSeconds?: number): Promise<TaskResult> {
    this.workers = this.workers.filter((w) => w.alive);
    const w = (this.isolation === 'worker' && this.workers.find((x) => !x.busy)) || this.spawn();
    try {
      return await w.run({ ...spec, worker: w.name }, timeoutSeconds);
    } finally {
      if (this.isolation === 'process') w.close();
    }
  }

  killAll(): void {
    for (const w of this.workers) w.kill();
  }

  close(): void {
    for (const w of this.workers) w.close();
  }
}
