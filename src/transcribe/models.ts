// The model cache shared by every task on a machine (on Kubernetes: a shared volume), so a model
// is downloaded once — the seed flows' pods downloaded it on every start. Downloads stream to a
// `.part` file, resume with an HTTP Range request, are verified by sha256, renamed atomically,
// and happen under a lock so two tasks never fetch the same file at once. A cache folder that
// cannot be written is only read: a model already in it is used, a pull goes to a private
// fallback folder in the temp directory (with a warning naming both).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlowbookError, IntegrityError } from '../errors.js';
import { LocalBackend } from '../datastore/backend.js';
import { CATALOG, findModel, type ModelEntry } from './catalog.js';
import { download, DownloadError } from './download.js';

export { DownloadError };
export class ModelNotDownloadedError extends FlowbookError {}

export const DEFAULT_BASE_URL = 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main';

export function modelsDir(): string {
  return path.resolve(process.env.FLOWBOOK_MODELS ?? path.join(os.homedir(), '.cache', 'flowbook', 'models'));
}

/** Where pulls go when modelsDir() cannot be written: private to this user, in the temp directory. */
export function fallbackModelsDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  return path.join(os.tmpdir(), `flowbook-models-${uid}`);
}

export function baseUrl(): string {
  return (process.env.FLOWBOOK_MODELS_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
}

const SHA256 = /^[0-9a-f]{64}$/i;

/** The one-line complaint about a --sha256 value that is not a sha256 digest, or undefined. */
export function sha256Problem(value: string): string | undefined {
  if (SHA256.test(value)) return undefined;
  const shown = /^[\x20-\x7e]*$/.test(value) ? JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value) : `${value.length} characters`;
  return `--sha256 must be a sha256 digest, 64 hexadecimal characters; got ${shown}`;
}

const sidecar = (file: string) => `${file}.sha256`;

function recordedSha256(file: string): string | undefined {
  try {
    return fs.readFileSync(sidecar(file), 'utf8').trim();
  } catch {
    return undefined; // never verified
  }
}

/** Record a verified hash; in a read-only cache it is simply recomputed next time. */
function recordSha256(file: string, sha256: string): void {
  try {
    fs.writeFileSync(sidecar(file), sha256);
  } catch {
    /* read-only cache */
  }
}

async function sha256File(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The fallback folder, when it exists and is ours alone (another user could plant a model there). */
function trustedFallback(): string | undefined {
  const dir = fallbackModelsDir();
  try {
    const st = fs.lstatSync(dir);
    const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
    return st.isDirectory() && mine && (st.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The model's file: in the cache, else in the fallback a pull used, else where it would be in the cache. */
function modelFile(entry: ModelEntry): string {
  const file = path.join(modelsDir(), entry.file);
  if (fs.existsSync(file)) return file;
  const fallback = trustedFallback();
  if (fallback && fs.existsSync(path.join(fallback, entry.file))) return path.join(fallback, entry.file);
  return file;
}

/** Why `dir` cannot take a download (an actual write probe: root ignores permission bits), or undefined. */
function writeProblem(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.write-probe-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
    return undefined;
  } catch (err: any) {
    return err?.code ?? String(err?.message ?? err);
  }
}

export interface ModelStatus {
  name: string;
  file: string;
  present: boolean;
  /** the file's recorded sha256 equals the official one */
  verified: boolean;
  officialSha256?: string;
  bytes?: number;
  testModel?: boolean;
}

export function modelStatus(entry: ModelEntry): ModelStatus {
  const file = modelFile(entry);
  const present = fs.existsSync(file);
  return {
    name: entry.name,
    file,
    present,
    verified: present && !!entry.sha256 && recordedSha256(file) === entry.sha256,
    officialSha256: entry.sha256,
    bytes: present ? fs.statSync(file).size : undefined,
    testModel: entry.testModel,
  };
}

export function listModels(): ModelStatus[] {
  return CATALOG.map(modelStatus);
}

/** The local file of a model, or a clear error that says how to get it. */
export function resolveModelPath(name: string): string {
  const entry = findModel(name);
  const st = modelStatus(entry);
  if (!st.present) {
    throw new ModelNotDownloadedError(`Whisper model ${entry.name} is not downloaded (looked in ${modelsDir()}): run \`npx flowbook models pull ${entry.name}\``);
  }
  return st.file;
}

const shaMemo = new Map<string, Promise<string>>();

/**
 * The sha256 of a model's file as it is now (@cache keys a transcription by it): the hash a pull
 * or verify recorded beside the file, else computed once per process (by path, size and mtime).
 */
export function modelFileSha256(name: string): Promise<string> {
  const file = resolveModelPath(name);
  const recorded = recordedSha256(file);
  if (recorded && !sha256Problem(recorded)) return Promise.resolve(recorded);
  const st = fs.statSync(file);
  const id = `${file}\0${st.size}\0${st.mtimeMs}`;
  let p = shaMemo.get(id);
  if (!p) shaMemo.set(id, (p = sha256File(file)));
  return p;
}

/** Recompute the sha256 of a present model and compare it with the official one. */
export async function verifyModel(name: string): Promise<{ name: string; ok: boolean; sha256: string; expected?: string }> {
  const entry = findModel(name);
  const file = modelFile(entry);
  if (!fs.existsSync(file)) throw new ModelNotDownloadedError(`Whisper model ${name} is not downloaded: run \`npx flowbook models pull ${name}\``);
  const sha256 = await sha256File(file);
  const ok = !!entry.sha256 && sha256 === entry.sha256;
  if (ok) recordSha256(file, sha256);
  else fs.rmSync(sidecar(file), { force: true });
  return { name, ok, sha256, expected: entry.sha256 };
}

/** How pullModel downloads a model into the cache. */
export interface PullOptions {
  /** expected sha256 for a model without an official one (or to pin a mirror's file). Default: the catalog's official sha256 (a model without one is refused) */
  sha256?: string;
  /** called as bytes arrive (see downloadProgressLines). Default: none */
  onProgress?: (p: { received: number; total?: number }) => void;
  /** gets one line when the download goes elsewhere than asked (an unwritable cache). Default: `warning: …` on stderr */
  onWarning?: (message: string) => void;
}

/** `file` is there and has the expected hash (recorded, or recomputed when not recorded). */
async function isGood(file: string, expected: string): Promise<boolean> {
  if (!fs.existsSync(file)) return false;
  if (recordedSha256(file) === expected) return true;
  if ((await sha256File(file)) !== expected) return false;
  recordSha256(file, expected);
  return true;
}

export async function pullModel(name: string, opts: PullOptions = {}): Promise<{ file: string; downloaded: boolean; sha256: string }> {
  const entry = findModel(name);
  if (opts.sha256 !== undefined) {
    const problem = sha256Problem(opts.sha256);
    if (problem) throw new FlowbookError(problem);
  }
  const expected = (opts.sha256 ?? entry.sha256)?.toLowerCase();
  if (!expected) {
    throw new FlowbookError(`no official sha256 is known for ${name}: pass --sha256 <hex> from the model's page so the download can be verified`);
  }
  // already there (in the cache, even a read-only one, or the fallback): reading needs no write
  const present = modelFile(entry);
  if (await isGood(present, expected)) return { file: present, downloaded: false, sha256: expected };

  let dir = modelsDir();
  const problem = writeProblem(dir);
  if (problem) {
    const fallback = fallbackModelsDir();
    fs.mkdirSync(fallback, { recursive: true, mode: 0o700 });
    if (trustedFallback() !== fallback) {
      throw new FlowbookError(`the model cache ${dir} is not writable (${problem}) and the fallback ${fallback} is not safe to use (another user's, or writable by others)`);
    }
    (opts.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(
      `the model cache ${dir} is not writable (${problem}); downloading ${name} into ${fallback} instead`,
    );
    dir = fallback;
  }
  const file = path.join(dir, entry.file);
  // one download per file across processes; others wait and then find it present
  return new LocalBackend(dir).withLock(
    entry.file,
    async () => {
      if (recordedSha256(file) === expected && fs.existsSync(file)) return { file, downloaded: false, sha256: expected };
      const part = `${file}.part`;
      await download(`${baseUrl()}/${entry.file}`, part, { label: name, resume: true, notFoundHint: 'no such model file on the server', onProgress: opts.onProgress });
      const got = await sha256File(part);
      if (got !== expected) {
        fs.rmSync(part, { force: true });
        throw new IntegrityError(`sha256 mismatch for model ${name}: expected ${expected}, got ${got}; the download was deleted`);
      }
      fs.renameSync(part, file);
      fs.writeFileSync(sidecar(file), got);
      return { file, downloaded: true, sha256: got };
    },
    // a download can take minutes: the lock is stale only when its owner is dead
    24 * 3600 * 1000,
  );
}
