// Worker thread for whisper.cpp: `full()` blocks its thread for the whole call, so it runs here,
// away from the task's event loop. The model is loaded once per worker.
//
// whisper.cpp's own progress callback cannot help: @napi-rs/whisper queues JS callbacks on this
// thread's event loop, which `full()` blocks, so they all arrive when it returns. Long audio is
// therefore fed in chunks of about 30 s (whisper's window), cut at the quietest moment near each
// boundary so no word is split, and progress is posted between chunks. The decoder's text
// context carries over from one call to the next (whisper.cpp keeps it in its state).
import { parentPort, workerData } from 'node:worker_threads';
import { Whisper, WhisperFullParams, WhisperSamplingStrategy } from '@napi-rs/whisper';
import { chunkBounds } from './chunks.js';

interface Job {
  id: number;
  samples: Float32Array;
  threads: number;
  language?: string;
  translate: boolean;
}

const RATE = 16000;

const whisper = new Whisper(workerData.modelPath as string);
parentPort!.postMessage({ type: 'ready', multilingual: !!whisper.isMultilingual });

/** Let the callbacks queued during `full()` run. */
async function flushCallbacks(): Promise<void> {
  await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setImmediate(r));
}

parentPort!.on('message', async (job: Job) => {
  try {
    const params = new WhisperFullParams(WhisperSamplingStrategy.Greedy);
    params.nThreads = job.threads;
    params.translate = job.translate;
    params.printProgress = false;
    params.printRealtime = false;
    params.printTimestamps = false;
    if (job.language) params.language = job.language;
    else if (whisper.isMultilingual) params.language = 'auto'; // whisper detects the language
    const segments: { start: number; end: number; text: string }[] = [];
    let offset = 0; // of the current chunk, in whisper's centiseconds
    params.onNewSegment = (s) => segments.push({ start: s.start + offset, end: s.end + offset, text: s.text });
    const t0 = performance.now();
    let text = '';
    let language = job.language;
    let from = 0;
    for (const to of chunkBounds(job.samples)) {
      offset = Math.round(from / (RATE / 100));
      const part = whisper.full(params, job.samples.subarray(from, to));
      await flushCallbacks();
      text += part && !/^\s/.test(part) && text ? ` ${part}` : part;
      // detected once, on the first chunk: the rest of the audio is in the same language
      if (!language) {
        language = Whisper.lang(whisper.fullLangId) || 'en';
        if (whisper.isMultilingual) params.language = language;
      }
      from = to;
      parentPort!.postMessage({ type: 'progress', id: job.id, audioSeconds: to / RATE, elapsedSeconds: (performance.now() - t0) / 1000 });
    }
    const wallSeconds = (performance.now() - t0) / 1000;
    parentPort!.postMessage({ type: 'done', id: job.id, text, segments, wallSeconds, language: language ?? 'en' });
  } catch (err: any) {
    parentPort!.postMessage({ type: 'error', id: job.id, message: String(err?.message ?? err) });
  }
});
