// The model cache shared by every task on a machine (on Kubernetes: a shared volume), so a model
// is downloaded once — the seed flows' pods downloaded it on every start. Downloads stream to a
// `.part` file, resume with an HTTP Range request, are verified by sha256, renamed atomically,
// and happen under a lock so two tasks never fetch the same file at once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlowbookError, IntegrityError } from '../errors.js';
import { LocalBackend } from '../datastore/backend.js';
import { CATALOG, findModel, type ModelEntry } from './catalog.js';

export class ModelNotDownloadedError extends FlowbookError {}
export class DownloadError extends FlowbookError {}

export const DEFAULT_BASE_URL = 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main';

export function modelsDir(): string {
  return path.resolve(process.env.FLOWBOOK_MODELS ?? path.join(os.homedir(), '.cache', 'flowbook', 'models'));
}

export function baseUrl(): string {
  return (process.env.FLOWBOOK_MODELS_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
}

const sidecar = (file: string) => `${file}.sha256`;

async function sha256File(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
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
  const file = path.join(modelsDir(), entry.file);
  const present = fs.existsSync(file);
  let recorded: string | undefined;
  try {
    recorded = fs.readFileSync(sidecar(file), 'utf8').trim();
  } catch {
    /* never verified */
  }
  return {
    name: entry.name,
    file,
    present,
    verified: present && !!entry.sha256 && recorded === entry.sha256,
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
    throw new ModelNotDownloadedError(`Whisper model ${name} is not downloaded (looked in ${modelsDir()}): run \`npx flowbook models pull ${name}\``);
  }
  return st.file;
}

/** Recompute the sha256 of a present model and compare it with the official one. */
export async function verifyModel(name: string): Promise<{ name: string; ok: boolean; sha256: string; expected?: string }> {
  const entry = findModel(name);
  const file = path.join(modelsDir(), entry.file);
  if (!fs.existsSync(file)) throw new ModelNotDownloadedError(`Whisper model ${name} is not downloaded: run \`npx flowbook models pull ${name}\``);
  const sha256 = await sha256File(file);
  const ok = !!entry.sha256 && sha256 === entry.sha256;
  if (ok) fs.writeFileSync(sidecar(file), sha256);
  else fs.rmSync(sidecar(file), { force: true });
  return { name, ok, sha256, expected: entry.sha256 };
}

export interface PullOptions {
  /** expected sha256 for a model without an official one (or to pin a mirror's file) */
  sha256?: string;
  onProgress?: (p: { received: number; total?: number }) => void;
}

export async function pullModel(name: string, opts: PullOptions = {}): Promise<{ file: string; downloaded: boolean; sha256: string }> {
  const entry = findModel(name);
  const expected = opts.sha256 ?? entry.sha256;
  if (!expected) {
    throw new FlowbookError(`no official sha256 is known for ${name}: pass --sha256 <hex> from the model's page so the download can be verified`);
  }
  const dir = modelsDir();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, entry.file);
  // one download per file across processes; others wait and then find it present
  return new LocalBackend(dir).withLock(
    entry.file,
    async () => {
      const st = modelStatus(entry);
      if (st.present && (st.verified || (opts.sha256 && fs.existsSync(sidecar(file)) && fs.readFileSync(sidecar(file), 'utf8').trim() === opts.sha256))) {
        return { file, downloaded: false, sha256: expected };
      }
      const part = `${file}.part`;
      await download(`${baseUrl()}/${entry.file}`, part, opts.onProgress);
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

/** Stream `url` into `part`, resuming from what `part` already holds. */
async function download(url: string, part: string, onProgress?: PullOptions['onProgress']): Promise<void> {
  let have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  let res: Response;
  try {
    res = await fetch(url, { headers: have ? { Range: `bytes=${have}-` } : {} });
  } catch (err: any) {
    throw new DownloadError(`cannot download ${url}: ${err?.cause?.code ?? err?.message ?? err}`, { cause: err });
  }
  if (res.status === 416 && have > 0) return; // the part file is already complete
  if (!res.ok) throw new DownloadError(`cannot download ${url}: HTTP ${res.status}${res.status === 404 ? ' (no such model file on the server)' : ''}`);
  if (res.status === 200 && have > 0) have = 0; // the server ignored the range: start over
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? have + length : undefined;
  const out = fs.createWriteStream(part, { flags: have ? 'a' : 'w' });
  let received = have;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      received += chunk.length;
      onProgress?.({ received, total });
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  if (total !== undefined && received !== total) throw new DownloadError(`download of ${url} stopped at ${received} of ${total} bytes; run the pull again to resume`);
}
