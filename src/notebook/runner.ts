// `flowbook notebook run`: every code cell of a notebook on a kernel of a Jupyter server (ours,
// or one given with --server/--token), through @jupyterlab/services over ws. Outputs are written
// into the notebook; the first failing cell stops the run and is named; the kernel and our server
// are always shut down.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FlowUsageError, NotebookCellError } from '../errors.js';
import { readNotebook, writeNotebook, sourceText, type Output } from './nbformat.js';
import { startJupyterServer, type JupyterServer } from './server.js';

const req = createRequire(import.meta.url);
/** the flowbook package: its kernels/ and bin/ (src/notebook or dist/notebook, two levels down) */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `flowbook notebook run` (runNotebook): where the notebook runs and where its outputs go. */
export interface NotebookRunOptions {
  /** the file the executed notebook is written to. Default: the notebook itself */
  out?: string;
  /** seconds a cell may run before the run stops with a NotebookCellError. Default 600 */
  timeoutSeconds?: number;
  /** a running Jupyter server's URL to use (needs `token`). Default: a private server started for this run and stopped after it */
  server?: string;
  /** the token of `server`. Default: none (required with `server`) */
  token?: string;
  /** the kernel spec's name. Default: the notebook's own (metadata.kernelspec.name), else 'flowbook' */
  kernel?: string;
  /** called after each cell. Default: none */
  progress?: (index: number, total: number, ok: boolean, seconds: number) => void;
}

export interface NotebookRunResult {
  out: string;
  cells: number;
  executed: number;
  seconds: number;
  /** where the time went: our server's start, kernel start to ready, each executed cell */
  timings: { serverSeconds: number; kernelSeconds: number; cellSeconds: number[] };
  failed?: { index: number; ename: string; evalue: string };
}

export async function runNotebook(file: string, o: NotebookRunOptions = {}): Promise<NotebookRunResult> {
  const t0 = performance.now();
  const nb = readNotebook(file);
  const out = path.resolve(o.out ?? file);
  const kernelName = o.kernel ?? nb.metadata.kernelspec?.name ?? 'flowbook';
  if (o.server && !o.token) throw new FlowUsageError('--server needs --token');

  let server: JupyterServer | undefined;
  let session: { id: string } | undefined;
  let kernel: any;
  let settings: any;
  const services = req('@jupyterlab/services') as typeof import('@jupyterlab/services');
  const cleanup = async () => {
    try {
      if (session) await services.SessionAPI.shutdownSession(session.id, settings).catch(() => undefined);
      kernel?.dispose();
    } finally {
      await server?.stop();
    }
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  // @jupyterlab/services logs each websocket it opens with console.debug (stdout in Node)
  const debug = console.debug;
  console.debug = () => {};
  const result: NotebookRunResult = { out, cells: nb.cells.filter((c) => c.cell_type === 'code').length, executed: 0, seconds: 0, timings: { serverSeconds: 0, kernelSeconds: 0, cellSeconds: [] } };
  try {
    if (!o.server) {
      const { installKernel, jupyterPath } = await import(pathToFileURL(path.join(PACKAGE_ROOT, 'kernels/install.mjs')).href);
      installKernel();
      const st = performance.now();
      server = await startJupyterServer({ rootDir: path.dirname(path.resolve(file)), jupyterPath: jupyterPath() });
      result.timings.serverSeconds = (performance.now() - st) / 1000;
    }
    const baseUrl = server?.url ?? o.server!.replace(/\/?$/, '/');
    settings = services.ServerConnection.makeSettings({
      baseUrl,
      wsUrl: baseUrl.replace(/^http/, 'ws'),
      token: server?.token ?? o.token!,
      appendToken: true,
      WebSocket: req('ws'),
      fetch: globalThis.fetch.bind(globalThis),
      Request: globalThis.Request,
      Headers: globalThis.Headers,
    } as any);
    // KernelSpecAPI, not KernelSpecManager: the manager keeps a 60 s polling timer alive
    const specs = await services.KernelSpecAPI.getSpecs(settings);
    if (!specs.kernelspecs[kernelName]) {
      throw new FlowUsageError(`the Jupyter server has no kernel '${kernelName}' (it has: ${Object.keys(specs.kernelspecs).join(', ')}); run \`npm run kernel:install\``);
    }
    // a session at the notebook's path: the kernel starts in the notebook's directory
    const name = path.basename(file);
    const kt = performance.now();
    session = await services.SessionAPI.startSession({ path: name, name, type: 'notebook', kernel: { name: kernelName } }, settings);
    kernel = new services.KernelConnection({ model: (session as any).kernel, serverSettings: settings, handleComms: false });
    await kernel.info;
    result.timings.kernelSeconds = (performance.now() - kt) / 1000;

    const total = nb.cells.length;
    for (const [index, cell] of nb.cells.entries()) {
      if (cell.cell_type !== 'code' || !sourceText(cell).trim()) continue;
      const ct = performance.now();
      const { outputs, reply } = await execute(kernel, sourceText(cell), o.timeoutSeconds ?? 600, index);
      cell.outputs = outputs;
      cell.execution_count = reply.execution_count ?? null;
      result.executed++;
      const ok = reply.status === 'ok';
      const seconds = (performance.now() - ct) / 1000;
      result.timings.cellSeconds.push(seconds);
      o.progress?.(index, total, ok, seconds);
      if (!ok) {
        // our kernel (kernels/tslab-kernel.cjs) puts ename/evalue in the reply; plain tslab reports
        // errors on stderr with an empty error reply: then name what it said
        const stderr = outputs.filter((x) => x.output_type === 'stream' && x.name === 'stderr').map((x) => String(x.text)).join('').trim();
        const err = outputs.find((x) => x.output_type === 'error');
        // tslab prints a thrown error as `evalmachine…`, the source line, then `TypeError: message`
        const thrown = stderr.split('\n').map((l) => /^([A-Z][\w$]*): (.+)$/.exec(l.trim())).find(Boolean);
        result.failed = {
          index,
          ename: String(reply.ename || err?.ename || thrown?.[1] || 'Error'),
          evalue: String(reply.evalue || err?.evalue || thrown?.[2] || stderr.split('\n')[0] || 'failed'),
        };
        break;
      }
    }
  } finally {
    console.debug = debug;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // what ran is kept, whatever happened after
    if (result.executed) writeNotebook(out, nb);
    await cleanup();
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

async function execute(kernel: any, code: string, timeoutSeconds: number, index: number): Promise<{ outputs: Output[]; reply: any }> {
  const outputs: Output[] = [];
  const byDisplayId = new Map<string, Output>();
  const future = kernel.requestExecute({ code, stop_on_error: true, store_history: true, allow_stdin: false });
  future.onIOPub = (msg: any) => {
    const c = msg.content;
    switch (msg.header.msg_type) {
      case 'stream': {
        const last = outputs.at(-1);
        if (last?.output_type === 'stream' && last.name === c.name) last.text = String(last.text) + c.text;
        else outputs.push({ output_type: 'stream', name: c.name, text: c.text });
        break;
      }
      case 'display_data':
      case 'execute_result': {
        const o: Output = { output_type: msg.header.msg_type, data: c.data, metadata: c.metadata ?? {}, ...(msg.header.msg_type === 'execute_result' ? { execution_count: c.execution_count } : {}) };
        outputs.push(o);
        if (c.transient?.display_id) byDisplayId.set(c.transient.display_id, o);
        break;
      }
      case 'update_display_data': {
        const o = byDisplayId.get(c.transient?.display_id);
        if (o) Object.assign(o, { data: c.data, metadata: c.metadata ?? {} });
        break;
      }
      case 'error':
        outputs.push({ output_type: 'error', ename: c.ename, evalue: c.evalue, traceback: c.traceback ?? [] });
        break;
      case 'clear_output':
        outputs.splice(0);
        break;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void kernel.interrupt().catch(() => undefined);
      reject(new NotebookCellError(`cell ${index} timed out after ${timeoutSeconds} s`));
    }, timeoutSeconds * 1000);
  });
  try {
    const reply = await Promise.race([future.done, timeout]);
    return { outputs, reply: reply.content };
  } finally {
    clearTimeout(timer);
    future.dispose();
  }
}
