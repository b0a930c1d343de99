// `flowbook init [DIR]`: set up a project that installed flowbook — a starter flow, a tsconfig
// that type-checks it, a notebook that reads its runs — and the optional dataframes peer
// (danfojs-node) with the npm overrides it needs, which only the user's own package.json can carry.
import fs from 'node:fs';
import path from 'node:path';
import { FlowUsageError } from '../errors.js';
import { DANFO_OVERRIDES, DANFO_RANGE } from '../dataframes-peer.js';
import { STARTER_FLOW, TSCONFIG, starterNotebook } from './init-templates.js';

interface InitFlags {
  /** commander's --no-dataframes */
  dataframes: boolean;
  dataframesOnly?: boolean;
}

/** @types/node for the starter flow's `console` and Node APIs (the major flowbook supports) */
const TYPES_NODE = '^20.19.0';

type PackageJson = Record<string, any> & {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  overrides?: Record<string, unknown>;
};

const has = (pkg: PackageJson, name: string) => Boolean(pkg.dependencies?.[name] ?? pkg.devDependencies?.[name] ?? pkg.peerDependencies?.[name]);

/** Add what the project needs to package.json; returns what was added (empty: nothing to do). */
function planPackageJson(pkg: PackageJson, file: string, o: { dataframes: boolean; typesNode: boolean }): string[] {
  const added: string[] = [];
  if (o.dataframes) {
    for (const [name, to] of Object.entries(DANFO_OVERRIDES)) {
      const now = pkg.overrides?.[name];
      if (now !== undefined && now !== to) {
        throw new FlowUsageError(`${file} already overrides ${name} with ${JSON.stringify(now)}; danfojs-node needs ${JSON.stringify(to)}: change it, or init with --no-dataframes`);
      }
    }
    if (!has(pkg, 'danfojs-node')) {
      pkg.dependencies = { ...pkg.dependencies, 'danfojs-node': DANFO_RANGE };
      added.push(`danfojs-node ${DANFO_RANGE}`);
    }
    const missing = Object.entries(DANFO_OVERRIDES).filter(([name]) => pkg.overrides?.[name] === undefined);
    if (missing.length) {
      pkg.overrides = { ...pkg.overrides, ...Object.fromEntries(missing) };
      added.push(`overrides for ${missing.map(([n]) => n).join(' and ')}`);
    }
  }
  if (o.typesNode && !has(pkg, '@types/node')) {
    pkg.devDependencies = { ...pkg.devDependencies, '@types/node': TYPES_NODE };
    added.push(`@types/node ${TYPES_NODE} (dev)`);
  }
  return added;
}

/** Write a file that must not exist yet ('wx': a file created meanwhile is not overwritten either). */
function writeNew(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { flag: 'wx' });
}

export async function initCommand(dir: string | undefined, flags: InitFlags): Promise<number> {
  const root = path.resolve(dir ?? '.');
  const rel = (f: string) => path.relative(process.cwd(), path.join(root, f)) || '.';
  const pkgFile = path.join(root, 'package.json');
  if (!fs.existsSync(pkgFile)) {
    throw new FlowUsageError(`no package.json in ${root}: init sets up a project that installed flowbook (npm init -y && npm install <flowbook tarball or git URL>)`);
  }
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  } catch (err: any) {
    throw new FlowUsageError(`${rel('package.json')} is not valid JSON: ${err?.message}`, { cause: err });
  }
  const dataframes = flags.dataframes || Boolean(flags.dataframesOnly);
  if (flags.dataframesOnly && !flags.dataframes) throw new FlowUsageError('--dataframes-only and --no-dataframes contradict each other');

  const files: [string, string][] = flags.dataframesOnly
    ? []
    : [
        ['flows/hello.ts', STARTER_FLOW],
        ['notebooks/hello.ipynb', starterNotebook(dataframes)],
        ['tsconfig.json', TSCONFIG],
      ];
  const existing = files.map(([f]) => f).filter((f) => fs.existsSync(path.join(root, f)));
  if (existing.length) {
    throw new FlowUsageError(`init would overwrite ${existing.map(rel).join(', ')}: nothing written (move ${existing.length > 1 ? 'them' : 'it'} away, or init another directory)`);
  }

  const added = planPackageJson(pkg, rel('package.json'), { dataframes, typesNode: !flags.dataframesOnly });
  for (const [f, text] of files) writeNew(path.join(root, f), text);
  if (added.length) {
    // keep the file's indentation; npm writes two spaces
    const indent = /^\{\n(\s+)/.exec(fs.readFileSync(pkgFile, 'utf8'))?.[1] ?? '  ';
    fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, indent)}\n`);
  }

  const out = (s = '') => process.stdout.write(`${s}\n`);
  if (flags.dataframesOnly && !added.length) {
    out(`${rel('package.json')} already has danfojs-node and its overrides: nothing to do`);
    return 0;
  }
  if (files.length) out(`wrote ${files.map(([f]) => rel(f)).join(', ')}`);
  if (added.length) out(`added to ${rel('package.json')}: ${added.join(', ')}`);
  if (dataframes) out('(danfojs-node is an optional peer of flowbook: it installs only with these overrides, which npm applies in the root project alone)');
  const cd = root === process.cwd() ? '' : `cd ${rel('.')} && `;
  const next: [string, string][] = [];
  if (added.length) next.push([`${cd}npm install`, 'installs what init added']);
  if (!flags.dataframesOnly) {
    next.push(
      [`${cd}npx flowbook run flows/hello.ts --branches 5`, 'run the starter flow'],
      [`${cd}npx flowbook run flows/hello.ts --help`, "its parameters"],
      [`${cd}npx flowbook dump HelloFlow/latest`, 'what the run stored'],
      [`${cd}npx flowbook notebook run notebooks/hello.ipynb`, 'runs its cells headless, outputs saved in it'],
      [`${cd}npx flowbook notebook kernel`, 'the kernel for Jupyter in this project, and how to start it'],
      [`${cd}npx tsc -p .`, 'type-check your flows'],
    );
  }
  const width = Math.max(...next.map(([c]) => c.length)) + 3;
  out('\nnext:');
  for (const [command, why] of next) out(`  ${command.padEnd(width)}# ${why}`);
  return 0;
}
