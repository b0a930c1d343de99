// The pool of local workers, as an Executor. Warm (default): long-lived processes, one task at a
// time each. `--isolation process`: a fresh process per task, closed after it. A task holds a
// slot of this machine's cores and memory (slots.ts) while it runs.
import type { RunMeta } from '../../datastore/metadata.js';
import type { LoadedFlow } from '../../flow/load.js';
import type { PreparedFlow } from '../../flow/prepare.js';
import type { Executor, OutputSink, StepTerms } from '../executor.js';
import type { TaskResult, TaskSpec } from '../task/spec.js';
import { LocalWorker } from './worker.js';
import { takeWarm } from './warm-start.js';
import { localSlots } from './slots.js';

export interface LocalExecutorOptions {
  isolation: 'worker' | 'process';
  sink: OutputSink;
  /** the cores and MiB of memory tasks may hold */
  cores: number;
  memoryMiB: number;
}

export class LocalExecutor implements Executor {
  readonly name = 'local workers';
  private workers: LocalWorker[] = [];
  private spawned = 0;
  private slots?: (step: string) => StepTerms;
  private flow?: PreparedFlow & { name: string };

  constructor(private o: LocalExecutorOptions) {}

  private spawn(): LocalWorker {
    const w = new LocalWorker(++this.spawned, this.o.sink);
    if (this.flow) w.preload(this.flow.file, this.flow.name, this.flow.module);
    this.workers.push(w);
    return w;
  }

  /**
   * Start workers ahead of the first tasks so their start-up overlaps the runner's: they load
   * flowbook's task code now and the flow once load() names it.
   */
  prestart(n: number): void {
    if (this.o.isolation !== 'worker') return;
    // the ones the CLI started before the runner loaded (warm-start.ts)
    for (const w of takeWarm().slice(0, n)) {
      w.attach(this.o.sink);
      if (this.flow) w.preload(this.flow.file, this.flow.name, this.flow.module);
      this.workers.push(w);
      this.spawned = Math.max(this.spawned, Number(w.name.slice('local-'.length)));
    }
    for (let i = this.workers.length; i < n; i++) this.spawn();
  }

  /** The flow the tasks run (prepared: its bundle, when it has one); started workers preload it. */
  load(flow: PreparedFlow & { name: string }): void {
    this.flow = flow;
    for (const w of this.workers) w.preload(flow.file, flow.name, flow.module);
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
      return await w.run({ ...spec, worker: w.name, flowModule: this.flow?.module }, timeoutSeconds);
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
