// whisper.cpp through @napi-rs/whisper, in a worker thread (see whisper-worker.ts). One worker per
// model per process, so a warm flow worker loads a model once for all its tasks.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { FlowbookError } from '../errors.js';
import type { Audio, Transcriber, TranscribeOptions, Transcript } from './types.js';

function workerFile(): string {
  const here = fileURLToPath(new URL('./whisper-worker.js', import.meta.url));
  return fs.existsSync(here) ? here : fileURLToPath(new URL('../../dist/transcribe/whisper-worker.js', import.meta.url));
}

/** whisper.cpp's test models (right shapes, no weights) transcribe everything as empty text. */
export const isTestModel = (modelPath: string) => path.basename(modelPath).startsWith('for-tests-');

export class WhisperTranscriber implements Transcriber {
  readonly engine = 'whisper' as const;
  private worker: Worker;
  private ready: Promise<void>;
  private jobs = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; progress?: (m: { audioSeconds: number }) => void }>();
  private nextId = 1;

  constructor(
    readonly model: string,
    readonly modelPath: string,
  ) {
    this.worker = new Worker(workerFile(), { workerData: { modelPath } });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (m) => (m?.type === 'ready' ? resolve() : reject(new FlowbookError(`whisper worker: ${JSON.stringify(m)}`))));
      this.worker.once('error', (err) => reject(new FlowbookError(`cannot load Whisper model ${model} (${modelPath}): ${err.message}`, { cause: err })));
    });
    this.worker.on('message', (m) => {
      const job = this.jobs.get(m?.id);
      if (!job) return;
      if (m.type === 'progress') return void job.progress?.(m);
      this.jobs.delete(m.id);
      if (m.type === 'done') job.resolve(m);
      else job.reject(new FlowbookError(`whisper ${model} failed: ${m.message}`));
    });
    this.worker.on('error', (err) => {
      for (const j of this.jobs.values()) j.reject(new FlowbookError(`whisper ${model} crashed: ${err.message}`, { cause: err }));
      this.jobs.clear();
    });
    // idle, the worker must not keep the process alive; loading or transcribing, it must
    this.ready.then(() => this.worker.unref(), () => this.worker.unref());
  }

  async transcribe(audio: Audio, opts: TranscribeOptions = {}): Promise<Transcript> {
    await this.ready;
    const english = this.model.includes('.en');
    if (english && opts.language && opts.language !== 'en') throw new FlowbookError(`${this.model} is English-only; use a multilingual model for '${opts.language}'`);
    if (english && opts.task === 'translate') throw new FlowbookError(`${this.model} is English-only and cannot translate; use a multilingual model`);
    const id = this.nextId++;
    this.worker.ref();
    // the worker posts how much audio is done after each ~30 s chunk; in between, a tick each
    // second keeps the elapsed time moving (a large model can take a while per chunk)
    const t0 = performance.now();
    let done = 0;
    const report = () => opts.onProgress?.({ audioSeconds: done, totalSeconds: audio.seconds, elapsedSeconds: (performance.now() - t0) / 1000 });
    const ticker = opts.onProgress ? setInterval(report, 1000) : undefined;
    const r = await new Promise<any>((resolve, reject) => {
      this.jobs.set(id, { resolve, reject, progress: (m) => ((done = Math.min(audio.seconds, m.audioSeconds)), report()) });
      this.worker.postMessage({ id, samples: audio.samples, threads: Math.max(1, opts.threads ?? 1), language: english ? 'en' : opts.language, translate: opts.task === 'translate' });
    }).finally(() => {
      clearInterval(ticker);
      this.worker.unref();
    });
    const text = String(r.text ?? '').trim();
    const t: Transcript = {
      text,
      // whisper.cpp reports segment times in centiseconds
      segments: (r.segments as { start: number; end: number; text: string }[]).map((s) => ({ start: s.start / 100, end: s.end / 100, text: s.text.trim() })),
      language: r.language,
      audioSeconds: audio.seconds,
      wallSeconds: r.wallSeconds,
      rtf: r.wallSeconds / Math.max(audio.seconds, 1e-9),
      engine: 'whisper',
      model: this.model,
    };
    if (isTestModel(this.modelPath)) t.note = 'whisper.cpp test model (no weights): the empty text is not a transcript';
    else if (!text) t.note = 'no speech recognized';
    return t;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
