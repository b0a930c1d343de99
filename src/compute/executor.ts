// Where a task runs, behind one interface. The runner (runtime/run.ts) plans tasks and hands each
// one to the Executor of its step; it knows no backend. A backend is a folder here — local/ (warm
// worker processes on this machine), kubernetes/ (a Job per task) — with an Executor, and a
// Backend that says which steps of a run it takes; backends.ts lists them, and the local pool runs
// every step no other backend takes. compute/argo/ is not a backend: it deploys a flow whose pods
// plan and run their own tasks through the same pod entry (pod-entry.ts) as a Kubernetes Job.
import type { FlowDatastore } from '../datastore/store.js';
import type { LocalSlot, RunMeta } from '../datastore/metadata.js';
import type { FlowGraph } from '../flow/graph-types.js';
import type { LoadedFlow } from '../flow/load.js';
import type { WithDecorators } from '../flow/with.js';
import type { CodePackageRef } from './code-package.js';
import type { TaskResult, TaskSpec } from './task/spec.js';

/** Where a task's output goes: the run's console. */
export type OutputSink = (stream: 'stdout' | 'stderr', chunk: string) => void;

/** What a task of one step holds and is told, where it runs. */
export interface StepTerms {
  /** what it holds of this machine while it runs (the scheduler's slots; a pod holds none) */
  slot: { cpu: number; memory: number; gpu: number };
  /** what the task is told it has (current.resources): its local slot, or a pod's requests */
  resources: { cpu: number; memory: number; gpu: number };
  /** a local task: what its slot was made from, recorded with its use (advise reads it) */
  localSlot?: LocalSlot;
  /** whether secret parameter values may travel in its spec (a pod's spec is readable in the API: no) */
  secretsInSpec: boolean;
  /** the flow's code, for a task that runs where this project's files are not */
  codePackage?: CodePackageRef;
}

export interface Executor {
  /** what it is, for the run's console */
  readonly name: string;
  /** The run record exists: connect. Resolves with a line for the run's console, or nothing to say. */
  prepare(run: RunMeta): Promise<string | undefined>;
  /** what a task of `step` holds and is told */
  terms(step: string): StepTerms;
  /** One attempt. Resolves when it has finished, ok or not; `lost` when its process could not record it. */
  run(spec: Omit<TaskSpec, 'worker'>, timeoutSeconds?: number): Promise<TaskResult>;
  /** Stop every task it runs (a task failed, Ctrl-C); each one's run() then resolves, failed. */
  killAll(): void | Promise<void>;
  /** The run is over: let go of processes and connections. */
  close(): void;
}

/** What a backend may look at to decide which steps it takes, before the run record exists. */
export interface ClaimContext {
  graph: FlowGraph;
  /** the flow with --with's decorators added to its steps */
  flow: LoadedFlow;
  withDecos: WithDecorators;
  store: FlowDatastore;
  /** the flow file as given */
  file: string;
  /** parameter values given on the command line, by name (a backend may refuse some) */
  givenParams: Record<string, unknown>;
  sink: OutputSink;
}

/** A place tasks can run besides this machine's pool. */
export interface Backend {
  /**
   * The steps of this run it takes, and their executor; undefined when it takes none. Every check
   * that can refuse the run (not configured, a datastore it cannot reach) throws here, before the
   * run record exists: a step never silently runs somewhere else.
   */
  claim(ctx: ClaimContext): Promise<{ steps: string[]; executor: Executor } | undefined>;
  /** A line for a resume whose origin ran some steps here and which will not (never a silent move). */
  resumeNote?(origin: RunMeta, withNames: string[]): string | undefined;
}
