// The code package: what a pod needs of the user's project to run a task — the flow file and the
// local modules it imports (found by esbuild's bundler, which follows every relative import),
// plus the project's package.json and lock for the record. Each file is a content-addressed blob
// and the manifest is one too, so re-running an unchanged flow uploads nothing (a HEAD per file).
//
// In the pod, `flowbook step` fetches the manifest and files (each hash-verified) into
// `$FLOWBOOK_CODE_DIR/<manifest sha>/` (default `./.flowbook-code`, inside the image's project, so
// `import 'flowbook'` and the other packages resolve from the image's node_modules). package.json
// and the lock are not written there — a package.json would make the folder a package of its own
// — but the pod warns when the image's lock differs from the one the run was started with.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FlowFileError, IntegrityError } from '../errors.js';
import type { FlowDatastore } from '../datastore/store.js';
import { CARD_MODULE, cardFolders } from '../cards/types/card-folders.js';

export interface CodeManifest {
  version: 1;
  /** the flow file, relative to the project root */
  flowPath: string;
  /** relative path → sha256 of the file's bytes (blobs in the flow's datastore) */
  files: Record<string, string>;
  /** sha256 of the project's package-lock.json, when it has one */
  lockSha?: string;
}

export interface CodePackageRef {
  /** sha256 of the manifest */
  sha: string;
  flowPath: string;
}

/** The nearest folder at or above `from` with a package.json (the project root). */
export function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return from;
  }
}

const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/**
 * The local modules reachable from `entries` (files of the project `root`), as esbuild's bundler
 * follows every import: each file with the local files it imports and the packages it imports
 * (bare specifiers, left external). @cache's code identity reads the same graph.
 */
export interface ImportGraph {
  root: string;
  /** absolute path → the absolute paths of the local files it imports */
  local: Map<string, string[]>;
  /** absolute path → the package specifiers it imports ('flowbook', 'node:fs', 'lodash/fp') */
  packages: Map<string, string[]>;
}

export async function importGraph(entries: string[], root: string, what: string): Promise<ImportGraph> {
  const esbuild = await import('esbuild');
  const graph: ImportGraph = { root, local: new Map(), packages: new Map() };
  try {
    // (outdir: esbuild wants one for several entry points; write: false writes nothing)
    const r = await esbuild.build({ entryPoints: entries, outdir: 'out', bundle: true, packages: 'external', platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent', absWorkingDir: root });
    for (const [f, info] of Object.entries(r.metafile.inputs)) {
      const abs = path.resolve(root, f);
      graph.local.set(abs, info.imports.filter((i) => !i.external).map((i) => path.resolve(root, i.path)));
      graph.packages.set(abs, info.imports.filter((i) => i.external).map((i) => i.path));
    }
  } catch (err: any) {
    throw new FlowFileError(`cannot ${what}: ${err?.errors?.[0]?.text ?? err?.message ?? err}`, { cause: err });
  }
  return graph;
}

/** The project files a flow needs: itself, its project's own card types, and every local module they import. */
export async function codeFiles(flowFile: string): Promise<{ root: string; files: string[] }> {
  const abs = path.resolve(flowFile);
  const root = projectRoot(path.dirname(abs));
  // a pod renders @card({ type }) of the project's cards/ folder: those modules travel too
  const cardModules = cardFolders(abs)
    .filter((d) => !path.relative(root, d).startsWith('..') && fs.statSync(d).isDirectory())
    .flatMap((d) => fs.readdirSync(d).filter((n) => CARD_MODULE.test(n)).map((n) => path.join(d, n)));
  const inputs = [...(await importGraph([abs, ...cardModules], root, `package ${flowFile}`)).local.keys()];
  const outside = inputs.find((f) => path.relative(root, f).startsWith('..'));
  if (outside) throw new FlowFileError(`cannot package ${flowFile}: it imports ${outside}, outside its project ${root}`);
  for (const extra of ['package.json', 'package-lock.json']) if (fs.existsSync(path.join(root, extra))) inputs.push(path.join(root, extra));
  return { root, files: [...new Set(inputs)].sort() };
}

/**
 * Store the flow's code package; returns its reference and how many bytes went up. Without a
 * store only the reference is computed (what a template printed with --only-json names).
 */
export async function uploadCodePackage(store: FlowDatastore | undefined, flowFile: string): Promise<CodePackageRef & { uploadedBytes: number; files: number }> {
  const { root, files } = await codeFiles(flowFile);
  const manifest: CodeManifest = { version: 1, flowPath: path.relative(root, path.resolve(flowFile)), files: {} };
  let uploadedBytes = 0;
  await Promise.all(
    files.map(async (f) => {
      const bytes = fs.readFileSync(f);
      const sha = sha256(bytes);
      const rel = path.relative(root, f).split(path.sep).join('/');
      manifest.files[rel] = sha;
      if (rel === 'package-lock.json') manifest.lockSha = sha;
      if (store && (await store.backend.putIfAbsent(store.blobKey(sha, 'none'), bytes))) uploadedBytes += bytes.length;
    }),
  );
  manifest.files = Object.fromEntries(Object.entries(manifest.files).sort());
  const body = Buffer.from(JSON.stringify(manifest));
  const sha = sha256(body);
  if (store && (await store.backend.putIfAbsent(store.blobKey(sha, 'none'), body))) uploadedBytes += body.length;
  return { sha, flowPath: manifest.flowPath, uploadedBytes, files: files.length };
}

async function verifiedBlob(store: FlowDatastore, sha: string, what: string): Promise<Buffer> {
  const bytes = await store.backend.get(store.blobKey(sha, 'none'));
  if (sha256(bytes) !== sha) throw new IntegrityError(`code package ${what} is corrupted: blob ${sha} does not match its sha256`);
  return bytes;
}

/**
 * Fetch a code package into `dir/<sha>` (once: a finished extraction is renamed into place, so a
 * pod killed half-way leaves nothing that looks complete). Returns the flow file's path there.
 */
export async function fetchCodePackage(store: FlowDatastore, ref: CodePackageRef, dir: string): Promise<{ flowFile: string; lockMatches?: boolean }> {
  const target = path.join(dir, ref.sha);
  const manifest: CodeManifest = JSON.parse((await verifiedBlob(store, ref.sha, 'manifest')).toString('utf8'));
  if (!fs.existsSync(target)) {
    const tmp = `${target}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    await Promise.all(
      Object.entries(manifest.files).map(async ([rel, sha]) => {
        if (rel === 'package.json' || rel === 'package-lock.json') return;
        const file = path.join(tmp, rel);
        if (path.relative(tmp, file).startsWith('..')) throw new IntegrityError(`code package has a path outside its folder: ${rel}`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, await verifiedBlob(store, sha, rel));
      }),
    );
    try {
      fs.renameSync(tmp, target);
    } catch (err: any) {
      // another task on this node extracted the same package first
      if (!fs.existsSync(target)) throw err;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const lock = path.join(process.cwd(), 'package-lock.json');
  const lockMatches = manifest.lockSha && fs.existsSync(lock) ? sha256(fs.readFileSync(lock)) === manifest.lockSha : undefined;
  return { flowFile: path.join(target, manifest.flowPath), lockMatches };
}
