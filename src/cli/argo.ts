// `flowbook argo-workflows create|trigger|list-runs|delete FILE`: deploy a flow to Argo Workflows
// (src/compute/argo/), start runs there, and see them. Runs made by Argo are ordinary runs in the
// S3 datastore: `flowbook logs`, the client and cards read them like any other.
import type { Command } from 'commander';
import { loadFlowFile } from '../flow/load.js';
import { parseParam } from '../flow/params.js';
import { FlowUsageError } from '../errors.js';
import { FlowDatastore, currentUser, resolveRoot } from '../datastore/store.js';
import { flowWith, parseWith } from '../flow/with.js';
import { checkUserTag } from '../datastore/names.js';
import { parseParamFlags } from './run.js';
import { flagValues } from '../flow/param-flags.js';
import { uploadCodePackage } from '../compute/code-package.js';
import { LABEL, labelValue } from '../compute/kubernetes/job.js';
import { USER_PARAM, argoParamValue, buildWorkflowTemplate, paramText, templateName } from '../compute/argo/template.js';
import { buildCronWorkflow } from '../compute/argo/schedule.js';
import { describeSchedule, scheduleOf } from '../flow/schedule.js';
import { ArgoApi } from '../compute/argo/api.js';
import { argoRunId } from '../compute/argo/pod.js';
import { alignedColumns } from './columns.js';

interface DeployFlags {
  image?: string;
  namespace?: string;
  onlyJson?: boolean;
  with?: string[];
  maxNumSplits?: string;
  datastoreRoot?: string;
  tag?: string[];
  flow?: string;
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  user?: string;
}

/** A user name as runs record it (`user:<name>` is a tag): checked before anything is sent. */
function runUser(name: string | undefined): string {
  const user = name ?? currentUser();
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/.test(user)) throw new FlowUsageError(`--user must be a user name (letters, digits, '.', '_', '@', '-'), got ${JSON.stringify(user)}`);
  return user;
}

/**
 * Pods reach the datastore at the endpoint the template names: plain http sends every artifact
 * unencrypted, and a loopback address is each pod's own, not this machine.
 */
function warnEndpoint(): void {
  const endpoint = process.env.FLOWBOOK_S3_ENDPOINT;
  if (!endpoint?.startsWith('http://')) return;
  const host = new URL(endpoint).hostname;
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(host);
  console.error(
    `warning: the template's pods reach the datastore at ${endpoint}: plain http (unencrypted)${loopback ? ", and a loopback address is each pod's own, not this machine's" : ''}; set FLOWBOOK_S3_ENDPOINT to an https address the cluster reaches`,
  );
}

/**
 * The flow in FILE and where its objects live: the template's name, and the namespace from
 * --namespace, then the start step's @kubernetes, the environment, default.
 */
async function deployment(file: string, flags: { namespace?: string; flow?: string }) {
  const { graph, flow } = await loadFlowFile(file, flags.flow);
  const namespace = flags.namespace ?? flow.steps.get('start')?.kubernetes?.namespace ?? process.env.FLOWBOOK_KUBERNETES_NAMESPACE ?? 'default';
  return { graph, flow, flowName: graph.flowName, name: templateName(graph.flowName), namespace };
}

export async function createCommand(file: string, flags: DeployFlags): Promise<number> {
  const w = parseWith(flags.with);
  // the pods read @card and @catchErrors from the flow's code, so --with cannot add them there
  if (w.cards || w.catch) throw new FlowUsageError(`argo-workflows create applies --with kubernetes, resources, retry and timeout; put @${w.cards ? 'card' : 'catchErrors'} on the steps instead of --with ${w.cards ? 'card' : 'catch'}`);
  const { graph, flow: own } = await loadFlowFile(file, flags.flow);
  const flow = flowWith(own, w);
  const schedule = scheduleOf(flow.cls);
  let root: string | undefined;
  try {
    root = resolveRoot(flags.datastoreRoot);
  } catch (err) {
    if (!flags.onlyJson) throw err;
  }
  const s3 = root?.startsWith('s3://') ? root : undefined;
  if (!s3 && !flags.onlyJson) {
    throw new FlowUsageError(`Argo's pods cannot see the local datastore ${root}: use S3 (FLOWBOOK_DATASTORE=s3 FLOWBOOK_S3_ROOT=s3://bucket/prefix, or --datastore s3 --datastore-root s3://…)`);
  }
  // --only-json names the code package without storing it; a deploy stores it first
  const code = await uploadCodePackage(flags.onlyJson ? undefined : new FlowDatastore(s3!, graph.flowName), file);
  const template = buildWorkflowTemplate({
    graph,
    flow,
    root: s3 ?? 's3://BUCKET/PREFIX',
    code,
    namespace: flags.namespace,
    image: flags.image ?? (flags.onlyJson && !process.env.FLOWBOOK_KUBERNETES_IMAGE ? 'flowbook:latest' : undefined),
    withKubernetes: w.kubernetes,
    user: runUser(flags.user),
    serviceAccount: flags.serviceAccount ?? process.env.FLOWBOOK_KUBERNETES_SERVICE_ACCOUNT,
    automountToken: flags.automountServiceAccountToken,
    maxNumSplits: flags.maxNumSplits ? Number(flags.maxNumSplits) : undefined,
    tags: (flags.tag ?? []).map(checkUserTag), // a bad tag is refused before anything is sent
  });
  const cron = schedule ? buildCronWorkflow(template, schedule) : undefined;
  warnEndpoint();
  if (flags.onlyJson) {
    if (!s3) console.error('note: no S3 datastore configured: the template names s3://BUCKET/PREFIX');
    console.log(JSON.stringify(cron ? { apiVersion: 'v1', kind: 'List', items: [template, cron] } : template, null, 2));
    return 0;
  }
  const api = await ArgoApi.connect();
  const { name, namespace } = template.metadata;
  const how = await api.apply('workflowtemplates', template);
  console.error(`WorkflowTemplate ${namespace}/${name} ${how} (${graph.order.length} steps, code package ${code.sha.slice(0, 12)}, ${code.files} files, ${code.uploadedBytes} bytes uploaded)`);
  if (cron) {
    console.error(`CronWorkflow ${namespace}/${name} ${await api.apply('cronworkflows', cron)}: runs on ${describeSchedule(schedule!)}`);
  } else if (await api.delete('cronworkflows', namespace, name)) {
    // the flow lost its @schedule: its old schedule must not go on running
    console.error(`CronWorkflow ${namespace}/${name} deleted: ${graph.flowName} has no @schedule any more`);
  }
  console.error(`Start a run: flowbook argo-workflows trigger ${file}`);
  return 0;
}

export async function triggerCommand(file: string, flags: { namespace?: string; flow?: string }, cmd: Command): Promise<number> {
  const rest = [...cmd.args];
  rest.splice(rest.indexOf(file), 1);
  const { graph, flow, name, namespace } = await deployment(file, flags);
  const given = flagValues(flow.params, parseParamFlags(rest)) as Record<string, string>;
  // who runs it: --user (unless the flow has a parameter of that name), else this user; a
  // CronWorkflow's runs keep the deployer's
  const own = !flow.params.some((p) => p.name === 'user');
  const user = runUser(own ? given.user : undefined);
  if (own) delete given.user;
  const parameters: { name: string; value: string }[] = [];
  for (const [k, raw] of Object.entries(given)) {
    const spec = flow.params.find((p) => p.name === k);
    if (!spec) throw new FlowUsageError(`${graph.flowName} has no parameter --${k} (parameters: ${flow.params.map((p) => `--${p.name}`).join(', ') || 'none'})`);
    if (spec.options.secret) throw new FlowUsageError(`--${k} is a secret: a workflow's parameters are readable in the Kubernetes API, so give it to the pods as a Secret (env ${spec.options.env ?? '?'})`);
    parameters.push({ name: k, value: argoParamValue(k, paramText(parseParam(spec, raw, `--${k}`))) });
  }
  parameters.push({ name: USER_PARAM, value: user });
  const api = await ArgoApi.connect();
  if (!(await api.get('workflowtemplates', namespace, name))) {
    throw new FlowUsageError(`${graph.flowName} is not deployed in namespace ${namespace}: run flowbook argo-workflows create ${file} first`);
  }
  const labels = { [LABEL.app]: 'flowbook', [LABEL.flow]: labelValue(graph.flowName) };
  const wf = await api.create('workflows', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { generateName: `${name}-`, namespace, labels },
    spec: { workflowTemplateRef: { name }, arguments: { parameters } },
  });
  const runId = argoRunId(wf.metadata.creationTimestamp, wf.metadata.uid);
  console.error(`Workflow ${namespace}/${wf.metadata.name} submitted: run ${graph.flowName}/${runId}`);
  console.error(`  follow it: flowbook argo-workflows list-runs ${file}; its logs: flowbook logs ${graph.flowName}/${runId}/start`);
  console.log(`${graph.flowName}/${runId}`);
  return 0;
}

export async function listRunsCommand(file: string, flags: { namespace?: string; flow?: string }): Promise<number> {
  const { flowName, namespace } = await deployment(file, flags);
  const api = await ArgoApi.connect();
  const items = await api.list('workflows', namespace, `${LABEL.flow}=${labelValue(flowName)}`);
  if (!items.length) {
    console.error(`no workflows of ${flowName} in namespace ${namespace}`);
    return 0;
  }
  items.sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)));
  const rows = items.map((w) => [w.metadata.name, w.status?.phase ?? 'Pending', w.status?.startedAt ?? '-', w.status?.finishedAt ?? '-', `${flowName}/${argoRunId(w.metadata.creationTimestamp, w.metadata.uid)}`]);
  console.log(alignedColumns([['WORKFLOW', 'PHASE', 'STARTED', 'FINISHED', 'RUN'], ...rows.map((r) => r.map(String))]));
  return 0;
}

export async function deleteCommand(file: string, flags: { namespace?: string; flow?: string }): Promise<number> {
  const { flowName, name, namespace } = await deployment(file, flags);
  const api = await ArgoApi.connect();
  const template = await api.delete('workflowtemplates', namespace, name);
  const cron = await api.delete('cronworkflows', namespace, name);
  if (!template && !cron) throw new FlowUsageError(`${flowName} is not deployed in namespace ${namespace} (no WorkflowTemplate ${name})`);
  console.error(`deleted${template ? ` WorkflowTemplate ${namespace}/${name}` : ''}${cron ? `${template ? ' and' : ''} CronWorkflow ${namespace}/${name}` : ''}; runs already made stay in the datastore`);
  return 0;
}
