// A private Jupyter server for `flowbook notebook run`: 127.0.0.1, a free port, a random token,
// the project's kernels on JUPYTER_PATH; ready when /api/status answers; stopped for sure.
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { FlowbookError } from '../errors.js';

export interface JupyterServer {
  url: string;
  token: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startJupyterServer(o: { rootDir: string; jupyterPath: string; timeoutSeconds?: number }): Promise<JupyterServer> {
  const token = crypto.randomBytes(24).toString('hex');
  const port = await freePort();
  const env = { JUPYTER_PATH: [o.jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter), JUPYTER_TOKEN: token };
  // the token goes by environment, never on a command line other users can read
  const args = ['server', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--ServerApp.port_retries=0', `--ServerApp.root_dir=${o.rootDir}`];
  // CI and containers run as root; the server binds 127.0.0.1 with a random token either way
  if (process.getuid?.() === 0) args.push('--allow-root');
  const proc: ResultPromise = execa('jupyter', args, {
    env,
    reject: false,
    all: true,
    buffer: { all: true },
  });
  let exited = false;
  let log = '';
  proc.all?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const done = proc.then((r) => {
    exited = true;
    return r;
  });
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    if (exited) return;
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  };
  const deadline = Date.now() + (o.timeoutSeconds ?? 60) * 1000;
  for (;;) {
    if (exited) {
      const r = await done;
      const missing = (r as any).code === 'ENOENT' || /No such file|not found|No module named/.test(log);
      throw new FlowbookError(
        missing
          ? `Jupyter Server is not installed (no jupyter-server command): ${process.getuid?.() === 0 ? '' : 'sudo '}apt-get install jupyter-server`
          : `the Jupyter server stopped at start: ${log.trim().split('\n').at(-1) ?? `exit ${r.exitCode}`}`,
      );
    }
    const ok = await fetch(`${url}api/status`, { headers: { Authorization: `token ${token}` } }).then((r) => r.ok, () => false);
    if (ok) return { url, token, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new FlowbookError(`the Jupyter server did not answer within ${o.timeoutSeconds ?? 60} s: ${log.trim().split('\n').at(-1) ?? ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
