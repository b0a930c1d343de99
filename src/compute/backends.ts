// The places a task can run besides this machine's pool, asked in this order which steps of a
// run they take. A new backend (AWS Batch, a Ray cluster…) is a folder beside kubernetes/ with
// an Executor and a Backend, added here.
//
// Each is named here by a cheap test on the run's decorators (nothing of the backend loads for
// a run it has no step of: a run without @kubernetes never loads the Kubernetes code, nor the
// code packaging it uses), and loaded only when the test says it may take steps.
import type { RunMeta } from '../datastore/metadata.js';
import type { Backend, ClaimContext } from './executor.js';

export interface BackendEntry {
  /** whether the run may have steps for it, from the decorators alone; false: it takes none */
  mayClaim(ctx: ClaimContext): boolean;
  /** whether a resume's origin may have run steps on it (its resumeNote may have something to say) */
  mayHaveRun(origin: RunMeta): boolean;
  load(): Promise<Backend>;
}

export const BACKENDS: readonly BackendEntry[] = [
  {
    // @kubernetes on a step, or --with kubernetes: the only ways a step becomes a pod
    mayClaim: (ctx) => !!ctx.withDecos.kubernetes || ctx.graph.order.some((step) => !!ctx.flow.steps.get(step)?.kubernetes),
    mayHaveRun: (origin) => !!origin.argo || (origin.with ?? []).some((w) => w.split(':')[0] === 'kubernetes'),
    load: async () => (await import('./kubernetes/backend.js')).kubernetesBackend,
  },
];
