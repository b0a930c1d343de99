// The runner prepares a flow once so that its workers need no compiler: the flow file and the
// project files it imports are bundled by esbuild into one ES module in the cache, which a
// worker imports like any .js file — no module-hooks thread, no esbuild, no TypeScript in it.
//
// A bundle keeps the meaning of the code it holds:
// - each file keeps its own `import.meta.url`, `.filename` and `.dirname` (defined per file while
//   it is transformed), so `new URL('./data.json', import.meta.url)` still finds data.json;
// - packages stay outside the bundle, imported by the absolute file URL they resolve to from the
//   importing file's own directory, so they are the same packages, loaded the same way, as an
//   import of the source would load;
// - flowbook's pure re-export entry ('flowbook') is bundled but everything it re-exports stays
//   external, so the bundle imports only the flowbook modules the flow uses (a flow without cards
//   never loads the card code) while each is the one instance the worker's own code uses;
// - source maps point stack traces at the original .ts lines.
// Code whose meaning a bundle could change (an `import(x)` of a computed name, an
// `import.meta.resolve`, a syntax esbuild refuses) is not bundled: the flow is then loaded from
// its source with the TypeScript hooks, as before, and `why` says so.
//
// The bundle is cached by the content of every file in it: a run of an unchanged flow reads and
// hashes those files and never loads esbuild.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isBuiltin } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheDir } from './cache-dir.js';

/** bump when the bundle a flow gets would differ for the same sources */
const PREPARE_VERSION = '1';
const TS_EXT = /\.(ts|mts|cts|tsx)$/;
/** this flowbook's own entry, for a flow outside any project that depends on flowbook (as the hooks do) */
const OWN_INDEX = fileURLToPath(new URL('../index.js', import.meta.url));

export interface PreparedFlow {
  /** the flow file (absolute) */
  file: string;
  /** the bundle a worker imports; undefined: the flow loads from its source with the TypeScript hooks */
  module?: string;
  /** why it was not bundled */
  why?: string;
}

interface Manifest {
  version: string;
  /** every bundled file and the sha256 of its content */
  inputs: Record<string, string>;
  /** the files the bundle imports by absolute URL (packages, flowbook's modules): they must still exist */
  externals: string[];
  bundle?: string;
  why?: string;
}

const sha256 = (data: string | Uint8Array) => crypto.createHash('sha256').update(data).digest('hex');
const flowsDir = () => path.join(cacheDir(), 'flows');

/** The prepared module of `file`: from the cache when no file in it changed, else bundled now. */
export async function prepareFlow(file: string): Promise<PreparedFlow> {
  const abs = path.resolve(file);
  const manifestFile = path.join(flowsDir(), `${sha256(JSON.stringify([PREPARE_VERSION, abs, OWN_INDEX]))}.json`);
  const cached = readManifest(manifestFile);
  if (cached && unchanged(cached)) return { file: abs, module: cached.bundle && path.join(flowsDir(), cached.bundle), why: cached.why };
  let manifest: Manifest;
  try {
    manifest = await bundle(abs);
  } catch (err: any) {
    // a syntax error and the like: loading the source reports it the way it always has
    const why = err?.code ? `the bundle cannot be written to ${flowsDir()} (${err.code})` : `esbuild cannot bundle it: ${String(err?.message ?? err).split('\n')[0]}`;
    manifest = { version: PREPARE_VERSION, inputs: {}, externals: [], why: `not bundled: ${why}` };
  }
  try {
    writeAtomic(manifestFile, JSON.stringify(manifest));
  } catch {
    /* a read-only cache: the bundle is made again next time */
  }
  return { file: abs, module: manifest.bundle && path.join(flowsDir(), manifest.bundle), why: manifest.why };
}

function readManifest(file: string): Manifest | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
    return m.version === PREPARE_VERSION ? m : undefined;
  } catch {
    return undefined;
  }
}

function unchanged(m: Manifest): boolean {
  if (!Object.keys(m.inputs).length) return false; // a failed bundle is tried again
  if (m.bundle && !fs.existsSync(path.join(flowsDir(), m.bundle))) return false;
  try {
    for (const [f, sha] of Object.entries(m.inputs)) if (sha256(fs.readFileSync(f)) !== sha) return false;
  } catch {
    return false;
  }
  return m.externals.every((f) => fs.existsSync(f));
}

function writeAtomic(file: string, data: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** The package.json "name" of the package a file is in (the nearest package.json up from it). */
function packageName(file: string): string | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name;
    } catch {
      if (path.dirname(dir) === dir) return undefined;
    }
  }
}

/** An entry made only of `export { … } from '…'` lines: bundling it duplicates no code or state. */
function pureReexports(file: string): boolean {
  const code = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  const statements = code.split(';').map((s) => s.trim()).filter(Boolean);
  return statements.every((s) => /^export\s*\{[^}]*\}\s*from\s*(['"])[^'"]+\1$/.test(s));
}

async function bundle(entry: string): Promise<Manifest> {
  const esbuild = await import('esbuild');
  const inputs: Record<string, string> = {};
  const externals = new Set<string>();
  /** flowbook entries bundled for their re-exports: what they import stays external */
  const barrels = new Set<string>();
  const refusals: string[] = [];
  const external = (file: string) => {
    externals.add(file);
    return { path: pathToFileURL(file).href, external: true };
  };

  const plugin: import('esbuild').Plugin = {
    name: 'flowbook-prepare',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData?.resolving || args.kind === 'entry-point') return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        const bare = !/^(\.{1,2}\/|\/)/.test(args.path);
        // a flowbook entry's own imports: the one instance of each module, imported only when used
        if (barrels.has(args.importer)) {
          const file = path.resolve(args.resolveDir, args.path);
          // a re-export file of a re-export file (cards/index.js): flattened the same way
          if (pureReexports(file)) {
            barrels.add(file);
            return { path: file };
          }
          return { ...external(file), sideEffects: false };
        }
        if (!bare) return undefined; // a project file: bundled
        const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { resolving: true } });
        let file = r.errors.length ? undefined : r.path;
        if (!file && (args.path === 'flowbook' || args.path.startsWith('flowbook/'))) file = args.path === 'flowbook' ? OWN_INDEX : undefined;
        if (!file) return { errors: r.errors.length ? r.errors : [{ text: `cannot resolve ${args.path}` }] };
        // TypeScript inside a package (a workspace's sources) has no loader in the worker: bundled
        if (TS_EXT.test(file)) return { path: file };
        if (packageName(file) === 'flowbook' && pureReexports(file)) {
          barrels.add(file);
          return { path: file };
        }
        return external(file);
      });
      build.onLoad({ filter: /\.(m?[jt]sx?|cts|cjs|json)$/ }, async (args) => {
        const source = fs.readFileSync(args.path);
        inputs[args.path] = sha256(source);
        if (args.path.endsWith('.json')) return { contents: source, loader: 'json' };
        if (barrels.has(args.path)) return { contents: source, loader: 'js' };
        const url = pathToFileURL(args.path).href;
        const out = await esbuild.transform(source.toString('utf8'), {
          loader: /\.tsx$/.test(args.path) ? 'tsx' : TS_EXT.test(args.path) ? 'ts' : /x$/.test(args.path) ? 'jsx' : 'js',
          format: 'esm',
          target: 'node20',
          sourcemap: 'inline',
          sourcefile: args.path,
          define: { 'import.meta.url': JSON.stringify(url), 'import.meta.filename': JSON.stringify(args.path), 'import.meta.dirname': JSON.stringify(path.dirname(args.path)) },
          tsconfigRaw: { compilerOptions: { experimentalDecorators: false, useDefineForClassFields: true, verbatimModuleSyntax: false } },
        });
        const rel = path.relative(process.cwd(), args.path);
        if (/\bimport\.meta\b/.test(out.code)) refusals.push(`${rel} uses import.meta beyond url, filename and dirname`);
        if (/\bimport\s*\(\s*[^'"`\s)]/.test(out.code)) refusals.push(`${rel} imports a module whose name is computed (import(x))`);
        return { contents: out.code, loader: 'js' };
      });
    },
  };

  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    outfile: path.join(flowsDir(), 'flow.mjs'),
    logLevel: 'silent',
    plugins: [plugin],
  });
  const manifest: Manifest = { version: PREPARE_VERSION, inputs, externals: [...externals] };
  if (refusals.length) return { ...manifest, why: `not bundled: ${refusals[0]}` };
  const js = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!;
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'))!;
  const name = `${sha256(js.contents).slice(0, 32)}.mjs`;
  // the map sits beside the bundle under the bundle's own name; its sources are relative to that folder
  const code = js.text.replace(/\/\/# sourceMappingURL=\S+\s*$/, `//# sourceMappingURL=${name}.map\n`);
  writeAtomic(path.join(flowsDir(), `${name}.map`), map.text);
  writeAtomic(path.join(flowsDir(), name), code);
  return { ...manifest, bundle: name };
}
