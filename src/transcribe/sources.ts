// Where audio comes from: a local file, a directory, a file listing URLs (one per line, `#`
// comments), an http(s) URL of an audio file, or YouTube watch/playlist URLs through yt-dlp.
// Live and upcoming streams are skipped with a message, as in the seed flow. A source that cannot
// be resolved (an unavailable video, a private playlist, a missing file in a list) is listed as
// failed with its reason and the others go on; only when every source failed is it an error.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { FlowbookError } from '../errors.js';
import { download } from './download.js';

export class SourceError extends FlowbookError {}

/** the format fetchAudio() asks yt-dlp for (a @cache key names it: another format is another source) */
export const YOUTUBE_FORMAT = 'bestaudio/best';

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
  /** sources that could not be resolved: what the user gave (when it may be shown) and why */
  failed: { url: string; reason: string }[];
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

/** yt-dlp's JSON; what it printed otherwise is not repeated. */
function ytJson(text: string, url: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new SourceError(`yt-dlp printed something that is not JSON for ${url}`);
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
      const entry = ytJson(line, url);
      const watch = entry.url?.startsWith('http') ? entry.url : `https://www.youtube.com/watch?v=${entry.id}`;
      // one unavailable video of a playlist fails alone
      await orFailed(watch, out, () => youtube(watch, out));
    }
    return;
  }
  const info = ytJson(await ytdlp(['--dump-json', '--no-download', '--no-warnings', url]), url);
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

const CONTROL = /[\x00-\x1f\x7f]/;
const LIST_EXT = /\.(txt|list|urls|lst)$/i;
const LIST_MAX_BYTES = 2 ** 20;

const looksLikeUrl = (s: string) => /^https?:\/\/[^\s/?#]+\S*$/i.test(s) && !CONTROL.test(s);
/** Could be a file path (a list line is accepted when it is a URL or this). */
const pathLike = (s: string) => s.length <= 4096 && !CONTROL.test(s) && !/[:=;<>|"*?`$\\]/.test(s);

/**
 * A token fit for an error message: only what looks like a URL or a path — for a line of a list,
 * a path must be absolute, ./, ../, ~/, or have an audio or list extension — without control
 * characters, cut to 80 characters (a URL keeps its start, a path its end). Anything else may be
 * a line of some file that is not a URL list, and is never shown.
 */
export function shown(token: string, fromList = true): string | undefined {
  const t = token.trim();
  if (looksLikeUrl(t)) return t.length > 80 ? `${t.slice(0, 79)}…` : t;
  if (!pathLike(t) || (fromList && !/^(\/|\.{1,2}\/|~\/)/.test(t) && !AUDIO_EXT.test(t) && !LIST_EXT.test(t))) return undefined;
  return t.length > 80 ? `…${t.slice(-79)}` : t;
}

/** The lines of a URL list, numbered; or why `file` is not one (never quoting it). */
function readList(file: string, name: string): { line: number; text: string }[] {
  const notList = (why: string) => new SourceError(`${name} is not an audio or video file (by its extension), a directory, or a URL list (${why})`);
  if (fs.statSync(file).size > LIST_MAX_BYTES) throw notList('it is over 1 MiB');
  const bytes = fs.readFileSync(file);
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error('NUL');
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw notList('it is not text');
  }
  const lines = text.split('\n').map((l, i) => ({ line: i + 1, text: l.replace(/#.*/, '').trim() })).filter((l) => l.text);
  const bad = lines.find((l) => !looksLikeUrl(l.text) && !pathLike(l.text));
  if (bad) throw notList(`its line ${bad.line} is neither an http(s) URL nor a file path`);
  return lines;
}

/** `raw` is the item as the user wrote it (a list line before it was made absolute). */
async function resolveOne(item: string, raw: string, out: Resolved, depth: number): Promise<void> {
  const tok = shown(raw, depth > 0);
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
    throw new SourceError(`no such file, directory or URL${tok ? `: ${tok}` : ' (not shown: it does not look like a path or URL)'}`);
  }
  if (st.isDirectory()) {
    const files = fs.readdirSync(item).filter((f) => AUDIO_EXT.test(f)).sort();
    if (!files.length) throw new SourceError(`no audio or video files in directory ${tok ?? '(not shown)'}`);
    for (const f of files) out.tasks.push(fileTask(path.join(item, f)));
    return;
  }
  const name = tok ?? 'the file (name not shown)';
  if (!st.isFile()) throw new SourceError(`${name} is not an audio or video file, a directory or a URL list (not a regular file)`);
  if (AUDIO_EXT.test(item)) {
    out.tasks.push(fileTask(item));
    return;
  }
  // a list of URLs or paths, one per line
  if (depth > 3) throw new SourceError(`URL lists nested too deep at ${name}`);
  const lines = readList(item, name);
  if (!lines.length) throw new SourceError(`the URL list ${tok ?? '(name not shown)'} is empty (one URL or path per line, # for comments)`);
  const dir = path.dirname(item);
  for (const { line, text } of lines) {
    const where = `${tok ?? 'the URL list'} line ${line}`;
    await orFailed(shown(text) ?? where, out, () => resolveOne(asUrl(text) || path.isAbsolute(text) ? text : path.join(dir, text), text, out, depth + 1), where);
  }
}

/** Run `resolve`; a SourceError becomes a failed source (prefixed with where it was) instead of an error. */
async function orFailed(url: string, out: Resolved, resolve: () => Promise<void>, where?: string): Promise<void> {
  try {
    await resolve();
  } catch (err: any) {
    if (!(err instanceof SourceError)) throw err;
    out.failed.push({ url, reason: where ? `${where}: ${err.message}` : err.message });
  }
}

/** One line for "every source failed": the reason itself when there is one, else all of them. */
function allFailed(out: Resolved): string {
  const skipped = out.skipped.length ? ` (and ${out.skipped.length} skipped: ${out.skipped.map((s) => s.reason).join('; ')})` : '';
  if (out.failed.length === 1) return out.failed[0].reason + skipped;
  return `no source could be resolved, all ${out.failed.length} failed: ${out.failed.map((f) => f.reason).join('; ')}${skipped}`;
}

/**
 * Resolve the flow's `url` / `urls` parameters into transcription tasks. A source that cannot be
 * resolved is in `failed`; when nothing can be transcribed because of them, this throws one line.
 */
export async function resolveSources(items: string[]): Promise<Resolved> {
  const out: Resolved = { tasks: [], skipped: [], failed: [] };
  for (const item of items.map((s) => s.trim()).filter(Boolean)) await orFailed(shown(item, false) ?? '(not shown)', out, () => resolveOne(item, item, out, 0));
  if (!out.tasks.length && out.failed.length) throw new SourceError(allFailed(out));
  // the same video twice is transcribed once
  const seen = new Set<string>();
  out.tasks = out.tasks.filter((t) => (seen.has(t.url) ? false : (seen.add(t.url), true)));
  return out;
}

/** A local audio file for the task: the file itself, or a download into `dir`. */
export async function fetchAudio(task: TranscriptionTask, dir: string, onProgress?: (p: { received: number; total?: number }) => void): Promise<string> {
  if (task.kind === 'file') return task.url;
  fs.mkdirSync(dir, { recursive: true });
  if (task.kind === 'youtube') {
    await ytdlp(['-f', YOUTUBE_FORMAT, '--no-playlist', '--no-warnings', '-o', path.join(dir, `${task.id}.%(ext)s`), task.url]);
    const file = fs.readdirSync(dir).find((f) => f.startsWith(`${task.id}.`) && !f.endsWith('.part'));
    if (!file) throw new SourceError(`yt-dlp did not produce an audio file for ${task.url}`);
    return path.join(dir, file);
  }
  const ext = path.extname(new URL(task.url).pathname) || '.audio';
  const file = path.join(dir, `${task.id.replace(/[^\w.-]/g, '_')}${ext}`);
  const tmp = `${file}.part`;
  await download(task.url, tmp, { label: task.url, errorClass: SourceError, onProgress });
  fs.renameSync(tmp, file);
  return file;
}
