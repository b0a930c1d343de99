// The `flowbook` command. Thin: parse with commander, call the library, print. Command modules
// are imported only when their command runs, so `flowbook run` does not pay for `dump`.
import { Command, Option } from 'commander';
import { FlowbookError } from '../errors.js';

const debug = process.argv.includes('--debug');
// tasks (in workers and pods) print their stacks on the console too
if (debug) process.env.FLOWBOOK_DEBUG = '1';

/** One clear line for the user; the stack with --debug. */
function fail(err: unknown): never {
  const e = err as any;
  if (debug) console.error(e?.stack ?? e);
  else console.error(`error: ${e instanceof FlowbookError ? e.message : (e?.message ?? String(e))}`);
  process.exit(e instanceof FlowbookError ? e.exitCode : 1);
}

function action<A extends unknown[]>(load: () => Promise<(...a: A) => Promise<number | void>>) {
  return async (...args: A) => {
    try {
      const code = await (await load())(...args);
      process.exitCode = code ?? 0;
    } catch (err) {
      fail(err);
    }
  };
}

const program = new Command('flowbook')
  .description("Metaflow's research-to-production loop for TypeScript and Jupyter")
  .version('0.1.0')
  .option('--debug', 'print stacks of errors')
  .showHelpAfterError('(run with --help for usage)');

// --datastore s3 is FLOWBOOK_DATASTORE=s3 for this command (and the workers it starts)
program.hook('preAction', (_root, cmd) => {
  const kind = cmd.opts().datastore;
  if (kind) process.env.FLOWBOOK_DATASTORE = kind;
});

const rootOption = () =>
  new Option('--datastore-root <root>', 'a directory, or s3://bucket/prefix (default: $FLOWBOOK_HOME or ./.flowbook; with S3, $FLOWBOOK_S3_ROOT)');
const datastoreOption = () => new Option('--datastore <kind>', 'local or s3 (default: $FLOWBOOK_DATASTORE or local)').choices(['local', 's3']);

const repeatable = (v: string, all: string[]) => [...all, v];
/** every command that takes a FILE: which flow class, when the file has several */
const flowOption = () => new Option('--flow <name>', 'the flow class to use when FILE has several');

/**
 * `run` and `resume`: their first workers boot while the runner loads (compute/local/warm-start.ts).
 * The runner's young generation stays at V8's initial size (1 MiB semi-spaces) instead of growing
 * to 16 MiB ones: what it allocates per task is short-lived, so the smaller space costs it no time
 * (bench/light.mjs) and its memory stays flat over a long run. Its own process only: workers run
 * the user's code with V8's defaults.
 */
async function warmStart(cmd: Command): Promise<void> {
  (await import('../compute/task/young-generation.js')).keepYoungGenerationSmall();
  (await import('../compute/local/warm-start.js')).startWarm(cmd.opts());
}

/** The options `run` and `resume` share. */
function runOptions(cmd: Command): Command {
  return cmd
    .addOption(rootOption())
    .addOption(datastoreOption())
    .option('--max-workers <n>', 'tasks running at once (default: number of cores)')
    .option('--max-num-splits <n>', 'largest foreach allowed', '100')
    .option('--tag <tag>', 'tag the run (repeatable)', repeatable, [] as string[])
    .addOption(new Option('--isolation <mode>', 'warm workers, or a fresh process per task').choices(['worker', 'process']).default('worker'))
    .addOption(flowOption())
    .option('--no-cache', '@cache steps run, and their results are not recorded for reuse')
    .option('--recompute <steps>', '@cache steps (comma-separated) that run again; their new results replace the cached ones')
    .option('--quiet', 'do not echo task output');
}

runOptions(program.command('run'))
  .description('run a flow; flow parameters are flags: --<param> <value>')
  .argument('<file>', 'the flow file (.ts)')
  .option('--with <decorator>', 'add a step decorator to every step without it: card, catch, timeout, resources, retry, kubernetes, cache, as NAME[:k=v,…] (repeatable)', repeatable, [] as string[])
  .allowUnknownOption()
  .allowExcessArguments()
  .hook('preAction', warmStart)
  .action(action(async () => (await import('./run.js')).runCommand));

runOptions(program.command('resume'))
  .description('re-run a failed (or killed) run: DONE tasks are cloned, the rest runs')
  .argument('<file>', 'the flow file (.ts)')
  .argument('[step]', 'rerun from this step (default: from where the origin run stopped)')
  .option('--origin-run-id <id>', 'the run to resume (default: your latest run of the flow)')
  .option('--with <decorator>', "as for run; default: the origin run's --with set (--with none: none)", repeatable, [] as string[])
  .hook('preAction', warmStart)
  .action(action(async () => (await import('./run.js')).resumeCommand));

program
  .command('spin')
  .description("run one task of STEP again with a past task's inputs and the step's current code, in a spin run that never becomes latest; prints the artifacts it set and its cards")
  .argument('<file>', 'the flow file (.ts): its current code runs')
  .argument('<step>', 'the step to run')
  .option('--from <pathspec>', "the past run (Flow/RUN; RUN may be 'latest' or 'latest-successful') or task (Flow/RUN/STEP/TASK) whose inputs it reads (default: your latest successful run)")
  .option('--index <n>', "which of the step's tasks in that run, in foreach order (default: 0, the first)")
  .addOption(rootOption())
  .addOption(datastoreOption())
  .addOption(flowOption())
  .option('--quiet', 'do not echo task output')
  .addHelpText(
    'after',
    `
Example: edit the step that draws a card, then
  flowbook spin flows/youtube_transcription.ts postprocess
  flowbook spin flows/model_size_comparison.ts transcribe --index 2 --from ModelSizeComparison/1732000000000
The spin run references the past run's earlier steps (no copies); it is in no index, so
Flow(...).latestRun, latestSuccessfulRun, runs() and resume never pick it. From a notebook:
  const task = await spin('flows/x.ts', 'postprocess')   // from 'flowbook/notebook'`,
  )
  .action(action(async () => (await import('./spin.js')).spinCommand));

program
  .command('show')
  .description("print the flow's graph, steps and parameters")
  .argument('<file>', 'the flow file (.ts)')
  .addOption(flowOption())
  .action(action(async () => (await import('./show.js')).showCommand));

program
  .command('init')
  .description('set up this project: a starter flow, a tsconfig, a notebook, and the dataframes peer (danfojs-node) in package.json')
  .argument('[dir]', 'the project directory (has package.json)', '.')
  .option('--no-dataframes', 'do not add danfojs-node (toDataFrame()) and its npm overrides')
  .option('--dataframes-only', 'only add danfojs-node and its overrides to package.json; write no files')
  .action(action(async () => (await import('./init.js')).initCommand));

program
  .command('logs')
  .description("print a task's stdout and stderr, every attempt under a marker (Flow/run/step/task, or Flow/run/step for all its tasks; run may be 'latest' or 'latest-successful'; Flow/STEP: the latest run's)")
  .argument('<pathspec>')
  .option('--stdout', 'only stdout')
  .option('--stderr', 'only stderr')
  .option('--attempt <n>', 'only this attempt (1 is the first run; default: every attempt, each under a marker)')
  .addOption(rootOption())
    .addOption(datastoreOption())
  .action(action(async () => (await import('./inspect.js')).logsCommand));

program
  .command('dump')
  .description("print a run's data (Flow/run), a step's tasks as a table (Flow/run/step), a task's artifacts (Flow/run/step/task) or one artifact (…/task/name); run may be 'latest' or 'latest-successful'")
  .argument('<pathspec>')
  .option('--json', 'print JSON')
  .option('--out <file>', 'export a table artifact, or a step\'s tasks, to FILE: .arrow (Arrow IPC file), .parquet, .csv or .json')
  .option('--fields <names>', "a step's table: these artifacts (comma-separated) instead of its scalars and objects")
  .addOption(rootOption())
    .addOption(datastoreOption())
  .action(action(async () => (await import('./inspect.js')).dumpCommand));

program
  .command('verify')
  .description("re-hash every blob a run's (Flow/run) or a task's (Flow/run/step/task) artifacts use; exit 1 on any problem")
  .argument('<pathspec>')
  .option('--repair', 'remove corrupt blobs, so the next run that produces the same values stores them again')
  .addOption(rootOption())
  .addOption(datastoreOption())
  .action(action(async () => (await import('./verify.js')).verifyCommand));

program
  .command('advise')
  .description("per step of a run: where it ran and what it is compared against (its @resources, a smaller local slot, a pod's request), what it used, a verdict, and the decorator to paste where one fits (Flow, Flow/run, Flow/latest, Flow/latest-successful)")
  .argument('<pathspec>')
  .addOption(rootOption())
  .addOption(datastoreOption())
  .action(action(async () => (await import('./advise.js')).adviseCommand));

const card = program.command('card').description('HTML cards rendered by @card steps');
// as Metaflow's `python flow.py card view STEP`: a flow (file or name) then a step means its latest run
const cardTarget = 'FILE or Flow (with STEP: that step of the latest run), Flow/STEP, or Flow/run[/step[/task]] (run may be \'latest\')';
card
  .command('list')
  .description('the cards of a run, step or task')
  .argument('<target>', cardTarget)
  .argument('[step]', 'a step of the latest run, after FILE or Flow')
  .addOption(rootOption())
    .addOption(datastoreOption())
  .action(action(async () => (await import('./cards.js')).listCommand));
card
  .command('get')
  .description("write a task's card to FILE (or stdout); a step with several tasks: its first task's")
  .argument('<target>', cardTarget)
  .argument('[step]', 'after FILE or Flow: the step; after a pathspec: where to write the HTML')
  .argument('[file]', 'where to write the HTML')
  .option('--id <id>', 'which card (default: the first)')
  .addOption(rootOption())
    .addOption(datastoreOption())
  .action(action(async () => (await import('./cards.js')).getCommand));
card
  .command('view')
  .description("open a task's card in the browser, or print its file path when there is no display; a step with several tasks: its first task's")
  .argument('<target>', cardTarget)
  .argument('[step]', 'a step of the latest run, after FILE or Flow')
  .option('--id <id>', 'which card (default: the first)')
  .addOption(rootOption())
    .addOption(datastoreOption())
  .action(action(async () => (await import('./cards.js')).viewCommand));
card
  .command('server')
  .description('serve the cards of recent runs on 127.0.0.1, refreshing while tasks run')
  .option('--port <port>', 'port (0: any free port)', '8324')
  .addOption(rootOption())
    .addOption(datastoreOption())
  .action(action(async () => (await import('./cards.js')).serverCommand));
card
  .command('types')
  .description("the card types @card({ type }) can use: built-in, and your project's own (its cards/ folder, FLOWBOOK_CARDS)")
  .argument('[path]', 'a flow file or project folder (default: the current folder)')
  .action(action(async () => (await import('./card-types.js')).typesCommand));

const notebook = program.command('notebook').description('Jupyter notebooks on the flowbook (TypeScript) kernel');
notebook
  .command('run')
  .description('run every cell on a private Jupyter server (or --server), write the outputs into the notebook')
  .argument('<notebook>', 'an .ipynb file')
  .option('--out <file>', 'write the executed notebook here (default: in place)')
  .option('--timeout <seconds>', 'time limit per cell', '600')
  .option('--server <url>', 'use this Jupyter server instead of starting one')
  .option('--token <token>', 'its token (default: $JUPYTER_TOKEN)')
  .option('--kernel <name>', "kernel name (default: the notebook's, else flowbook)")
  .action(action(async () => (await import('./notebook.js')).runCommand));
notebook
  .command('kernel')
  .description('install the flowbook (TypeScript) kernel into DIR/.jupyter and print how to start Jupyter with it')
  .argument('[dir]', 'your project (default: the current folder)')
  .action(action(async () => (await import('./notebook.js')).kernelCommand));

const models = program.command('models').description('the shared Whisper model cache ($FLOWBOOK_MODELS or ~/.cache/flowbook/models)');
models
  .command('pull')
  .description('download models, verify their sha256, resume partial downloads (mirror: $FLOWBOOK_MODELS_URL)')
  .argument('<names...>', 'model names, e.g. tiny.en base large-v3-turbo')
  .option('--sha256 <hex>', 'expected sha256, for a model without an official hash')
  .action(action(async () => (await import('./models.js')).pullCommand));
models
  .command('list')
  .description('known models: present, verified')
  .option('--all', 'include the whisper.cpp test models')
  .action(action(async () => (await import('./models.js')).listCommand));
models
  .command('verify')
  .description('recompute the sha256 of downloaded models')
  .argument('[names...]', 'model names (default: every downloaded model)')
  .action(action(async () => (await import('./models.js')).verifyCommand));

program
  .command('kubernetes')
  .description('Kubernetes: see what a step would submit')
  .command('job')
  .description('print, as JSON, the Job one task of STEP would get (ids are placeholders); nothing is submitted')
  .argument('<file>', 'the flow file (.ts)')
  .argument('<step>', 'the step')
  .option('--with <decorator>', 'as for run, e.g. kubernetes:cpu=4,memory=8192,image=… (repeatable)', repeatable, [] as string[])
  .addOption(flowOption())
  .addOption(rootOption())
  .addOption(datastoreOption())
  .action(action(async () => (await import('./kubernetes.js')).jobCommand));

const argo = program.command('argo-workflows').description('deploy a flow to Argo Workflows, start and list its runs there');
const argoFlags = (c: Command) =>
  c.option('--namespace <ns>', 'the namespace (default: @kubernetes of start, $FLOWBOOK_KUBERNETES_NAMESPACE, or default)').addOption(flowOption());
argoFlags(argo.command('create'))
  .description('create or replace the flow\'s WorkflowTemplate (and a CronWorkflow for @schedule); stores its code in the S3 datastore')
  .argument('<file>', 'the flow file (.ts)')
  .option('--image <image>', 'the image every step runs in (default: @kubernetes image, $FLOWBOOK_KUBERNETES_IMAGE)')
  .option('--only-json', 'print the objects as JSON; submit and store nothing')
  .option('--with <decorator>', 'as for run, e.g. kubernetes:cpu=2,memory=4096 (repeatable)', repeatable, [] as string[])
  .option('--max-num-splits <n>', 'largest foreach allowed', '100')
  .option('--tag <tag>', 'tag every run of this deployment (repeatable)', repeatable, [] as string[])
  .option('--service-account <name>', "the workflow's service account (default: $FLOWBOOK_KUBERNETES_SERVICE_ACCOUNT, else the namespace's default)")
  .option('--automount-service-account-token', "mount the service account's API token into the step containers (off: flowbook's tasks never use the Kubernetes API)")
  .option('--user <name>', 'the user scheduled runs are recorded under (default: you); a trigger records its own')
  .addOption(rootOption())
  .addOption(datastoreOption())
  .action(action(async () => (await import('./argo.js')).createCommand));
argoFlags(argo.command('trigger'))
  .description('submit a Workflow from the deployed template; flow parameters are flags: --<param> <value>; --user NAME records the run under NAME (default: you)')
  .argument('<file>', 'the flow file (.ts)')
  .allowUnknownOption()
  .allowExcessArguments()
  .action(action(async () => (await import('./argo.js')).triggerCommand));
argoFlags(argo.command('list-runs'))
  .description("the flow's workflows: phase, times and run ids")
  .argument('<file>', 'the flow file (.ts)')
  .action(action(async () => (await import('./argo.js')).listRunsCommand));
argoFlags(argo.command('delete'))
  .description("delete the flow's WorkflowTemplate and CronWorkflow (runs already made stay)")
  .argument('<file>', 'the flow file (.ts)')
  .action(action(async () => (await import('./argo.js')).deleteCommand));
// what the template's pods run
const workflowFlags = (c: Command) =>
  c
    .requiredOption('--flow <name>', 'the flow')
    .requiredOption('--code-package <sha>', 'the code package')
    .requiredOption('--flow-path <path>', 'the flow file in the package')
    .requiredOption('--workflow <name>', '{{workflow.name}}')
    .requiredOption('--workflow-uid <uid>', '{{workflow.uid}}')
    .requiredOption('--created <time>', '{{workflow.creationTimestamp}}')
    .option('--user <user>', 'who deployed the flow');
workflowFlags(argo.command('step', { hidden: true }))
  .description('one task of an Argo workflow')
  .requiredOption('--step <step>', 'the step')
  .option('--indices <list>', 'foreach indices, outermost first', '')
  .option('--attempt <n>', '{{retries}}')
  .option('--retries <n>', 'how many retries the step has')
  .option('--max-num-splits <n>', 'largest foreach allowed')
  .option('--param <name=value>', 'a flow parameter (start only; repeatable)', repeatable, [] as string[])
  .option('--tag <tag>', 'a tag of the run (start only; repeatable)', repeatable, [] as string[])
  .action(action(async () => (await import('../compute/argo/pod.js')).argoStep));
workflowFlags(argo.command('finish', { hidden: true }))
  .description("an Argo workflow's exit handler: record how the run ended")
  .requiredOption('--status <status>', '{{workflow.status}}')
  .option('--failures <json>', '{{workflow.failures}}')
  .action(action(async () => (await import('../compute/argo/pod.js')).argoFinish));

program
  .command('step', { hidden: true })
  .description('run one task from a task spec (what workers and pods run)')
  .requiredOption('--task-spec <json>', 'the TaskSpec as JSON')
  .action(action(async () => (await import('./run.js')).stepCommand));

// `run FILE --help` (resume, argo-workflows trigger) lists the flow's parameters: commander prints
// help synchronously, so they are loaded before parsing
if (process.argv.includes('--help') || process.argv.includes('-h')) await (await import('./run.js')).addFlowParamsHelp(program, process.argv.slice(2));

program.parseAsync(process.argv).catch(fail);
