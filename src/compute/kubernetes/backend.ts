// Kubernetes as a place tasks run: which steps of a run go to pods (@kubernetes, or every step
// with `--with kubernetes`), decided and checked before the run record exists — a datastore the
// pods can reach, no secret on the command line, a configured cluster, the flow's code uploaded —
// so a step never silently runs on this machine instead.
import type { FlowDatastore } from '../../datastore/store.js';
import type { RunMeta } from '../../datastore/metadata.js';
import { FlowUsageError, ParamError } from '../../errors.js';
import type { Backend, ClaimContext } from '../executor.js';
import { uploadCodePackage } from '../code-package.js';
import { kubernetesFor, type ResolvedKubernetes } from './options.js';
import { k8sApi, loadKubeConfig } from './client.js';

/** Steps that run as pods need a datastore the pods can reach. */
function checkRemote(remoteSteps: string[], store: FlowDatastore): void {
  if (remoteSteps.length && store.backend.kind !== 's3') {
    throw new FlowUsageError(
      `step${remoteSteps.length > 1 ? 's' : ''} ${remoteSteps.join(', ')} run${remoteSteps.length > 1 ? '' : 's'} on Kubernetes, whose pods cannot see the local datastore ${store.backend.location}: ` +
        'use S3 (FLOWBOOK_DATASTORE=s3 FLOWBOOK_S3_ROOT=s3://bucket/prefix, or --datastore s3 --datastore-root s3://…)',
    );
  }
}

/**
 * A pod reads a secret from its own environment (a Kubernetes Secret): one given on this command
 * line would silently be another value there, so it is refused.
 */
function refuseSecretsGiven(ctx: ClaimContext, remote: string[]): void {
  for (const spec of ctx.flow.params.filter((p) => p.options.secret && ctx.givenParams[p.name] !== undefined)) {
    const env = spec.options.env;
    throw new ParamError(
      `secret parameter --${spec.name} was given on the command line, but ${remote.join(', ')} run${remote.length === 1 ? 's' : ''} as pods, which cannot receive it (a pod's spec is readable in the Kubernetes API): ${env ? `put it in a Kubernetes Secret under the key ${env}, name the Secret with --with kubernetes:secrets=NAME (or FLOWBOOK_KUBERNETES_SECRETS), and run without --${spec.name}` : `give the parameter an env: option, put it in a Kubernetes Secret under that key and name the Secret with --with kubernetes:secrets=NAME`}`,
    );
  }
}

export const kubernetesBackend: Backend = {
  async claim(ctx) {
    const remote = new Map<string, ResolvedKubernetes>();
    for (const step of ctx.graph.order) {
      const k = kubernetesFor(ctx.flow.steps.get(step), ctx.withDecos.kubernetes);
      if (k) remote.set(step, k);
    }
    if (!remote.size) return undefined;
    const steps = [...remote.keys()];
    checkRemote(steps, ctx.store);
    refuseSecretsGiven(ctx, steps);
    // no cluster configured, or the code cannot be stored: refused before the run record exists
    loadKubeConfig(await k8sApi());
    const code = await uploadCodePackage(ctx.store, ctx.file);
    // the executor (and the Kubernetes client library) load only for a run with pods
    const { KubernetesExecutor } = await import('./executor.js');
    return { steps, executor: new KubernetesExecutor(remote, code, ctx.store, ctx.sink) };
  },

  resumeNote(origin: RunMeta, withNames: string[]) {
    const inherited = (origin.with ?? []).map((x) => x.split(':')[0]);
    if (inherited.includes('kubernetes') && !withNames.includes('kubernetes')) {
      return `note: run ${origin.flowName}/${origin.runId} ran every step as a pod (--with kubernetes); this resume runs them on this machine (only steps with @kubernetes go to pods), as --with asks`;
    }
    if (origin.argo && !withNames.includes('kubernetes')) {
      return `note: run ${origin.flowName}/${origin.runId} ran on Argo Workflows; this resume runs on this machine (steps with @kubernetes as pods): add --with kubernetes to run every step as a pod`;
    }
    return undefined;
  },
};
