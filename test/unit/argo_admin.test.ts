// What a cluster admin checks in a template before accepting it (`argo-workflows create
// --only-json` through the real CLI, schema-checked like test/unit/argo_templates.test.ts): no API
// token in the step containers unless asked, a restrictive securityContext, a chosen service
// account, parameter values that cannot carry Argo expressions or NULs into pods, a warning for a
// plain-http datastore endpoint, and the run's user from the workflow, never a baked-in one.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { WorkflowTemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1';
import { Container, PodSecurityContext, SecurityContext } from 'kubernetes-models/v1';
import { BIN, REPO, fixture, tempDir, errorLine } from '../e2e/helpers.js';
import { argoParamValue, decodeArgoParam } from '../../src/compute/argo/template.js';

const home = tempDir('flowbook-argo-admin-');

function create(file: string, args: string[] = [], env: Record<string, string> = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, FLOWBOOK_HOME: home, FLOWBOOK_KUBERNETES_IMAGE: 'registry.example.com/flowbook:1.2.3', ...env };
  for (const k of ['FLOWBOOK_DATASTORE', 'FLOWBOOK_S3_ROOT', 'FLOWBOOK_DATASTORE_ROOT', 'KUBECONFIG', 'FORCE_COLOR', 'FLOWBOOK_KUBERNETES_SERVICE_ACCOUNT']) if (!(k in env)) delete e[k];
  if (!('FLOWBOOK_S3_ENDPOINT' in env)) delete e.FLOWBOOK_S3_ENDPOINT;
  const r = spawnSync(process.execPath, [BIN, 'argo-workflows', 'create', file, '--only-json', ...args], { env: e, cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function template(file: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = create(file, args, env);
  expect(r.code, r.stderr).toBe(0);
  const t = JSON.parse(r.stdout);
  new WorkflowTemplate(t).validate();
  for (const tpl of t.spec.templates.filter((x: any) => x.container)) {
    new Container(tpl.container).validate();
    new SecurityContext(tpl.container.securityContext).validate();
  }
  new PodSecurityContext(t.spec.securityContext).validate();
  return { t, stderr: r.stderr };
}

const containers = (t: any) => t.spec.templates.filter((x: any) => x.container);

describe('a template a cluster admin accepts', () => {
  it('no API token in the step containers, Argo’s executor on the workflow’s service account; --automount-service-account-token opts in', () => {
    const { t } = template(fixture('linear.ts'));
    expect(t.spec.automountServiceAccountToken).toBe(false);
    expect(t.spec.executor).toEqual({ serviceAccountName: 'default' });
    expect(t.spec.serviceAccountName).toBeUndefined();
    const sa = template(fixture('linear.ts'), ['--service-account', 'flowbook-runner']).t;
    expect(sa.spec.serviceAccountName).toBe('flowbook-runner');
    expect(sa.spec.executor).toEqual({ serviceAccountName: 'flowbook-runner' });
    const fromEnv = template(fixture('linear.ts'), [], { FLOWBOOK_KUBERNETES_SERVICE_ACCOUNT: 'team-sa' }).t;
    expect(fromEnv.spec.serviceAccountName).toBe('team-sa');
    const mounted = template(fixture('linear.ts'), ['--automount-service-account-token']).t;
    expect(mounted.spec.automountServiceAccountToken).toBeUndefined();
    expect(mounted.spec.executor).toBeUndefined();
  });

  it('every container runs non-root, without privilege escalation, with ALL capabilities dropped', () => {
    const { t } = template(fixture('foreach.ts'));
    expect(t.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    const all = containers(t);
    expect(all.map((x: any) => x.name)).toContain('exit-handler');
    for (const x of all) {
      expect(x.container.securityContext, x.name).toEqual({
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
  });

  it('a default with {{…}} travels base64-encoded (Argo expands it otherwise); a NUL is refused with one line', () => {
    const { t } = template(fixture('argo_unsafe.ts'));
    const byName = Object.fromEntries(t.spec.arguments.parameters.map((p: any) => [p.name, p.value]));
    expect(byName.plain).toBe('hello');
    expect(byName.greeting).not.toContain('{{');
    expect(byName.greeting).toMatch(/^flowbook-base64:/);
    expect(decodeArgoParam(byName.greeting)).toBe('hi {{workflow.name}}');
    expect(JSON.stringify(t.spec.arguments)).not.toContain('{{');
    const nul = create(fixture('argo_nul.ts'));
    expect(nul.code).toBe(1);
    expect(errorLine(nul)).toBe('error: parameter --bad: its value has the control character U+0000, which cannot reach a pod');
    // round trips: what is encoded comes back as it was, a value that merely looks encoded too
    for (const v of ['{{x}}', 'flowbook-base64:abc', 'ünï {{ code }} ✓', 'tab\there']) expect(decodeArgoParam(argoParamValue('p', v))).toBe(v);
  });

  it('the run’s user is a workflow parameter (the deployer by default, or --user), never baked into the pods', () => {
    const { t } = template(fixture('linear.ts'), ['--user', 'alice']);
    expect(t.spec.arguments.parameters.find((p: any) => p.name === 'flowbook-user').value).toBe('alice');
    for (const x of containers(t)) {
      const args = x.container.args.join(' ');
      expect(args, x.name).toContain('--user {{workflow.parameters.flowbook-user}}');
      expect(args).not.toContain('--user alice');
    }
    const bad = create(fixture('linear.ts'), ['--user', 'a b']);
    expect(bad.code).toBe(1);
    expect(errorLine(bad)).toBe(`error: --user must be a user name (letters, digits, '.', '_', '@', '-'), got "a b"`);
  });

  it('a plain-http datastore endpoint is a warning; a loopback one says the pods cannot reach it', () => {
    const loop = template(fixture('linear.ts'), [], { FLOWBOOK_S3_ENDPOINT: 'http://127.0.0.1:9000' });
    expect(loop.stderr).toContain("warning: the template's pods reach the datastore at http://127.0.0.1:9000: plain http (unencrypted), and a loopback address is each pod's own, not this machine's");
    const lan = template(fixture('linear.ts'), [], { FLOWBOOK_S3_ENDPOINT: 'http://minio.storage.svc:9000' });
    expect(lan.stderr).toContain('warning: the template\'s pods reach the datastore at http://minio.storage.svc:9000: plain http (unencrypted); set');
    const tls = template(fixture('linear.ts'), [], { FLOWBOOK_S3_ENDPOINT: 'https://s3.example.com' });
    expect(tls.stderr).not.toContain('warning');
  });
});
