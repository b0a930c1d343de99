// What a pod of an Argo workflow runs. There is no runner: `argo-workflows step` plans its own
// task (plan.ts), runs it with the same runTask() as every other pod, and commits its records
// itself — one object per attempt in the step's journal. The start task creates the run record;
// the workflow's exit handler (`argo-workflows finish`) writes how it ended, and says "succeeded"
// only when the end task is recorded done.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FlowDatastore, resolveRoot } from '../../datastore/store.js';
import { runIndexFor } from '../../datastore/index-files.js';
import { journalKey } from '../../datastore/task-records.js';
import { podRecordName } from '../../datastore/journal-read.js';
import type { RunMeta } from '../../datastore/metadata.js';
import { newRunRecord } from '../../datastore/run-record.js';
import { FlowUsageError, NotFoundError } from '../../errors.js';
import { loadFlowGraph } from '../../flow/graph.js';
import { graphShape } from '../../flow/graph-shape.js';
import { loadFlow } from '../../flow/load.js';
import { resolveParams, storableParams } from '../../flow/params.js';
import { buildTaskSpec } from '../task/spec.js';
import { runTask } from '../task/run-task.js';
import { fetchPodCode, podWorker } from '../pod-entry.js';
import { parseIndices, planArgoTask } from './plan.js';
import { OUTPUT, OUTPUT_DIR, decodeArgoParam, templateName } from './template.js';

export interface WorkflowFlags {
  flow: string;
  codePackage: string;
  flowPath: string;
  workflow: string;
  workflowUid: string;
  created: string;
  user?: string;
}

/**
 * The run id of a workflow, the same in each of its pods: its creation time in milliseconds (as
 * local run ids are, so `latest` orders them with local runs) with the last three digits taken
 * from its uid (Kubernetes times have second precision). Two workflows of one flow created in
 * the same second collide with odds of 1 in 1,000; the start task then refuses to run (below).
 */
export function argoRunId(created: string, uid: string): string {
  const seconds = Math.floor(Date.parse(created) / 1000);
  if (!Number.isFinite(seconds)) throw new FlowUsageError(`--created must be the workflow's creationTimestamp, got ${JSON.stringify(created)}`);
  const fromUid = parseInt(crypto.createHash('sha256').update(uid).digest('hex').slice(0, 8), 16) % 1000;
  return String(seconds * 1000 + fromUid);
}

const storeOf = (flags: WorkflowFlags) => new FlowDatastore(resolveRoot(), flags.flow);

/** The record of this workflow's run, with what the writer knows of it (the start task: everything). */
function argoRunMeta(flags: WorkflowFlags, known: Pick<RunMeta, 'tags' | 'params' | 'sourceSha'> & Pick<Partial<RunMeta>, 'graph'>): Omit<RunMeta, 'runId' | 'flowName'> {
  return newRunRecord({
    createdAt: new Date(Date.parse(flags.created)).toISOString(),
    user: flags.user || 'argo',
    moreSystemTags: [`argo-workflow:${flags.workflow}`],
    flowFile: flags.flowPath,
    host: 'argo',
    pid: 0,
    argo: { workflow: flags.workflow, uid: flags.workflowUid, template: templateName(flags.flow) },
    ...known,
  });
}

/** This workflow's run record: created by the start task, or read; never another workflow's. */
async function ensureRun(store: FlowDatastore, runId: string, flags: WorkflowFlags, make?: () => Omit<RunMeta, 'runId' | 'flowName'>): Promise<RunMeta | undefined> {
  let run: RunMeta | undefined;
  try {
    run = await store.readRun(runId);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  if (run && run.argo?.uid !== flags.workflowUid) {
    throw new FlowUsageError(`run ${flags.flow}/${runId} already belongs to ${run.argo ? `workflow ${run.argo.workflow}` : 'a run not made by Argo'}: workflow ${flags.workflow} cannot use its id (created in the same second; submit it again)`);
  }
  if (run || !make) return run;
  run = { ...make(), flowName: flags.flow, runId };
  await store.backend.putIfAbsent(`${flags.flow}/flow.json`, Buffer.from(JSON.stringify({ flowName: flags.flow })));
  await store.writeRun(run);
  await runIndexFor(store.backend, flags.flow).runStarted(runId, [...run.systemTags, ...run.tags]);
  return run;
}

/** `key=value` pairs from `--param`; an empty value is a parameter Argo was given no value for. */
function givenParams(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq < 1) throw new FlowUsageError(`--param takes name=value, got ${JSON.stringify(p)}`);
    if (p.slice(eq + 1) !== '') out[p.slice(0, eq)] = decodeArgoParam(p.slice(eq + 1));
  }
  return out;
}

export interface StepFlags extends WorkflowFlags {
  step: string;
  indices: string;
  attempt?: string;
  retries?: string;
  maxNumSplits?: string;
  param?: string[];
  tag?: string[];
}

/** One task of the workflow (a DAG task's pod). Exit code 0 when it is done. */
export async function argoStep(flags: StepFlags): Promise<number> {
  const store = storeOf(flags);
  const runId = argoRunId(flags.created, flags.workflowUid);
  const flowFile = await fetchPodCode(store, { sha: flags.codePackage, flowPath: flags.flowPath }, 'the template was created with');
  const graph = await loadFlowGraph(flowFile, flags.flow);
  const flow = await loadFlow(flowFile, flags.flow);
  const run = await ensureRun(store, runId, flags, flags.step !== 'start' ? undefined : () =>
    argoRunMeta(flags, {
      tags: [...new Set(flags.tag ?? [])],
      params: storableParams(flow.params, resolveParams(flow.params, givenParams(flags.param ?? []))),
      sourceSha: graph.sourceSha,
      graph: graphShape(graph),
    }),
  );
  if (!run) throw new FlowUsageError(`run ${flags.flow}/${runId} has no record: its start task must run first`);

  const task = await planArgoTask(graph, runId, flags.step, parseIndices(flags.indices), {
    done: async (step, taskId) => (await store.taskRecord(runId, step, taskId))?.done,
  });
  const node = graph.nodes[flags.step];
  const meta = flow.steps.get(flags.step);
  const attempt = Number(flags.attempt ?? 0);
  const amount = (k: 'cpu' | 'memory' | 'gpu', dflt: number) => Math.max(meta?.resources?.[k] ?? 0, meta?.kubernetes?.[k] ?? 0) || dflt;
  const spec = {
    ...buildTaskSpec({
      root: store.root,
      flowFile,
      flowName: flags.flow,
      runId,
      place: task,
      node,
      attempt,
      retries: Number(flags.retries ?? 0),
      maxNumSplits: Number(flags.maxNumSplits ?? 100),
      meta,
      resources: { cpu: amount('cpu', 1), memory: amount('memory', 4096), gpu: amount('gpu', 0) },
      tags: [...run.systemTags, ...run.tags],
      user: run.user,
      // stored values: a secret parameter is read again from the pod's environment
      params: run.params,
    }),
    worker: podWorker(`argo ${flags.workflow}`),
  };
  const r = await runTask(spec);
  // no runner batches records here: this attempt's records are one object of the step's journal
  const records = r.records ?? [];
  const key = `${journalKey(store.stepKey(runId, flags.step), store.backend.kind)}/${podRecordName(task.taskId, attempt)}`;
  await store.backend.put(key, records.map((e) => JSON.stringify(e) + '\n').join(''));
  if (!r.ok) {
    console.error(`error: ${r.pathspec} failed: ${r.error?.type}: ${r.error?.message}`);
    return 1;
  }
  // what the DAG needs of this task: the foreach's items, the switch's case
  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  if (node.foreach) fs.writeFileSync(path.join(OUTPUT_DIR, OUTPUT.foreach), JSON.stringify(Array.from({ length: r.foreachCount ?? 0 }, (_, i) => i)));
  if (node.condition) fs.writeFileSync(path.join(OUTPUT_DIR, OUTPUT.switch), r.next?.[0] ?? '');
  return 0;
}

export interface FinishFlags extends WorkflowFlags {
  status: string;
  failures?: string;
}

/** The exit handler: the run's final status, from what its tasks recorded (not only Argo's word). */
export async function argoFinish(flags: FinishFlags): Promise<number> {
  const store = storeOf(flags);
  const runId = argoRunId(flags.created, flags.workflowUid);
  // a workflow that failed before its start task ran still gets a run that says why
  const run = (await ensureRun(store, runId, flags, () => argoRunMeta(flags, { tags: [], params: {}, sourceSha: '' })))!;
  const endDone = [...(await store.stepRecords(runId, 'end')).tasks.values()].some((t) => t.done);
  const ok = endDone && flags.status === 'Succeeded';
  run.status = ok ? 'succeeded' : 'failed';
  run.finishedAt = new Date().toISOString();
  if (!ok) run.failure = await failureOf(store, run, flags);
  await store.writeRun(run);
  if (ok) await runIndexFor(store.backend, flags.flow).runSucceeded(runId, [...run.systemTags, ...run.tags]);
  console.log(`${flags.flow}/${runId}: ${run.status}${run.failure ? ` (${run.failure.pathspec}: ${run.failure.message})` : ''}`);
  return 0;
}

/** The first task whose last attempt failed; else what Argo reported (a pod that could not record). */
async function failureOf(store: FlowDatastore, run: RunMeta, flags: FinishFlags): Promise<RunMeta['failure']> {
  for (const step of run.graph?.order ?? []) {
    for (const t of (await store.stepRecords(run.runId, step)).tasks.values()) {
      const last = t.attempts.at(-1);
      if (!t.done && last && last.status !== 'running') return { pathspec: last.pathspec, message: last.error?.message ?? last.status };
    }
  }
  let failures: { displayName?: string; message?: string }[] = [];
  try {
    failures = JSON.parse(flags.failures || '[]') ?? [];
  } catch {
    /* not JSON: keep Argo's status alone */
  }
  const f = failures.find((x) => x.message);
  return { pathspec: `${run.flowName}/${run.runId}`, message: f ? `Argo: ${f.displayName}: ${f.message}` : `Argo workflow ${flags.workflow} ended ${flags.status}` };
}
