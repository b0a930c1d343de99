// runTask: one attempt of one task. Builds the flow instance with its inputs' artifacts as lazy
// fields, runs the step, checks the transition and stores the artifacts (small ones inside the
// record). It returns the task's records — the attempt and, when it finished, the DONE record —
// for the runner to commit to the step's journal: the task counts once that batch is durable.
import { FlowDatastore } from '../../datastore/store.js';
import type { ArtifactRef, ErrorInfo, TaskDone } from '../../datastore/metadata.js';
import type { TaskLogs } from '../../datastore/task-records.js';
import { ForeachError, FlowUsageError } from '../../errors.js';
import type { TaskState } from '../../flow/flowspec.js';
import { loadFlow } from '../../flow/load.js';
import { storableParams } from '../../flow/params.js';
import { setCurrent } from '../../flow/current.js';
import { loadSerializersFor } from '../../datastore/serializers.js';
import type { CardCollector } from '../../cards/collector.js';
import { startUsage } from './usage.js';
import { withDefaultYoungGeneration } from './young-generation.js';
import { TaskOutput } from './output.js';
import { pathspecOf, type TaskResult, type TaskSpec } from './spec.js';
import { TaskArtifacts, inputView, type Lazy } from './artifacts.js';
import { flowInstance } from './instance.js';
import { errorInfo, retryable } from './error-info.js';
import { completeCaught, doneRecord, withRecords } from './records.js';

export async function runTask(spec: TaskSpec): Promise<TaskResult> {
  const store = new FlowDatastore(spec.root, spec.flowName);
  const pathspec = pathspecOf(spec);
  const startedAt = new Date().toISOString();
  const usage = startUsage();
  const out = new TaskOutput(
    store.logFiles(spec.runId, spec.step, spec.taskId, spec.attempt),
    `[${spec.runId}/${spec.step}/${spec.taskId}${spec.attempt ? `.${spec.attempt}` : ''}]`,
    spec.echo,
  );
  // @card: components appended through current.card are rendered when the task ends
  const flowModule = await loadFlow(spec.flowFile, spec.flowName, spec.flowModule).catch(() => undefined);
  // the flow's code is the worker's, loaded once per warm worker: not part of the task's memory
  usage.rebase();
  const stepMeta = flowModule?.steps.get(spec.step);
  // the card modules load only for steps that have cards
  const cards = spec.cards ?? stepMeta?.cards ?? [];
  const collector: CardCollector | undefined = cards.length ? new (await import('../../cards/collector.js')).CardCollector(cards) : undefined;
  const live = collector && (await import('../../cards/render.js')).liveCardWriter(store, pathspec, collector);
  if (collector) collector.onRefresh = live!.refresh;
  setCurrent({
    card: collector,
    flowName: spec.flowName,
    runId: spec.runId,
    stepName: spec.step,
    taskId: spec.taskId,
    retryCount: spec.attempt,
    pathspec,
    tags: spec.tags,
    username: spec.user,
    resources: spec.resources,
    datastoreRoot: store.backend.location,
    flowFile: spec.flowFile,
    isRunningFlow: true,
  });
  let result: TaskResult;
  let inputs: TaskArtifacts[] = [];
  let logs: TaskLogs | undefined;
  let done: TaskDone | undefined;
  try {
    inputs = await Promise.all(spec.inputs.map((p) => TaskArtifacts.open(store, p)));
    // artifacts are read synchronously inside the step: load their serializers' libraries now
    await loadSerializersFor(inputs.flatMap((i) => Object.values(i.done.artifacts)));
    const body = await withDefaultYoungGeneration(() => runStep(spec, store, inputs, out));
    done = doneRecord(spec, body, startedAt);
    out.close();
    logs = await store.saveLogs(spec.runId, spec.step, spec.taskId, spec.attempt);
    done.resources = usage.stop(spec.resources, spec.worker, spec.localSlot);
    // a card that fails to render never fails the task: it becomes an error card
    if (collector) {
      await live!.close();
      const { renderTaskCards } = await import('../../cards/render.js');
      await renderTaskCards(store, done, collector, storableParams(flowModule?.params ?? [], spec.params), spec.flowFile).catch((e) => console.error(`${pathspec}: cards not rendered: ${e?.message ?? e}`));
    }
    result = { ok: true, pathspec, next: body.next, foreachCount: body.foreachCount, resources: done.resources };
    if (body.caught) result = { ...result, caught: true, error: body.caught };
  } catch (err) {
    const info = errorInfo(err);
    // the user's stack goes to the task's stderr log; the run prints one line
    // the full stack goes to the task's log; the run's console gets one line from the runner
    // (with --debug, the stack too)
    out[process.env.FLOWBOOK_DEBUG ? 'write' : 'logOnly']('stderr', `${info.stack ?? `${info.type}: ${info.message}`}\n`);
    out.close();
    logs = await store.saveLogs(spec.runId, spec.step, spec.taskId, spec.attempt).catch(() => undefined);
    const resources = usage.stop(spec.resources, spec.worker, spec.localSlot);
    result = { ok: false, pathspec, error: info, resources };
    done = undefined;
    if (spec.catchVar && (spec.lastAttempt || !retryable(info))) {
      const caught = await completeCaught(spec, store, inputs, info, startedAt, resources).catch((e) => ({ result: { ...result, error: errorInfo(e) }, done: undefined }));
      result = caught.result;
      done = caught.done;
    }
  } finally {
    await live?.close();
    setCurrent(undefined);
  }
  return withRecords(spec, result, startedAt, done, logs);
}

async function runStep(spec: TaskSpec, store: FlowDatastore, inputs: TaskArtifacts[], output: TaskOutput) {
  const flow = await loadFlow(spec.flowFile, spec.flowName, spec.flowModule);
  const meta = flow.steps.get(spec.step);
  if (!meta) throw new FlowUsageError(`flow ${spec.flowName} has no step '${spec.step}'`);
  const { inst, state, lazies } = await flowInstance(flow, spec, inputs, store);

  const method = inst[spec.step] as (...a: any[]) => unknown;
  try {
    if (spec.isJoin) {
      // a foreach over zero items: no inputs, and mergeArtifacts takes what the foreach step had
      state.inputSources = spec.emptyForeach && !inputs.length ? [await TaskArtifacts.open(store, spec.emptyForeach)] : inputs;
      const views = inputs.map(inputView) as any;
      for (const v of views) if (!(v.stepName in views) && !/^\d+$/.test(v.stepName)) views[v.stepName] = v;
      await method.call(inst, views);
    } else {
      await method.call(inst);
    }
  } catch (err) {
    // @catchErrors on the last attempt (a mistake in the flow's code is never retried, so its
    // attempt is the last): keep what the step had set, add the error, carry on
    const info = errorInfo(err);
    if (!spec.catchVar || !(spec.lastAttempt || !retryable(info)) || spec.transition === 'foreach' || spec.transition === 'switch') throw err;
    output[process.env.FLOWBOOK_DEBUG ? 'write' : 'logOnly']('stderr', `${info.stack ?? `${info.type}: ${info.message}`}\n`);
    inst[spec.catchVar] = { type: info.type, message: info.message, stack: info.stack ?? '' };
    return { artifacts: await persist(inst, state, lazies, store), next: spec.graphOut, foreachCount: undefined, caught: info };
  }

  // the transition
  const t = state.transition;
  let next: string[] | undefined;
  let foreachCount: number | undefined;
  if (spec.step === 'end') {
    if (t) throw new FlowUsageError(`step 'end' must not call this.next()`);
  } else {
    if (!t) throw new FlowUsageError(`step '${spec.step}' finished without calling this.next(...)`);
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
    if (!same(t.steps, spec.graphOut)) {
      throw new FlowUsageError(`step '${spec.step}' called next(${t.steps.join(', ')}) but its source says next(${spec.graphOut.join(', ')})`);
    }
    next = t.steps;
    if (t.foreach) {
      const list = inst[t.foreach];
      if (!Array.isArray(list)) {
        throw new ForeachError(`foreach over '${t.foreach}' in step '${spec.step}': expected an array, got ${list === null ? 'null' : typeof list}`);
      }
      if (list.length > spec.maxNumSplits) {
        throw new ForeachError(`foreach over '${t.foreach}' in step '${spec.step}' makes ${list.length} splits, more than --max-num-splits ${spec.maxNumSplits}`);
      }
      foreachCount = list.length;
    }
    if (t.condition) {
      const value = inst[t.condition];
      const chosen = t.cases?.[String(value)];
      if (!chosen) {
        throw new FlowUsageError(
          `switch in step '${spec.step}': condition '${t.condition}' is ${JSON.stringify(value)}, not one of the cases: ${Object.keys(t.cases ?? {}).join(', ')}`,
        );
      }
      next = [chosen];
    }
  }

  return { artifacts: await persist(inst, state, lazies, store), next, foreachCount, caught: undefined as ErrorInfo | undefined };
}

/** Store every field of the instance: untouched inherited artifacts by reference, the rest serialized. */
async function persist(inst: any, state: TaskState & { secretFields: Set<string> }, lazies: Map<string, Lazy>, store: FlowDatastore) {
  const refs: Record<string, ArtifactRef> = {};
  const writes: Promise<void>[] = [];
  for (const name of Object.keys(inst)) {
    if (state.secretFields.has(name)) continue;
    const lazy = lazies.get(name);
    if (lazy && !lazy.loaded) {
      refs[name] = lazy.source.ref(name);
      continue;
    }
    const merged = state.merged?.get(name);
    if (merged && merged.source instanceof TaskArtifacts) {
      refs[name] = merged.source.ref(merged.name);
      continue;
    }
    const value = inst[name];
    if (value === undefined) continue;
    writes.push(store.putArtifact(name, value).then((ref) => void (refs[name] = ref)));
  }
  await Promise.all(writes);
  return refs;
}

