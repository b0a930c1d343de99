// `npm run jupyter`: Jupyter Notebook on the project's notebooks/, with the "flowbook (TypeScript)"
// kernel, as root or not. It says the one missing package instead of Jupyter's "command not
// found", installs the kernel and the sample clips first (so notebook 01 runs the first time),
// binds 127.0.0.1 only, adds --allow-root only when root (containers and CI run as root; the server
// is reachable from this machine alone and needs the token either way), and prints the URL with its
// token once the server answers. Arguments after `--` go to `jupyter notebook` as they are.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { installKernel, jupyterPath } from './install.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const isRoot = process.getuid?.() === 0;
const sudo = isRoot ? '' : 'sudo ';

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

/** `jupyter notebook` runs the `jupyter-notebook` command: Debian ships it in its own package. */
function onPath(command) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir || '.', command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Jupyter's own choice (8888, then the next ports), made here so the URL printed is the one served. */
async function choosePort() {
  if (process.env.JUPYTER_PORT) {
    const port = Number(process.env.JUPYTER_PORT);
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`JUPYTER_PORT must be a port number, got ${process.env.JUPYTER_PORT}`);
    return port;
  }
  for (let port = 8888; port < 8888 + 50; port++) if (await portIsFree(port)) return port;
  fail('no free port in 8888-8937 on 127.0.0.1: set JUPYTER_PORT');
}

async function answers(url, token) {
  try {
    const r = await fetch(`${url}api/status`, { headers: { Authorization: `token ${token}` } });
    return r.ok;
  } catch {
    return false;
  }
}

if (!onPath('jupyter-notebook')) {
  fail(`Jupyter Notebook is not installed (no jupyter-notebook command): run \`bash scripts/setup.sh --notebooks\`, or ${sudo}apt-get install jupyter-notebook`);
}
// the URL printed is built from these: a --port or --ip of the user's own would make it wrong
const fixed = process.argv.slice(2).find((a) => /^--(port|ip|notebook-dir|NotebookApp\.(port|ip|notebook_dir))(=|$)/.test(a));
if (fixed) fail(`npm run jupyter sets ${fixed.split('=')[0]} itself (127.0.0.1, notebooks/): choose the port with JUPYTER_PORT`);
const port = await choosePort();
const { file } = installKernel();
console.error(`kernel "flowbook (TypeScript)": ${path.relative(process.cwd(), file) || file}`);
const samples = spawnSync('bash', [path.join(repo, 'scripts/make-samples.sh')], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
if (samples.status !== 0) fail('scripts/make-samples.sh failed: the sample clips notebook 01 transcribes are missing (see above)');

const token = process.env.JUPYTER_TOKEN || crypto.randomBytes(24).toString('hex');
const notebooks = path.join(repo, 'notebooks');
const args = ['notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0', `--notebook-dir=${notebooks}`];
if (isRoot) args.push('--allow-root');
args.push(...process.argv.slice(2));
// the token goes by environment, never on a command line other users can read
const env = { ...process.env, JUPYTER_TOKEN: token, JUPYTER_PATH: [jupyterPath(), process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter) };
const jupyter = spawn('jupyter', args, { cwd: repo, env, stdio: 'inherit' });
let exit = null;
const exited = new Promise((resolve) =>
  jupyter.once('exit', (code, signal) => {
    exit = { code, signal };
    resolve(exit);
  }),
);
jupyter.once('error', (err) => fail(`could not start jupyter: ${err.message}`));
// Ctrl-C reaches Jupyter from the terminal itself (it asks to confirm); a TERM or HUP sent to this
// launcher alone is passed on, and the launcher ends when Jupyter does
process.on('SIGINT', () => {});
for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => jupyter.kill(sig));

const url = `http://127.0.0.1:${port}/`;
for (;;) {
  if (exit) {
    if (exit.code !== 0) fail(`jupyter notebook stopped before it served ${url} (${exit.code === null ? exit.signal : `exit ${exit.code}`}): its reason is above`);
    break;
  }
  if (await answers(url, token)) {
    console.log(`\nJupyter is ready: ${url}tree?token=${token}\n(notebooks/ on the "flowbook (TypeScript)" kernel; Ctrl-C stops the server)\n`);
    break;
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
}
const { code, signal } = await exited;
if (code === null && signal !== 'SIGTERM' && signal !== 'SIGINT' && signal !== 'SIGHUP') fail(`jupyter notebook was killed by ${signal}`);
process.exit(code ?? 0);
