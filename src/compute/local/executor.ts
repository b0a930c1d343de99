// The pool of local workers, as an Executor. Warm (default): long-lived processes, one task at a
// time each. `--isolation process`: a fresh process per task, closed after it. A task holds a
// slot of this machine's cores and memory (slots.ts) while it runs.
import type { RunMeta } from '../../datastore/metadata.js';
import type { LoadedFlow } from '../../flow/load.js';
import type { Executor, OutputSink, StepTerms } from '../executor.js';
import type { TaskResult, TaskSpec } from '../task/spec.js';
import { LocalWorker } from './worker.js';
import { localSlots } from './slots.js';

export interface LocalExecutorOptions {
  isolation: 'worker' | 'process';
  sink: OutputSink;
  flowFile: string;
  flowName: string;
  /** the cores and MiB of memory tasks may hold */
  cores: number;
  memoryMiB: number;
}

export class LocalExecutor implements Executor {
  readonly name = 'local workers';
  private workers: LocalWorker[] = [];
  private spawned = 0;
  private slots?: (step: string) => StepTerms;

  constructor(private o: LocalExecutorOptions) {}

  private spawn(): LocalWorker {
    const w = new LocalWorker(++this.spawned, this.o.sink, this.o.flowFile, this.o.flowName);
    this.workers.push(w);
    return w;
  }

  /** Start workers ahead of the first tasks so their start-up overlaps the runner's. */
  prestart(n: number): void {
    if (this.o.isolation === 'worker') for (let i = this.workers.length; i < n; i++) this.spawn();
  }

  /** The flow is loaded: its steps' slots come from their @resources and its localResources hooks. */
  plan(flow: LoadedFlow, params: Record<string, unknown>, warn: (line: string) => void): void {
    this.slots = localSlots(flow, params, { cores: this.o.cores, memoryMiB: this.o.memoryMiB }, warn);
  }

  async prepare(_run: RunMeta): Promise<string | undefined> {
    return undefined;
  }

  terms(step: string): StepTerms {
    if (!this.slots) throw new Error('LocalExecutor.plan() must be called before terms()');
    return this.slots(step);
  }

  async run(spec: Omit<TaskSpec, 'worker'>, timeoutSeconds?: number): Promise<TaskResult> {
    this.workers = this.workers.filter((w) => w.alive);
    const w = (this.o.isolation === 'worker' && this.workers.find((x) => !x.busy)) || this.spawn();
    try {
      return await w.run({ ...spec, worker: w.name }, timeoutSeconds);
    } finally {
      if (this.o.isolation === 'process') w.close();
    }
  }

  killAll(): void {
    for (const w of this.workers) w.kill();
  }

  close(): void {
    for (const w of this.workers) w.close();
  }
}
