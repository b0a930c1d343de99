// A flow as an Argo Workflows WorkflowTemplate: one container template per step, running the
// same task code as a pod of `flowbook run --with kubernetes`, wired as a DAG — static branches
// and joins as dependencies, a foreach as a DAG template over the body invoked `withParam` with
// the split's output, a switch as `when` on its cases. Each pod plans its own task (plan.ts) from
// the foreach indices passed down the DAG, so nothing here knows run or task ids.
import crypto from 'node:crypto';
import type { FlowGraph, GraphNode } from '../../flow/graph-types.js';
import type { LoadedFlow } from '../../flow/load.js';
import type { KubernetesSpec } from '../../flow/decorators.js';
import { kubernetesFor, type ResolvedKubernetes } from '../kubernetes/options.js';
import { LABEL, datastoreEnv, dnsName, labelValue, podParts, whereEnv } from '../kubernetes/job.js';
import { enclosingSplits, splitJoinedBy, type Enclosing } from './plan.js';
import { FlowUsageError, GraphError } from '../../errors.js';

export const ARGO_GROUP = 'argoproj.io';
export const ARGO_VERSION = 'v1alpha1';
/** where a pod leaves what the DAG needs of it (Argo copies these files out as output parameters) */
export const OUTPUT_DIR = '/tmp/flowbook/outputs';
export const OUTPUT = { foreach: 'foreach-indices', switch: 'switch-step' } as const;

export interface TemplateInput {
  graph: FlowGraph;
  flow: LoadedFlow;
  /** the S3 datastore root the pods use */
  root: string;
  code: { sha: string; flowPath: string };
  namespace?: string;
  image?: string;
  /** `--with kubernetes:…` applied to every step */
  withKubernetes?: KubernetesSpec;
  /** the default of the workflow parameter `flowbook-user` (who runs it); a trigger sets its own */
  user: string;
  /** the workflow's service account (its pods'); Argo's executor uses it too */
  serviceAccount?: string;
  /** mount the service account's API token into the step containers (flowbook's tasks never need it) */
  automountToken?: boolean;
  maxNumSplits?: number;
  /** tags every run of the deployment carries */
  tags?: string[];
}

/** The WorkflowTemplate's name: the flow's name, DNS-safe (≤ 52 so Argo's workflow and pod names fit). */
export const templateName = (flowName: string) => dnsName(flowName, 52);

/** Step names become task and template names: distinct, DNS-safe. */
function stepNames(graph: FlowGraph): Record<string, string> {
  const out: Record<string, string> = {};
  const used = new Map<string, string>();
  for (const s of graph.order) {
    let n = dnsName(s, 40);
    if (used.has(n)) n = dnsName(`${s}-${crypto.createHash('sha256').update(s).digest('hex').slice(0, 6)}`, 40);
    used.set(n, s);
    out[s] = n;
  }
  return out;
}

/** Text for a workflow parameter: strings as they are, anything else as JSON (what `--param` parses). */
export const paramText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** the prefix of a parameter value Argo must not read: base64 of the text, decoded by the pod */
export const ENCODED = 'flowbook-base64:';

/**
 * A parameter's text as it may travel through Argo: Argo expands `{{…}}` wherever it appears in
 * a workflow, a value included, so such a value goes base64-encoded (`flowbook-base64:…`, which
 * the start pod decodes); a NUL or another control character cannot be an argument at all.
 */
export function argoParamValue(name: string, text: string): string {
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (bad) throw new FlowUsageError(`parameter --${name}: its value has the control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}, which cannot reach a pod`);
  return text.includes('{{') || text.startsWith(ENCODED) ? ENCODED + Buffer.from(text, 'utf8').toString('base64') : text;
}

/** The pod's side of argoParamValue. */
export const decodeArgoParam = (text: string): string => (text.startsWith(ENCODED) ? Buffer.from(text.slice(ENCODED.length), 'base64').toString('utf8') : text);

/** The workflow parameter that says who runs a workflow (trigger sets it; a CronWorkflow keeps the deployer's). */
export const USER_PARAM = 'flowbook-user';

/**
 * What every step container runs with: not root (the image's `node` user, uid 1000), no
 * privilege escalation, no capabilities, the runtime's seccomp profile — what a restricted
 * Pod Security Standard asks for.
 */
const NON_ROOT = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 };
const SECCOMP = { seccompProfile: { type: 'RuntimeDefault' } };
export const SECURITY_CONTEXT = { ...NON_ROOT, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, ...SECCOMP };
/** the pod's: the same user, and volumes writable by its group */
const POD_SECURITY_CONTEXT = { ...NON_ROOT, fsGroup: 1000, ...SECCOMP };

export function buildWorkflowTemplate(input: TemplateInput): any {
  const { graph, flow } = input;
  const name = templateName(graph.flowName);
  const names = stepNames(graph);
  const paths = enclosingSplits(graph);
  const scopeOf = (step: string) => paths[step].filter((e) => e.kind === 'foreach').at(-1)?.split ?? '';
  const k8sOf = (step: string): ResolvedKubernetes =>
    kubernetesFor(flow.steps.get(step), { ...(input.image ? { image: input.image } : {}), ...(input.namespace ? { namespace: input.namespace } : {}), ...input.withKubernetes })!;
  const params = flow.params.filter((p) => !p.options.secret);
  if (params.some((p) => p.name === USER_PARAM)) throw new GraphError(`${graph.flowName} has a parameter named ${USER_PARAM}, which Argo deployments use for the run's user`);

  const common = (extra: string[]) => [
    '--flow', graph.flowName,
    '--code-package', input.code.sha,
    '--flow-path', input.code.flowPath,
    '--workflow', '{{workflow.name}}',
    '--workflow-uid', '{{workflow.uid}}',
    '--created', '{{workflow.creationTimestamp}}',
    ...extra,
  ];
  const labels = { [LABEL.app]: 'flowbook', [LABEL.flow]: labelValue(graph.flowName), [LABEL.user]: labelValue(input.user) };

  const stepTemplate = (step: string): any => {
    const node = graph.nodes[step];
    const meta = flow.steps.get(step);
    const k8s = k8sOf(step);
    const pod = podParts(k8s);
    const retry = meta?.retry;
    const outputs = node.foreach ? [OUTPUT.foreach] : node.condition ? [OUTPUT.switch] : [];
    const args = common([
      '--step', step,
      '--indices', '{{inputs.parameters.indices}}',
      '--user', `{{workflow.parameters.${USER_PARAM}}}`,
      '--max-num-splits', String(input.maxNumSplits ?? 100),
      // Argo counts retries; a step without a retryStrategy has no {{retries}} to refer to
      ...(retry?.times ? ['--attempt', '{{retries}}', '--retries', String(retry.times)] : []),
      ...(step === 'start' ? params.flatMap((p) => ['--param', `${p.name}={{workflow.parameters.${p.name}}}`]) : []),
      ...(step === 'start' ? (input.tags ?? []).flatMap((t) => ['--tag', t]) : []),
    ]);
    return {
      name: `step-${names[step]}`,
      inputs: { parameters: [{ name: 'indices' }] },
      ...(outputs.length ? { outputs: { parameters: outputs.map((o) => ({ name: o, valueFrom: { path: `${OUTPUT_DIR}/${o}` } })) } } : {}),
      metadata: {
        labels: { ...k8s.labels, ...labels, [LABEL.step]: labelValue(step) },
        annotations: { ...k8s.annotations, [LABEL.flow]: graph.flowName, [LABEL.step]: step },
      },
      ...(retry?.times
        ? { retryStrategy: { limit: String(retry.times), retryPolicy: 'Always', ...(retry.minutesBetweenRetries ? { backoff: { duration: `${retry.minutesBetweenRetries}m` } } : {}) } }
        : {}),
      ...(meta?.timeout?.seconds ? { activeDeadlineSeconds: Math.ceil(meta.timeout.seconds) } : {}),
      ...pod.spec,
      container: {
        name: 'main',
        image: k8s.image,
        command: ['flowbook'],
        args: ['argo-workflows', 'step', ...args],
        env: [...datastoreEnv(input.root), ...whereEnv],
        ...pod.container,
        securityContext: SECURITY_CONTEXT,
      },
    };
  };

  const dagTemplates = new Map<string, any[]>([['', []]]);
  for (const s of graph.order) if (graph.nodes[s].foreach) dagTemplates.set(s, []);
  for (const step of graph.order) {
    const scope = scopeOf(step);
    const indices = scope ? '{{inputs.parameters.indices}}' : '';
    const task: any = { name: names[step], template: `step-${names[step]}`, arguments: { parameters: [{ name: 'indices', value: indices }] } };
    const depends = dependsOf(graph, step, scope, scopeOf, paths, names);
    if (depends) task.depends = depends;
    const node = graph.nodes[step];
    const pred = node.in.length === 1 ? graph.nodes[node.in[0]] : undefined;
    if (pred?.condition && scopeOf(pred.name) === scope) task.when = `'{{tasks.${names[pred.name]}.outputs.parameters.${OUTPUT.switch}}}' == '${step}'`;
    dagTemplates.get(scope)!.push(task);
    if (node.foreach) {
      dagTemplates.get(scope)!.push({
        name: `foreach-${names[step]}`,
        template: `foreach-${names[step]}`,
        depends: `${names[step]}.Succeeded`,
        withParam: `{{tasks.${names[step]}.outputs.parameters.${OUTPUT.foreach}}}`,
        arguments: { parameters: [{ name: 'indices', value: `${indices},{{item}}` }] },
      });
    }
  }

  const exitK8s = k8sOf('end');
  const exitPod = podParts({ ...exitK8s, cpu: 0.25, memory: 512, gpu: 0, persistentVolumeClaims: {}, sharedMemory: undefined, disk: undefined });
  const templates = [
    { name: 'main', dag: { tasks: dagTemplates.get('')! } },
    ...[...dagTemplates].filter(([scope]) => scope).map(([scope, tasks]) => ({ name: `foreach-${names[scope]}`, inputs: { parameters: [{ name: 'indices' }] }, dag: { tasks } })),
    ...graph.order.map(stepTemplate),
    {
      // the run's final status: succeeded only when its end task is recorded done
      name: 'exit-handler',
      metadata: { labels },
      ...exitPod.spec,
      container: {
        name: 'main',
        image: exitK8s.image,
        command: ['flowbook'],
        args: ['argo-workflows', 'finish', ...common(['--status', '{{workflow.status}}', '--failures', '{{workflow.failures}}', '--user', `{{workflow.parameters.${USER_PARAM}}}`])],
        env: [...datastoreEnv(input.root), ...whereEnv],
        ...exitPod.container,
        securityContext: SECURITY_CONTEXT,
      },
    },
  ];
  for (const t of templates) if (t.name.length > 63) throw new GraphError(`template name ${t.name} is longer than 63 characters`);

  return {
    apiVersion: `${ARGO_GROUP}/${ARGO_VERSION}`,
    kind: 'WorkflowTemplate',
    metadata: {
      name,
      namespace: k8sOf('start').namespace,
      labels,
      annotations: { [LABEL.flow]: graph.flowName, 'flowbook/code-package': input.code.sha, 'flowbook/datastore-root': input.root, 'flowbook/source-sha': graph.sourceSha },
    },
    spec: {
      entrypoint: 'main',
      onExit: 'exit-handler',
      // workflows made from this template carry the flow's label (list-runs finds them by it)
      workflowMetadata: { labels },
      // the step containers get no Kubernetes API token unless asked; Argo's executor (which
      // reports outputs through the API) runs with the workflow's service account
      ...(input.serviceAccount ? { serviceAccountName: input.serviceAccount } : {}),
      ...(input.automountToken ? {} : { automountServiceAccountToken: false, executor: { serviceAccountName: input.serviceAccount ?? 'default' } }),
      securityContext: POD_SECURITY_CONTEXT,
      arguments: {
        parameters: [
          ...params.map((p) => ({
            name: p.name,
            // a required parameter has no value, so Argo asks for it at submission; an
            // optional one without a default is '' (the pod reads '' as not given)
            ...(p.options.default !== undefined && p.options.default !== null ? { value: argoParamValue(p.name, paramText(p.options.default)) } : p.options.required ? {} : { value: '' }),
            ...(p.options.help ? { description: p.options.help } : {}),
          })),
          { name: USER_PARAM, value: input.user, description: 'who runs the workflow (flowbook argo-workflows trigger sets it)' },
        ],
      },
      templates,
    },
  };
}

/**
 * When a task may run, as an Argo `depends` expression: all of its predecessors succeeded — for
 * a join, one per branch (a branch ending in a switch: any of its cases); after a switch, the
 * case that ran; a foreach join waits for the whole body group (Skipped when the list was empty).
 */
function dependsOf(graph: FlowGraph, step: string, scope: string, scopeOf: (s: string) => string, paths: Record<string, Enclosing[]>, names: Record<string, string>): string | undefined {
  const node: GraphNode = graph.nodes[step];
  const groups = new Map<string, Set<string>>();
  for (const p of node.in) {
    let term: string;
    if (scopeOf(p) === scope) term = `${names[p]}.Succeeded`;
    else if (graph.nodes[p].foreach && p === scope) continue; // the first step of a foreach body: its DAG starts with it
    else {
      // a foreach join: its input steps are inside the body template
      const split = splitJoinedBy(graph, step);
      term = `(foreach-${names[split]}.Succeeded || foreach-${names[split]}.Skipped)`;
    }
    // on a join of a static split, each branch is its own group; otherwise all are alternatives
    const branch = node.isJoin ? String(paths[p].find((e) => graph.nodes[e.split].matchingJoin === step)?.index ?? '') : '';
    if (!groups.has(branch)) groups.set(branch, new Set());
    groups.get(branch)!.add(term);
  }
  const parts = [...groups.values()].map((g) => (g.size > 1 ? `(${[...g].join(' || ')})` : [...g][0]));
  return parts.length ? parts.join(' && ') : undefined;
}
