// `flowbook kubernetes job FILE STEP`: the Job one task of STEP would get, printed before anything
// is submitted, so a user can read its requests, image, env and volumes first.
import { loadFlowFile } from '../flow/load.js';
import { FlowUsageError } from '../errors.js';
import { flowWith, parseWith } from '../flow/with.js';
import { kubernetesFor } from '../compute/kubernetes/options.js';
import { buildJob } from '../compute/kubernetes/job.js';
import { buildTaskSpec } from '../compute/task/spec.js';
import { currentUser, resolveRoot } from '../datastore/store.js';

export async function jobCommand(file: string, step: string, flags: { with?: string[]; datastoreRoot?: string; flow?: string }): Promise<number> {
  const w = parseWith(flags.with);
  const { graph, flow } = await loadFlowFile(file, flags.flow);
  const node = graph.nodes[step];
  if (!node) throw new FlowUsageError(`${graph.flowName} has no step '${step}' (steps: ${graph.order.join(', ')})`);
  // --with timeout / resources shape the Job as a run would
  const meta = flowWith(flow, w).steps.get(step);
  const withK8s = w.kubernetes;
  // a step without @kubernetes is shown as `--with kubernetes` would run it
  const k8s = kubernetesFor(meta, { ...(process.env.FLOWBOOK_KUBERNETES_IMAGE ? {} : { image: 'flowbook:latest' }), ...withK8s })!;
  let root = 's3://BUCKET/PREFIX';
  try {
    const r = resolveRoot(flags.datastoreRoot);
    if (r.startsWith('s3://')) root = r;
  } catch {
    /* no S3 root configured: keep the placeholder */
  }
  const job = buildJob({
    spec: buildTaskSpec({
      root,
      flowFile: file,
      flowName: graph.flowName,
      runId: 'RUN-ID',
      place: { step, taskId: 'TASK-ID', inputs: [`${graph.flowName}/RUN-ID/PARENT-STEP/PARENT-TASK-ID`], frames: [], key: step },
      node,
      attempt: 0,
      retries: 0,
      meta,
      resources: { cpu: k8s.cpu, memory: k8s.memory, gpu: k8s.gpu },
      tags: [`user:${currentUser()}`],
      user: currentUser(),
      params: {},
      codePackage: { sha: 'CODE-PACKAGE-SHA256', flowPath: file },
    }),
    k8s,
    timeoutSeconds: meta?.timeout?.seconds,
  });
  console.log(JSON.stringify(job, null, 2));
  return 0;
}
