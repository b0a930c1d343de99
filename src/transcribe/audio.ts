// Audio decoding with the system ffmpeg: any container/codec it knows (mp3, wav, ogg, m4a, webm,
// video files) to 16 kHz mono 32-bit float PCM, the input of both engines.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { FlowbookError } from '../errors.js';
import type { Audio } from './types.js';

export class AudioError extends FlowbookError {}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.at(-1) ?? 'no output';
}

async function ffmpeg(args: string[], what: string) {
  try {
    return await execa('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], { encoding: 'buffer', maxBuffer: 4 * 2 ** 30 });
  } catch (err: any) {
    if (err?.code === 'ENOENT') throw new AudioError('ffmpeg is not installed (apt-get install ffmpeg)', { cause: err });
    const stderr = err?.stderr instanceof Uint8Array ? Buffer.from(err.stderr).toString('utf8') : String(err?.stderr ?? '');
    // ffmpeg's last line names the input by its full path: say it once, by its name
    const reason = lastLine(stderr).replace(/^.*?: (?=[A-Z][a-z])/, '');
    throw new AudioError(`cannot decode ${what}: ${reason} (not an audio or video file?)`, { cause: err });
  }
}

function checkFile(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new AudioError(`audio file not found: ${file}`);
  }
  if (!st.isFile()) throw new AudioError(`not a file: ${file}`);
  if (st.size === 0) throw new AudioError(`audio file is empty: ${file}`);
}

/** Decode a file to 16 kHz mono float samples. */
export async function decodeAudio(file: string): Promise<Audio> {
  checkFile(file);
  const r = await ffmpeg(['-i', file, '-vn', '-ac', '1', '-ar', '16000', '-f', 'f32le', 'pipe:1'], path.basename(file));
  const buf = r.stdout as unknown as Buffer;
  if (buf.length < 4 * 160) throw new AudioError(`no audio in ${path.basename(file)} (is it an audio or video file?)`);
  // copy into an aligned buffer: Float32Array needs a 4-byte aligned offset
  const samples = new Float32Array(buf.length / 4);
  new Uint8Array(samples.buffer).set(buf.subarray(0, samples.length * 4));
  return { samples, sampleRate: 16000, seconds: samples.length / 16000, source: file };
}

/** Write 16 kHz mono 16-bit PCM WAV (what pocketsphinx reads). */
export async function toWav16k(file: string, out: string): Promise<void> {
  checkFile(file);
  await ffmpeg(['-y', '-i', file, '-vn', '-ac', '1', '-ar', '16000', '-acodec', 'pcm_s16le', out], path.basename(file));
}

/** 16-bit WAV bytes from float samples (for engines that read files). */
export function wavBytes(audio: Audio): Buffer {
  const n = audio.samples.length;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(audio.samples[i] * 32767))), 44 + i * 2);
  return b;
}
