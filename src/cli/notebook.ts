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
