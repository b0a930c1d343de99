// `npm run kernel:install`: the tslab kernel "flowbook (TypeScript)" in a project-local Jupyter
// directory (.jupyter/kernels/flowbook), so nothing outside the project changes. Idempotent: the
// spec is rewritten only when it differs. Jupyter finds it with JUPYTER_PATH=<project>/.jupyter
// (`npm run jupyter`, kernels/jupyter.mjs, and `flowbook notebook run` set that).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const req = createRequire(path.join(repo, 'package.json'));

export const KERNEL_NAME = 'flowbook';
export const jupyterPath = (root = repo) => path.join(root, '.jupyter');

export function kernelSpec(root = repo) {
  // tslab, started by our wrapper (it reports a failing cell's error to Jupyter: see tslab-kernel.cjs)
  req.resolve('tslab/package.json');
  const kernel = path.join(repo, 'kernels', 'tslab-kernel.cjs');
  // the template's placeholders are JSON strings: substitute escaped values
  const fill = (s) => JSON.stringify(s).slice(1, -1);
  const text = fs
    .readFileSync(path.join(repo, 'kernels/flowbook/kernel.json.template'), 'utf8')
    .replaceAll('{node}', fill(process.execPath))
    .replaceAll('{kernel}', fill(kernel))
    .replaceAll('{repo}', fill(root));
  return JSON.parse(text);
}

/**
 * tslab type-checks cells with TypeScript 5.0, whose resolution (node10) ignores a package's
 * self-reference: the notebooks of this repository find 'flowbook' through node_modules/flowbook → ..
 * (a project that installs flowbook from npm has it there already).
 */
function linkSelf() {
  // installed as a dependency: the project's node_modules resolves 'flowbook' already
  if (path.basename(path.dirname(repo)) === 'node_modules') return;
  const link = path.join(repo, 'node_modules', 'flowbook');
  try {
    if (fs.readlinkSync(link) === '..') return;
    fs.unlinkSync(link);
  } catch (err) {
    if (err.code === 'EINVAL') return; // a real directory: flowbook installed from npm
  }
  fs.symlinkSync('..', link, 'dir');
}

export function installKernel(root = repo) {
  linkSelf();
  const dir = path.join(jupyterPath(root), 'kernels', KERNEL_NAME);
  const file = path.join(dir, 'kernel.json');
  const text = JSON.stringify(kernelSpec(root), null, 2) + '\n';
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return { file, changed: false };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
  return { file, changed: true };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { file, changed } = installKernel();
  console.log(`${changed ? 'installed' : 'up to date'}: kernel "flowbook (TypeScript)" → ${path.relative(process.cwd(), file) || file}`);
  console.log('open Jupyter with it:  npm run jupyter');
}
