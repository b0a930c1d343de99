// `flowbook argo-workflows create FILE --only-json` through the real CLI: every object it prints is
// checked against the Argo Workflows schema (@kubernetes-models/argo-workflows) and every container
// and pod-level field against the Kubernetes schema (kubernetes-models), then its structure is
// checked: how each graph shape becomes DAG tasks, what decorators and parameters turn into, and
// that the DAGs are closed (every template and dependency they name exists). No cluster needed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CronWorkflow, WorkflowTemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1';
import { Container, PodSpec } from 'kubernetes-models/v1';
import { BIN, REPO, fixture, flowbook, tempDir, type CliResult } from '../e2e/helpers.js';

const home = tempDir('flowbook-argo-tpl-');

/** The CLI with no S3 datastore and no kubeconfig: --only-json must need neither. */
function create(file: string): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, FLOWBOOK_HOME: home, FLOWBOOK_KUBERNETES_IMAGE: 'registry.example.com/flowbook:1.2.3' };
  for (const k of ['FLOWBOOK_DATASTORE', 'FLOWBOOK_S3_ROOT', 'FLOWBOOK_DATASTORE_ROOT', 'KUBECONFIG', 'FORCE_COLOR']) delete env[k];
  const r = spawnSync(process.execPath, [BIN, 'argo-workflows', 'create', file, '--only-json'], { env, cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cache = new Map<string, any>();
/** The printed objects (a template, or a List of template + CronWorkflow), each schema-checked. */
function deploy(file: string): { template: any; cron?: any } {
  if (!cache.has(file)) {
    const r = create(file);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const items: any[] = out.kind === 'List' ? out.items : [out];
    for (const o of items) validate(o);
    cache.set(file, { template: items.find((o) => o.kind === 'WorkflowTemplate'), cron: items.find((o) => o.kind === 'CronWorkflow') });
  }
  return cache.get(file);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Schema checks: Argo's for the objects, Kubernetes' for each container and its pod-level fields. */
function validate(o: any) {
  expect(o.apiVersion).toBe('argoproj.io/v1alpha1');
  if (o.kind === 'CronWorkflow') return void new CronWorkflow(o).validate();
  expect(o.kind).toBe('WorkflowTemplate');
  new WorkflowTemplate(o).validate();
  expect(o.metadata.name).toMatch(DNS_LABEL);
  expect(o.metadata.name.length).toBeLessThanOrEqual(52);
  for (const t of o.spec.templates) {
    expect(t.name, 'template names are DNS labels').toMatch(DNS_LABEL);
    if (!t.container) continue;
    new Container(t.container).validate();
    // Argo puts these on the pod: validated as the PodSpec they become
    new PodSpec({ containers: [t.container], nodeSelector: t.nodeSelector, tolerations: t.tolerations, volumes: t.volumes }).validate();
    const volumes = new Set((t.volumes ?? []).map((v: any) => v.name));
    for (const m of t.container.volumeMounts ?? []) expect(volumes.has(m.name), `${t.name} mounts ${m.name}`).toBe(true);
  }
}

/** Task names a `depends` expression refers to (`a.Succeeded && (b.Succeeded || b.Skipped)`). */
const dependsNames = (expr: string) => [...expr.matchAll(/([a-z0-9-]+)\.(Succeeded|Skipped|Failed|Errored|Daemoned|AnySucceeded|AllFailed)\b/g)].map((m) => m[1]);

/** The DAGs are closed: each task's template exists, each name in depends/when/withParam is a task of the same DAG. */
function checkClosed(template: any) {
  const templates = new Map<string, any>(template.spec.templates.map((t: any) => [t.name, t]));
  expect(templates.size, 'template names are distinct').toBe(template.spec.templates.length);
  expect(templates.has(template.spec.entrypoint)).toBe(true);
  expect(templates.has(template.spec.onExit)).toBe(true);
  const reached = new Set<string>([template.spec.entrypoint, template.spec.onExit]);
  for (const t of template.spec.templates.filter((t: any) => t.dag)) {
    const tasks = new Set<string>(t.dag.tasks.map((k: any) => k.name));
    expect(tasks.size, `${t.name}: task names are distinct`).toBe(t.dag.tasks.length);
    for (const k of t.dag.tasks) {
      expect(templates.has(k.template), `${t.name}/${k.name} → template ${k.template}`).toBe(true);
      reached.add(k.template);
      for (const d of dependsNames(k.depends ?? '')) expect(tasks.has(d), `${t.name}/${k.name} depends on ${d}`).toBe(true);
      for (const ref of `${k.when ?? ''} ${k.withParam ?? ''}`.matchAll(/\{\{tasks\.([a-z0-9-]+)\./g)) expect(tasks.has(ref[1]), `${t.name}/${k.name} refers to ${ref[1]}`).toBe(true);
      // every task passes the indices its template declares
      const declared = (templates.get(k.template).inputs?.parameters ?? []).map((p: any) => p.name);
      expect(k.arguments.parameters.map((p: any) => p.name)).toEqual(declared);
    }
  }
  expect([...templates.keys()].filter((n) => !reached.has(n)), 'no template is unused').toEqual([]);
}

const dag = (template: any, name = 'main') => template.spec.templates.find((t: any) => t.name === name).dag.tasks as any[];
const task = (template: any, name: string, dagName = 'main') => {
  const k = dag(template, dagName).find((t) => t.name === name);
  expect(k, `${dagName} has task ${name}`).toBeDefined();
  return k;
};
const stepTpl = (template: any, step: string) => template.spec.templates.find((t: any) => t.name === `step-${step}`);
const indicesArg = (k: any) => k.arguments.parameters.find((p: any) => p.name === 'indices').value;
/** A foreach over `split`'s items invoking its body DAG, in the DAG `dagName`. */
function expectForeach(template: any, split: string, dagName: string, outerIndices: string) {
  const f = task(template, `foreach-${split}`, dagName);
  expect(f.template).toBe(`foreach-${split}`);
  expect(f.withParam).toBe(`{{tasks.${split}.outputs.parameters.foreach-indices}}`);
  expect(f.depends).toBe(`${split}.Succeeded`);
  expect(indicesArg(f)).toBe(`${outerIndices},{{item}}`);
  expect(stepTpl(template, split).outputs.parameters).toEqual([{ name: 'foreach-indices', valueFrom: { path: '/tmp/flowbook/outputs/foreach-indices' } }]);
}
const foreachJoinDepends = (split: string) => `(foreach-${split}.Succeeded || foreach-${split}.Skipped)`;

const SHAPES: [string, string][] = [
  ['seed: youtube_transcription', path.join(REPO, 'flows/youtube_transcription.ts')],
  ['seed: model_size_comparison', path.join(REPO, 'flows/model_size_comparison.ts')],
  ...['linear', 'branch', 'nested3', 'foreach', 'foreach3', 'branch_in_foreach', 'switch', 'argo_mixed', 'params', 'argo_decorated', 'argo_daily'].map((f) => [f, fixture(`${f}.ts`)] as [string, string]),
];

describe('argo-workflows create --only-json: schema-valid and closed', () => {
  it.each(SHAPES)('%s', (_, file) => {
    const { template } = deploy(file);
    checkClosed(template);
    expect(template.spec.entrypoint).toBe('main');
    expect(template.spec.onExit).toBe('exit-handler');
    // every step runs the same image with its own template, and plans its task from its indices
    for (const t of template.spec.templates.filter((t: any) => t.name.startsWith('step-'))) {
      expect(t.container.image).toBe('registry.example.com/flowbook:1.2.3');
      expect(t.container.args.slice(0, 2)).toEqual(['argo-workflows', 'step']);
      expect(t.container.args).toContain('{{inputs.parameters.indices}}');
      expect(t.container.resources.requests.memory).toMatch(/^\d+Mi$/);
      expect(t.container.resources.limits.memory).toBe(t.container.resources.requests.memory);
    }
  });

  it('the validators are not a formality: malformed fields are refused', () => {
    const { template } = deploy(fixture('linear.ts'));
    const broken = structuredClone(template);
    broken.spec.templates.find((t: any) => t.name === 'step-a').container.resources.requests.cpu = { cores: 1 };
    expect(() => validate(broken)).toThrow(/cpu/);
    const noTemplate = structuredClone(template);
    dag(noTemplate).find((k) => k.name === 'b').depends = 'a.Succeeded && ghost.Succeeded';
    expect(() => checkClosed(noTemplate)).toThrow(/ghost/);
  });
});

describe('graph shapes become DAGs', () => {
  it('linear: a chain of Succeeded dependencies', () => {
    const { template } = deploy(fixture('linear.ts'));
    expect(template.metadata.name).toBe('linearflow');
    expect(dag(template).map((k) => [k.name, k.template, k.depends])).toEqual([
      ['start', 'step-start', undefined],
      ['a', 'step-a', 'start.Succeeded'],
      ['b', 'step-b', 'a.Succeeded'],
      ['end', 'step-end', 'b.Succeeded'],
    ]);
    expect(dag(template).map(indicesArg)).toEqual(['', '', '', '']);
    // a flow without parameters has only the user who runs it
    expect(template.spec.arguments.parameters.map((p: any) => p.name)).toEqual(['flowbook-user']);
  });

  it('static branch: the join waits for both branch ends', () => {
    const { template } = deploy(fixture('branch.ts'));
    expect(task(template, 'a').depends).toBe('start.Succeeded');
    expect(task(template, 'b').depends).toBe('start.Succeeded');
    expect(task(template, 'join').depends).toBe('a.Succeeded && b.Succeeded');
    expect(task(template, 'end').depends).toBe('join.Succeeded');
  });

  it('nested static branches: each join waits for the ends of its own split', () => {
    const { template } = deploy(fixture('nested3.ts'));
    expect(task(template, 'j3').depends).toBe('a1x.Succeeded && a1y.Succeeded');
    expect(task(template, 'j2').depends).toBe('j3.Succeeded && a2.Succeeded');
    expect(task(template, 'j1').depends).toBe('j2.Succeeded && b.Succeeded');
    expect(template.spec.templates.filter((t: any) => t.dag)).toHaveLength(1);
  });

  it('foreach: a body DAG invoked withParam; the join waits for the whole group', () => {
    const { template } = deploy(fixture('foreach.ts'));
    expectForeach(template, 'start', 'main', '');
    expect(dag(template, 'foreach-start').map((k) => [k.name, k.depends, indicesArg(k)])).toEqual([['square', undefined, '{{inputs.parameters.indices}}']]);
    expect(task(template, 'join').depends).toBe(foreachJoinDepends('start'));
    expect(template.spec.arguments.parameters.filter((p: any) => p.name !== 'flowbook-user')).toEqual([{ name: 'xs', value: '[3,1,2]' }]);
  });

  it('nested foreach: indices concatenate level by level', () => {
    const { template } = deploy(fixture('foreach3.ts'));
    expectForeach(template, 'start', 'main', '');
    expectForeach(template, 'fa', 'foreach-start', '{{inputs.parameters.indices}}');
    expectForeach(template, 'fb', 'foreach-fa', '{{inputs.parameters.indices}}');
    expect(task(template, 'jc', 'foreach-fa').depends).toBe(foreachJoinDepends('fb'));
    expect(task(template, 'jb', 'foreach-start').depends).toBe(foreachJoinDepends('fa'));
    expect(task(template, 'ja').depends).toBe(foreachJoinDepends('start'));
    expect(dag(template, 'foreach-fb').map((k) => k.name)).toEqual(['fc']);
    // a body DAG takes the indices of the item it runs
    for (const n of ['foreach-start', 'foreach-fa', 'foreach-fb']) expect(template.spec.templates.find((t: any) => t.name === n).inputs.parameters).toEqual([{ name: 'indices' }]);
  });

  it('branch in a foreach: the static join lives in the body DAG', () => {
    const { template } = deploy(fixture('branch_in_foreach.ts'));
    expectForeach(template, 'start', 'main', '');
    expect(dag(template, 'foreach-start').map((k) => [k.name, k.depends])).toEqual([
      ['body', undefined],
      ['p', 'body.Succeeded'],
      ['q', 'body.Succeeded'],
      ['jpq', 'p.Succeeded && q.Succeeded'],
    ]);
    expect(task(template, 'jx').depends).toBe(foreachJoinDepends('start'));
  });

  it("switch: cases run `when` the switch step's output names them; the next step takes either", () => {
    const { template } = deploy(fixture('switch.ts'));
    expect(task(template, 'hi').when).toBe("'{{tasks.start.outputs.parameters.switch-step}}' == 'hi'");
    expect(task(template, 'lo').when).toBe("'{{tasks.start.outputs.parameters.switch-step}}' == 'lo'");
    expect(task(template, 'end').depends).toBe('(hi.Succeeded || lo.Succeeded)');
    expect(stepTpl(template, 'start').outputs.parameters).toEqual([{ name: 'switch-step', valueFrom: { path: '/tmp/flowbook/outputs/switch-step' } }]);
  });

  it('switches inside a foreach body and on one arm of a static branch', () => {
    const { template } = deploy(fixture('argo_mixed.ts'));
    expect(task(template, 'ev', 'foreach-start').when).toBe("'{{tasks.body.outputs.parameters.switch-step}}' == 'ev'");
    expect(task(template, 'od', 'foreach-start').when).toBe("'{{tasks.body.outputs.parameters.switch-step}}' == 'od'");
    // the foreach join waits for the body group whichever case each item took
    expect(task(template, 'jx').depends).toBe(foreachJoinDepends('start'));
    // the static join: either case on the switch's arm, and the other arm
    expect(task(template, 'j').depends).toBe('(ax.Succeeded || ay.Succeeded) && b.Succeeded');
  });

  it('seed flows: a foreach (transcription) and a nested foreach (comparison)', () => {
    const yt = deploy(path.join(REPO, 'flows/youtube_transcription.ts')).template;
    expect(yt.metadata.name).toBe('youtubevideotranscription');
    expectForeach(yt, 'start', 'main', '');
    expect(task(yt, 'postprocess').depends).toBe(foreachJoinDepends('start'));
    // @resources({ cpu: 3, memory: 12288 }) on transcribe
    expect(stepTpl(yt, 'transcribe').container.resources).toEqual({ requests: { cpu: '3', memory: '12288Mi' }, limits: { memory: '12288Mi' } });
    expect(yt.spec.arguments.parameters.find((p: any) => p.name === 'min-ct')).toEqual({ name: 'min-ct', value: '1', description: 'minimum count of a word in the embedding' });
    const msc = deploy(path.join(REPO, 'flows/model_size_comparison.ts')).template;
    expectForeach(msc, 'start', 'main', '');
    expectForeach(msc, 'fetch', 'foreach-start', '{{inputs.parameters.indices}}');
    expect(task(msc, 'compare', 'foreach-start').depends).toBe(foreachJoinDepends('fetch'));
    expect(stepTpl(msc, 'transcribe').container.resources.requests).toEqual({ cpu: '1', memory: '4096Mi' });
    expect(msc.spec.arguments.parameters.find((p: any) => p.name === 'models')).toMatchObject({ value: 'tiny,large' });
  });
});

describe('decorators and parameters', () => {
  it('@retry, @timeout, @resources, @kubernetes and parameters with their defaults', () => {
    const { template } = deploy(fixture('argo_decorated.ts'));
    expect(template.metadata.name).toBe('argodecoratedflow');
    expect(template.spec.arguments.parameters.filter((p: any) => p.name !== 'flowbook-user')).toEqual([
      { name: 'alpha', value: '3', description: 'how many' },
      { name: 'label', value: 'x' },
      { name: 'cfg', value: '{"k":1}' },
      { name: 'who' }, // required: Argo asks for it at submission
    ]);
    const start = stepTpl(template, 'start');
    expect(start.retryStrategy).toMatchObject({ limit: '2', backoff: { duration: '1m' } });
    expect(start.activeDeadlineSeconds).toBe(300);
    // the pod counts its attempts from Argo's, and start receives the workflow's parameters
    expect(start.container.args.join(' ')).toContain('--attempt {{retries}} --retries 2');
    for (const p of ['alpha', 'label', 'cfg', 'who']) expect(start.container.args.join(' ')).toContain(`--param ${p}={{workflow.parameters.${p}}}`);
    expect(stepTpl(template, 'heavy').retryStrategy).toBeUndefined();
    expect(stepTpl(template, 'heavy').activeDeadlineSeconds).toBeUndefined();
    expect(stepTpl(template, 'heavy').container.args).not.toContain('{{retries}}');
    expect(stepTpl(template, 'heavy').container.resources).toEqual({ requests: { cpu: '2', memory: '3000Mi' }, limits: { memory: '3000Mi' } });
    const pinned = stepTpl(template, 'pinned');
    expect(pinned.container.resources).toEqual({ requests: { cpu: '0.5', memory: '1024Mi' }, limits: { memory: '1024Mi' } });
    expect(pinned.nodeSelector).toEqual({ disk: 'ssd' });
    expect(pinned.tolerations).toEqual([{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pinned.volumes.map((v: any) => v.name)).toEqual(['dshm', 'pvc-models']);
    expect(pinned.container.volumeMounts).toEqual([
      { name: 'dshm', mountPath: '/dev/shm' },
      { name: 'pvc-models', mountPath: '/models' },
    ]);
  });

  it('a secret-free params flow: every parameter, required ones without a value', () => {
    const { template } = deploy(fixture('params.ts'));
    const byName = Object.fromEntries(template.spec.arguments.parameters.map((p: any) => [p.name, p]));
    expect(byName.name).toEqual({ name: 'name', description: 'who' });
    expect(byName.count.value).toBe('2');
    expect(byName.ratio.value).toBe('0.5');
    expect(byName.loud.value).toBe('false');
    expect(byName.opts.value).toBe('{"k":1}');
    expect(byName['min-ct'].value).toBe('1');
  });
});

describe('@schedule', () => {
  it('cron + timezone → a CronWorkflow that submits the template', () => {
    const { template, cron } = deploy(fixture('argo_decorated.ts'));
    expect(cron).toBeDefined();
    expect(cron.metadata.name).toBe(template.metadata.name);
    expect(cron.metadata.namespace).toBe(template.metadata.namespace);
    expect(cron.spec.schedules).toEqual(['*/15 * * * *']);
    expect(cron.spec.timezone).toBe('Europe/Paris');
    expect(cron.spec.workflowSpec.workflowTemplateRef.name).toBe(template.metadata.name);
  });

  it('daily → midnight, no timezone (the cluster’s)', () => {
    const { template, cron } = deploy(fixture('argo_daily.ts'));
    expect(cron.spec.schedules).toEqual(['0 0 * * *']);
    expect(cron.spec.timezone).toBeUndefined();
    expect(cron.spec.workflowSpec.workflowTemplateRef.name).toBe(template.metadata.name);
  });

  it('a flow without @schedule prints the template alone', () => {
    expect(deploy(fixture('linear.ts')).cron).toBeUndefined();
    expect(JSON.parse(create(fixture('linear.ts')).stdout).kind).toBe('WorkflowTemplate');
  });

  it.each([
    ['argo_badcron.ts', /^error: .*cron "every day".*five-field/],
    ['argo_badtz.ts', /^error: .*unknown timezone "Mars\/Olympus_Mons"/],
  ])('%s: refused with a one-line error', (file, pattern) => {
    const r = create(fixture(file));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  });

  it('a local run says the schedule applies only when deployed', () => {
    const r = flowbook(['run', fixture('argo_daily.ts')], { root: tempDir() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).toContain('applies only when deployed');
  });
});
