// Where audio comes from: a local file, a directory, a file listing URLs (one per line, `#`
// comments), an http(s) URL of an audio file, or YouTube watch/playlist URLs through yt-dlp.
// Live and upcoming streams are skipped with a message, as in the seed flow.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { FlowbookError } from '../errors.js';

export class SourceError extends FlowbookError {}

export interface TranscriptionTask {
  /** stable id: the YouTube id, or the file name */
  id: string;
  title: string;
  /** what the user gave: a path or a URL */
  url: string;
  kind: 'file' | 'http' | 'youtube';
  author?: string;
  durationSeconds?: number;
  publishDate?: string;
  /** a reference transcript: `<name>.txt` beside a local audio file */
  referencePath?: string;
}

export interface Resolved {
  tasks: TranscriptionTask[];
  skipped: { url: string; reason: string }[];
}

const AUDIO_EXT = /\.(wav|mp3|ogg|oga|opus|m4a|aac|flac|webm|mp4|mkv|mov)$/i;
const YOUTUBE = /^(www\.|m\.|music\.)?(youtube\.com|youtu\.be)$/i;

export const isYouTube = (u: URL) => YOUTUBE.test(u.hostname);

function asUrl(s: string): URL | undefined {
  if (!/^https?:\/\//i.test(s)) return undefined;
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

function fileTask(file: string): TranscriptionTask {
  const base = path.basename(file).replace(/\.[^.]+$/, '');
  const ref = file.replace(/\.[^.]+$/, '.txt');
  return { id: base, title: base, url: file, kind: 'file', ...(fs.existsSync(ref) ? { referencePath: ref } : {}) };
}

async function ytdlp(args: string[]): Promise<string> {
  try {
    return (await execa('yt-dlp', args, { maxBuffer: 256 * 2 ** 20 })).stdout;
  } catch (err: any) {
    if (err?.code === 'ENOENT') throw new SourceError('yt-dlp is not installed: apt-get install yt-dlp (needed for YouTube URLs)', { cause: err });
    const last = String(err?.stderr ?? '').trim().split('\n').at(-1) || err?.shortMessage;
    throw new SourceError(`yt-dlp failed for ${args.at(-1)}: ${last}`, { cause: err });
  }
}

function ytDate(d?: string): string | undefined {
  return d && /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : undefined;
}

function liveReason(info: any): string | undefined {
  if (info.live_status === 'is_live' || info.is_live === true) return 'a live stream (skipped: it has no end)';
  if (info.live_status === 'is_upcoming') return 'an upcoming stream (skipped: not started)';
  return undefined;
}

async function youtube(url: string, out: Resolved): Promise<void> {
  const u = new URL(url);
  const isPlaylist = u.searchParams.has('list') && !u.searchParams.has('v') || u.pathname.startsWith('/playlist');
  if (isPlaylist) {
    const lines = (await ytdlp(['--flat-playlist', '--dump-json', '--no-warnings', url])).split('\n').filter(Boolean);
    for (const line of lines) {
      const entry = JSON.parse(line);
      const watch = entry.url?.startsWith('http') ? entry.url : `https://www.youtube.com/watch?v=${entry.id}`;
      await youtube(watch, out);
    }
    return;
  }
  const info = JSON.parse(await ytdlp(['--dump-json', '--no-download', '--no-warnings', url]));
  const reason = liveReason(info);
  if (reason) {
    out.skipped.push({ url, reason: `${info.title ?? url} is ${reason}` });
    return;
  }
  out.tasks.push({
    id: String(info.id),
    title: String(info.title ?? info.id),
    url: info.webpage_url ?? url,
    kind: 'youtube',
    author: info.uploader ?? info.channel,
    durationSeconds: typeof info.duration === 'number' ? info.duration : undefined,
    publishDate: ytDate(info.upload_date),
  });
}

async function resolveOne(item: string, out: Resolved, depth: number): Promise<void> {
  const url = asUrl(item);
  if (url) {
    if (isYouTube(url)) return youtube(item, out);
    const name = decodeURIComponent(path.basename(url.pathname)) || url.hostname;
    out.tasks.push({ id: name.replace(/\.[^.]+$/, ''), title: name.replace(/\.[^.]+$/, ''), url: item, kind: 'http' });
    return;
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(item);
  } catch {
    throw new SourceError(`no such file, directory or URL: ${item}`);
  }
  if (st.isDirectory()) {
    const files = fs.readdirSync(item).filter((f) => AUDIO_EXT.test(f)).sort();
    if (!files.length) throw new SourceError(`no audio or video files in directory ${item}`);
    for (const f of files) out.tasks.push(fileTask(path.join(item, f)));
    return;
  }
  if (AUDIO_EXT.test(item)) {
    out.tasks.push(fileTask(item));
    return;
  }
  // a list of URLs or paths, one per line
  if (depth > 3) throw new SourceError(`URL lists nested too deep at ${item}`);
  const lines = fs.readFileSync(item, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  if (!lines.length) throw new SourceError(`the URL list ${item} is empty (one URL or path per line, # for comments)`);
  const dir = path.dirname(item);
  for (const line of lines) await resolveOne(asUrl(line) || path.isAbsolute(line) ? line : path.join(dir, line), out, depth + 1);
}

/** Resolve the flow's `url` / `urls` parameters into transcription tasks. */
export async function resolveSources(items: string[]): Promise<Resolved> {
  const out: Resolved = { tasks: [], skipped: [] };
  for (const item of items.map((s) => s.trim()).filter(Boolean)) await resolveOne(item, out, 0);
  // the same video twice is transcribed once
  const seen = new Set<string>();
  out.tasks = out.tasks.filter((t) => (seen.has(t.url) ? false : (seen.add(t.url), true)));
  return out;
}

/** A local audio file for the task: the file itself, or a download into `dir`. */
export async function fetchAudio(task: TranscriptionTask, dir: string, onProgress?: (received: number, total?: number) => void): Promise<string> {
  if (task.kind === 'file') return task.url;
  fs.mkdirSync(dir, { recursive: true });
  if (task.kind === 'youtube') {
    await ytdlp(['-f', 'bestaudio/best', '--no-playlist', '--no-warnings', '-o', path.join(dir, `${task.id}.%(ext)s`), task.url]);
    const file = fs.readdirSync(dir).find((f) => f.startsWith(`${task.id}.`) && !f.endsWith('.part'));
    if (!file) throw new SourceError(`yt-dlp did not produce an audio file for ${task.url}`);
    return path.join(dir, file);
  }
  let res: Response;
  try {
    res = await fetch(task.url);
  } catch (err: any) {
    throw new SourceError(`cannot download ${task.url}: ${err?.cause?.code ?? err?.message}`, { cause: err });
  }
  if (!res.ok) throw new SourceError(`cannot download ${task.url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length') ?? NaN);
  const ext = path.extname(new URL(task.url).pathname) || '.audio';
  const file = path.join(dir, `${task.id.replace(/[^\w.-]/g, '_')}${ext}`);
  const tmp = `${file}.part`;
  const out = fs.createWriteStream(tmp);
  let received = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    received += chunk.length;
    onProgress?.(received, Number.isFinite(total) ? total : undefined);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  fs.renameSync(tmp, file);
  return file;
}
