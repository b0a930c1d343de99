// Errors carry fields a program can act on (pathspec, step, cause, reason) besides their one-line
// message: the classes themselves, how a run's outcome becomes a TaskFailedError, and how a
// Kubernetes API failure or a missing kubeconfig becomes a KubernetesError with its reason.
// (A real failing run's TaskFailedError is checked in test/e2e/errors.test.ts.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it, expect } from 'vitest';
import { FlowbookError, KubernetesError, NotFoundError, TaskFailedError, TimeoutError, type ErrorInfo } from '../../src/errors.js';
import { assertSucceeded, type RunOutcome } from '../../src/runtime/run.js';
import { apiReason, explainApiError, k8sApi, loadKubeConfig, refusal } from '../../src/compute/kubernetes/client.js';
import type { RunMeta } from '../../src/datastore/metadata.js';
import { UseTally } from '../../src/cards/usage/use-tally.js';

const SERVER = 'https://k8s.example:6443';

/** the outcome of a run that did not succeed, as runFlow returns it */
function failedOutcome(failure: RunMeta['failure'], taskError?: ErrorInfo): RunOutcome {
  const run = { flowName: 'FailingFlow', runId: '17', status: 'failed', failure } as RunMeta;
  return { run, ok: false, tasks: { done: 0, cloned: 0, failed: 1, retried: 0, cached: 0 }, seconds: 0.1, clonedTasks: [], ranTasks: [], cachedTasks: [], journal: { batches: 0, entries: 0 }, taskError, usage: new UseTally() };
}

describe('error classes', () => {
  it('keep `new XError(message)` and `new XError(message, { cause })` working', () => {
    const e = new TaskFailedError('run F/1 failed');
    expect(e).toBeInstanceOf(FlowbookError);
    expect(e.name).toBe('TaskFailedError');
    expect(e.message).toBe('run F/1 failed');
    expect(e.pathspec).toBeUndefined();
    expect(e.cause).toBeUndefined();
    const inner = new Error('ENOENT');
    const nf = new NotFoundError('not found in datastore /x: k', { cause: inner });
    expect(nf.cause).toBe(inner);
    expect(nf.pathspec).toBeUndefined();
    expect(new KubernetesError('no cluster').reason).toBeUndefined();
  });

  it('carry the fields given, and keep the message as given', () => {
    const cause: ErrorInfo = { type: 'TypeError', message: 'x is undefined', where: 'flow.ts:12' };
    const e = new TaskFailedError('run F/1 failed at F/1/start/1: x is undefined', { pathspec: 'F/1/start/1', step: 'start', run: 'F/1', cause });
    expect(e).toMatchObject({ pathspec: 'F/1/start/1', step: 'start', run: 'F/1', message: 'run F/1 failed at F/1/start/1: x is undefined' });
    expect(e.cause).toBe(cause);
    expect(new NotFoundError('task not found: F/1/start/9', { pathspec: 'F/1/start/9' }).pathspec).toBe('F/1/start/9');
    expect(new TimeoutError('too slow', { pathspec: 'F/1/start/1', seconds: 30 })).toMatchObject({ pathspec: 'F/1/start/1', seconds: 30 });
    expect(new KubernetesError('refused', { reason: 'Forbidden' }).reason).toBe('Forbidden');
  });
});

describe('assertSucceeded', () => {
  it('a failed task: its pathspec, step, the run, and its stored error as cause', () => {
    const taskError: ErrorInfo = { type: 'Error', message: 'boom in start', where: 'failing.ts:9', stack: 'Error: boom in start\n    at …' };
    let thrown: unknown;
    try {
      assertSucceeded(failedOutcome({ pathspec: 'FailingFlow/17/start/1', message: 'boom in start' }, taskError));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TaskFailedError);
    const e = thrown as TaskFailedError;
    expect(e.message).toBe('run FailingFlow/17 failed at FailingFlow/17/start/1: boom in start');
    expect(e).toMatchObject({ pathspec: 'FailingFlow/17/start/1', step: 'start', run: 'FailingFlow/17' });
    expect(e.cause).toEqual(taskError);
  });

  it('an interrupted run: the run pathspec, no step, no cause', () => {
    let e: TaskFailedError | undefined;
    try {
      assertSucceeded(failedOutcome({ pathspec: 'FailingFlow/17', message: 'interrupted' }));
    } catch (err) {
      e = err as TaskFailedError;
    }
    expect(e?.message).toBe('run FailingFlow/17 failed at FailingFlow/17: interrupted');
    expect(e).toMatchObject({ pathspec: 'FailingFlow/17', run: 'FailingFlow/17' });
    expect(e?.step).toBeUndefined();
    expect(e?.cause).toBeUndefined();
  });

  it('a succeeded run throws nothing', () => {
    expect(() => assertSucceeded({ ...failedOutcome(undefined), ok: true })).not.toThrow();
  });
});

describe('KubernetesError.reason', () => {
  it("an HTTP answer: the API's Status reason, else the one Kubernetes gives with the code; the message is unchanged", () => {
    const forbidden = explainApiError({ code: 403, body: JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'jobs.batch is forbidden' }) }, 'cannot create Job j', SERVER);
    expect(forbidden).toBeInstanceOf(KubernetesError);
    expect(forbidden.message).toBe('cannot create Job j: not allowed (HTTP 403): jobs.batch is forbidden');
    expect(forbidden.reason).toBe('Forbidden');
    expect(explainApiError({ code: 409, body: { reason: 'AlreadyExists', message: 'jobs.batch "j" already exists' } }, 'cannot create Job j', SERVER).reason).toBe('AlreadyExists');
    expect(explainApiError({ code: 404, body: 'page not found' }, 'cannot read x', SERVER).reason).toBe('NotFound');
    expect(explainApiError({ code: 401, body: {} }, 'cannot read x', SERVER).reason).toBe('Unauthorized');
    expect(explainApiError({ code: 422, body: {} }, 'cannot create x', SERVER).reason).toBe('Invalid');
    // a code Kubernetes gives no reason of its own: the HTTP status's name
    expect(apiReason({ code: 502 })).toBe('BadGateway');
    expect(apiReason({ code: 418 })).toBe('ImATeapot');
    expect(apiReason({ code: 599 })).toBe('Unknown');
  });

  it('no answer: Unreachable, with the same message as before', () => {
    const e = explainApiError({ cause: { code: 'ECONNREFUSED' } }, 'cannot list pods', SERVER);
    expect(e.message).toBe(`cannot list pods: cannot reach the Kubernetes API at ${SERVER}`);
    expect(e.reason).toBe('Unreachable');
    expect(explainApiError({ code: 'ECONNRESET', message: 'socket hang up' }, 'watch', SERVER).reason).toBe('Unreachable');
    expect(apiReason(new Error('something odd'))).toBe('Unknown');
  });

  it("a refusal keeps the API's reason", () => {
    const e = refusal({ code: 403, body: JSON.stringify({ reason: 'Forbidden', message: 'pods is forbidden: User "x" cannot watch' }) }, 'watch', 'pods', 'ns1', SERVER) as KubernetesError;
    expect(e.message).toBe('Kubernetes refused to watch pods in namespace ns1: not allowed (HTTP 403): pods is forbidden: User "x" cannot watch');
    expect(e.reason).toBe('Forbidden');
    expect((refusal({ statusCode: 404, message: 'HTTP-Code: 404\nMessage: …' }, 'get', 'pods/log', 'ns1', SERVER) as KubernetesError).reason).toBe('NotFound');
  });

  describe('loadKubeConfig', () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
    afterEach(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it('no kubeconfig anywhere: NotConfigured', async () => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-nokube-'));
      delete process.env.KUBECONFIG;
      delete process.env.KUBERNETES_SERVICE_HOST;
      process.env.HOME = home;
      const api = await k8sApi();
      // os.homedir() reads HOME on POSIX
      expect(() => loadKubeConfig(api)).toThrow(KubernetesError);
      try {
        loadKubeConfig(api);
      } catch (e) {
        expect((e as KubernetesError).reason).toBe('NotConfigured');
        expect((e as KubernetesError).message).toMatch(/^no Kubernetes cluster configured: set KUBECONFIG/);
      }
    });

    it('a kubeconfig with no cluster: NotConfigured', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-kube-'));
      const file = path.join(dir, 'config');
      fs.writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
      process.env.KUBECONFIG = file;
      let e: KubernetesError | undefined;
      try {
        loadKubeConfig(await k8sApi());
      } catch (err) {
        e = err as KubernetesError;
      }
      expect(e).toBeInstanceOf(KubernetesError);
      expect(e?.reason).toBe('NotConfigured');
    });
  });
});
