// The executors of one run: the local pool, started at once so its workers boot while the runner
// loads the flow, and whichever backends (backends.ts) take steps of it. The runner asks `of(step)`
// and never names a backend.
import type { RunMeta } from '../datastore/metadata.js';
import type { PreparedFlow } from '../flow/prepare.js';
import type { ClaimContext, Executor } from './executor.js';
import { BACKENDS } from './backends.js';
import { LocalExecutor, type LocalExecutorOptions } from './local/executor.js';

export interface ExecutorsOptions extends LocalExecutorOptions {
  /** local workers to start now */
  prestart: number;
}

export class Executors {
  private local: LocalExecutor;
  private byStep = new Map<string, Executor>();
  private others: Executor[] = [];

  constructor(o: ExecutorsOptions) {
    this.local = new LocalExecutor(o);
    this.local.prestart(o.prestart);
  }

  /** The flow, prepared for the local workers (which preload it). */
  load(flow: PreparedFlow & { name: string }): void {
    this.local.load(flow);
  }

  /**
   * The flow is loaded: each backend takes its steps (and may refuse the run); the local pool
   * runs the rest. `params` are the run's parameter values (the local slots may depend on them).
   */
  async claim(ctx: ClaimContext, params: Record<string, unknown>, warn: (line: string) => void): Promise<void> {
    this.local.plan(ctx.flow, params, warn);
    for (const entry of BACKENDS) {
      if (!entry.mayClaim(ctx)) continue;
      const got = await (await entry.load()).claim(ctx);
      if (!got) continue;
      this.others.push(got.executor);
      for (const step of got.steps) if (!this.byStep.has(step)) this.byStep.set(step, got.executor);
    }
  }

  /** The run record exists: the backends connect; their lines for the console. */
  async prepare(run: RunMeta): Promise<string[]> {
    const lines: string[] = [];
    for (const e of this.others) {
      const line = await e.prepare(run);
      if (line) lines.push(line);
    }
    return lines;
  }

  of(step: string): Executor {
    return this.byStep.get(step) ?? this.local;
  }

  /** Stop every running task, wherever it runs; resolves once they are stopped. */
  async killAll(): Promise<void> {
    this.local.killAll();
    await Promise.all(this.others.map((e) => e.killAll()));
  }

  close(): void {
    for (const e of this.others) e.close();
    this.local.close();
  }
}

/** What the backends say to a resume whose origin ran steps they will not run now. */
export async function resumeNotes(origin: RunMeta, withNames: string[]): Promise<string[]> {
  const notes: string[] = [];
  for (const entry of BACKENDS) {
    if (!entry.mayHaveRun(origin)) continue;
    const line = (await entry.load()).resumeNote?.(origin, withNames);
    if (line) notes.push(line);
  }
  return notes;
}
