// pocketsphinx (Debian's pocketsphinx_continuous with the en-us model): a real offline engine.
// Rough accuracy, but real text — what the README's main job uses when no Whisper weights are in
// the cache. Single-threaded (maxThreads 1: locally its task holds one core); English only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { FlowbookError } from '../errors.js';
import { wavBytes } from './audio.js';
import type { Audio, Segment, Transcriber, TranscribeOptions, Transcript } from './types.js';

export class SphinxTranscriber implements Transcriber {
  readonly engine = 'sphinx' as const;
  readonly model = 'sphinx-en-us';
  /** pocketsphinx decodes on one thread: a task holding more cores would leave them idle */
  readonly maxThreads = 1;

  async transcribe(audio: Audio, opts: TranscribeOptions = {}): Promise<Transcript> {
    if (opts.language && opts.language !== 'en') throw new FlowbookError(`sphinx-en-us transcribes English only, not '${opts.language}'`);
    if (opts.task === 'translate') throw new FlowbookError('sphinx-en-us cannot translate; use a Whisper model');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-sphinx-'));
    const wav = path.join(dir, 'audio.wav');
    fs.writeFileSync(wav, wavBytes(audio));
    const t0 = performance.now();
    // pocketsphinx prints each utterance (its text, then each word with its times) as soon as it
    // has decoded it: the last word's end time says how far into the audio it is. (Feeding the
    // audio through stdin would be smoother, but Node's stdio pipes are sockets, which
    // pocketsphinx cannot open as -infile.)
    const child = execa('pocketsphinx_continuous', ['-infile', wav, '-time', 'yes', '-logfn', '/dev/null'], { buffer: false, stderr: 'ignore' });
    let stdout = '';
    let heard = 0;
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      for (const m of c.matchAll(/ (\d+\.\d+) -?\d+\.\d+$/gm)) heard = Math.max(heard, Number(m[1]));
    });
    const report = () => opts.onProgress?.({ audioSeconds: Math.min(heard, audio.seconds), totalSeconds: audio.seconds, elapsedSeconds: (performance.now() - t0) / 1000 });
    const ticker = opts.onProgress ? setInterval(report, 1000) : undefined;
    try {
      await child;
    } catch (err: any) {
      if (err?.code === 'ENOENT') {
        throw new FlowbookError('pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)', { cause: err });
      }
      throw new FlowbookError(`pocketsphinx failed on ${audio.source}: ${err?.shortMessage ?? err}`, { cause: err });
    } finally {
      clearInterval(ticker);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const wallSeconds = (performance.now() - t0) / 1000;
    const segments = parseSphinx(stdout);
    heard = audio.seconds;
    report();
    return {
      text: segments.map((s) => s.text).join(' '),
      segments,
      language: 'en',
      audioSeconds: audio.seconds,
      wallSeconds,
      rtf: wallSeconds / Math.max(audio.seconds, 1e-9),
      engine: 'sphinx',
      model: this.model,
    };
  }

  async close(): Promise<void> {}
}

/**
 * With `-time yes` each utterance is its text on one line, then one line per word:
 * `word start end confidence`, between `<s>` and `</s>` markers.
 */
export function parseSphinx(out: string): Segment[] {
  const segments: Segment[] = [];
  let current: Segment | undefined;
  for (const line of out.split('\n')) {
    const m = /^(\S+) (\d+\.\d+) (\d+\.\d+) (-?\d+\.\d+)$/.exec(line.trim());
    if (m) {
      const [, word, start, end] = m;
      if (!current) continue;
      if (word === '<s>') current.start = Number(start);
      else if (word === '</s>') current.end = Number(end);
      else current.end = Math.max(current.end, Number(end));
      continue;
    }
    const text = line.trim();
    if (!text) continue;
    current = { start: 0, end: 0, text };
    segments.push(current);
  }
  return segments;
}
