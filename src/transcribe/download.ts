// Streaming an HTTP download into a file, for models and audio: resume with a Range request, a
// stall timeout (no byte for FLOWBOOK_DOWNLOAD_STALL_SECONDS, default 60), and one clear line
// when the connection drops or stalls — how far it got, and what running it again does.
import fs from 'node:fs';
import { FlowbookError } from '../errors.js';

export class DownloadError extends FlowbookError {}

type ErrorClass = new (message: string, options?: { cause?: unknown }) => FlowbookError;

/** How download() fetches one file. */
export interface DownloadOptions {
  /** what the user knows it by, in messages: the model name, or the URL (required) */
  label: string;
  /** continue from what `part` already holds (a Range request); else start over. Default false */
  resume?: boolean;
  /** said after "HTTP 404". Default: nothing */
  notFoundHint?: string;
  /** the error class thrown. Default DownloadError */
  errorClass?: ErrorClass;
  /** called as bytes arrive. Default: none */
  onProgress?: (p: { received: number; total?: number }) => void;
}

export function stallSeconds(): number {
  const s = Number(process.env.FLOWBOOK_DOWNLOAD_STALL_SECONDS);
  return Number.isFinite(s) && s > 0 ? s : 60;
}

export const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

const progress = (received: number, total?: number) => (total === undefined ? mib(received) : `${mib(received)} of ${mib(total)}`);

/** Why a fetch or its body failed, in a few words. */
function reason(err: any): string {
  const cause = err?.cause ?? err;
  const code = cause?.code ?? err?.code;
  if (code === 'UND_ERR_SOCKET' || err?.message === 'terminated') return 'connection closed by the server';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (code) return String(code);
  return String(cause?.message ?? err?.message ?? err).split('\n')[0];
}

class Stalled extends Error {}

/** Wait for 'drain', or an error (recorded by the caller's listener). */
function drained(out: fs.WriteStream): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done).off('error', done).off('close', done);
      resolve();
    };
    if (out.destroyed) return resolve();
    out.on('drain', done).on('error', done).on('close', done);
  });
}

/** Stream `url` into `part`. Leaves what arrived in `part` when it fails. */
export async function download(url: string, part: string, opts: DownloadOptions): Promise<void> {
  const Err = opts.errorClass ?? DownloadError;
  const again = opts.resume ? 'run the same command again to resume from there' : 'try again';
  const stallS = stallSeconds();
  let have = opts.resume && fs.existsSync(part) ? fs.statSync(part).size : 0;
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(new Stalled()), stallS * 1000);
  };
  const stalled = () => ac.signal.aborted && ac.signal.reason instanceof Stalled;
  const stallError = (received: number, total?: number) =>
    new Err(`download of ${opts.label} stalled: no data from the server for ${stallS} s after ${progress(received, total)}; ${again}`);

  arm();
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers: have ? { Range: `bytes=${have}-` } : {}, signal: ac.signal });
    } catch (err: any) {
      if (stalled()) throw stallError(have);
      throw new Err(`cannot download ${url}: ${reason(err)}`, { cause: err });
    }
    if (res.status === 416 && have > 0) return void (await res.body?.cancel()); // the part file is already complete
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new Err(`cannot download ${url}: HTTP ${res.status}${res.status === 404 && opts.notFoundHint ? ` (${opts.notFoundHint})` : ''}`);
    }
    if (res.status === 200 && have > 0) have = 0; // the server ignored the range: start over
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? have + length : undefined;
    const out = fs.createWriteStream(part, { flags: have ? 'a' : 'w' });
    let writeError: Error | undefined;
    out.on('error', (err) => (writeError ??= err));
    let received = have;
    let failure: unknown;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        if (writeError) break;
        if (!out.write(chunk)) await drained(out);
        received += chunk.length;
        opts.onProgress?.({ received, total });
      }
    } catch (err) {
      failure = err;
    }
    clearTimeout(timer);
    await new Promise<void>((resolve) => out.end(() => resolve()));
    if (writeError) throw new Err(`cannot write ${part}: ${(writeError as any).code ?? writeError.message}`, { cause: writeError });
    if (failure) {
      if (stalled()) throw stallError(received, total);
      throw new Err(`download of ${opts.label} interrupted after ${progress(received, total)}: ${reason(failure)}; ${again}`, { cause: failure });
    }
    if (total !== undefined && received !== total) {
      throw new Err(`download of ${opts.label} interrupted after ${progress(received, total)}: connection closed by the server; ${again}`);
    }
  } finally {
    clearTimeout(timer);
  }
}
