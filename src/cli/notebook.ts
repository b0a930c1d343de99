// `flowbook notebook run NB.ipynb [--out OUT] [--timeout S] [--server URL --token T]`
import path from 'node:path';
import { FlowUsageError, NotebookCellError } from '../errors.js';

export async function runCommand(file: string, flags: { out?: string; timeout?: string; server?: string; token?: string; kernel?: string }): Promise<number> {
  const { runNotebook } = await import('../notebook/runner.js');
  const timeout = flags.timeout === undefined ? undefined : Number(flags.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new FlowUsageError(`--timeout must be a positive number of seconds, got ${flags.timeout}`);
  const r = await runNotebook(file, {
    out: flags.out,
    timeoutSeconds: timeout,
    server: flags.server,
    token: flags.token ?? process.env.JUPYTER_TOKEN,
    kernel: flags.kernel,
    progress: (i, n, ok, s) => console.error(`  cell ${i + 1}/${n} ${ok ? 'ok' : 'FAILED'} (${s.toFixed(2)} s)`),
  });
  const rel = path.relative(process.cwd(), r.out);
  const where = rel && !rel.startsWith('..') ? rel : r.out;
  if (r.failed) {
    throw new NotebookCellError(`${file}: cell ${r.failed.index + 1} (index ${r.failed.index}) failed: ${r.failed.ename}: ${r.failed.evalue} (outputs so far written to ${where})`);
  }
  console.error(`${file}: ${r.executed} code cells ran in ${r.seconds.toFixed(1)} s → ${where}`);
  return 0;
}

/**
 * `flowbook notebook kernel [DIR]`: install the "flowbook (TypeScript)" kernel into DIR/.jupyter
 * (a project of your own), and say how to start Jupyter so it finds it. Nothing outside DIR changes.
 */
export async function kernelCommand(dir: string | undefined): Promise<number> {
  const root = path.resolve(dir ?? '.');
  const { PACKAGE_ROOT } = await import('../notebook/runner.js');
  const { pathToFileURL } = await import('node:url');
  const { installKernel, jupyterPath } = await import(pathToFileURL(path.join(PACKAGE_ROOT, 'kernels/install.mjs')).href);
  const { file, changed } = installKernel(root);
  console.error(`kernel "flowbook (TypeScript)" ${changed ? 'installed' : 'already installed'}: ${file}`);
  // `jupyter notebook` is Debian's jupyter-notebook package (python3-notebook has no command), and
  // refuses to run as root without --allow-root: the line printed is one that starts as it is
  const asRoot = process.getuid?.() === 0;
  console.error(`start Jupyter with it (Debian: ${asRoot ? '' : 'sudo '}apt-get install jupyter-notebook):`);
  const rel = path.relative(process.cwd(), root);
  console.log(`JUPYTER_PATH=${jupyterPath(root)} jupyter notebook --ip 127.0.0.1 --no-browser${asRoot ? ' --allow-root' : ''} ${rel.startsWith('..') ? root : rel || '.'}`);
  return 0;
}
