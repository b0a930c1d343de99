// Worker thread for whisper.cpp: `full()` blocks its thread for the whole transcription, so it
// runs here, away from the task's event loop. The model is loaded once per worker.
import { parentPort, workerData } from 'node:worker_threads';
import { Whisper, WhisperFullParams, WhisperSamplingStrategy } from '@napi-rs/whisper';

interface Job {
  id: number;
  samples: Float32Array;
  threads: number;
  language?: string;
  translate: boolean;
}

const whisper = new Whisper(workerData.modelPath as string);
parentPort!.postMessage({ type: 'ready', multilingual: !!whisper.isMultilingual });

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
    // callbacks are queued while full() blocks and delivered after it returns
    params.onNewSegment = (s) => segments.push({ start: s.start, end: s.end, text: s.text });
    const t0 = performance.now();
    const text = whisper.full(params, job.samples);
    const wallSeconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setImmediate(r));
    const language = job.language ?? (Whisper.lang(whisper.fullLangId) || 'en');
    parentPort!.postMessage({ type: 'done', id: job.id, text, segments, wallSeconds, language });
  } catch (err: any) {
    parentPort!.postMessage({ type: 'error', id: job.id, message: String(err?.message ?? err) });
  }
});
