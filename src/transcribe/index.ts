// Transcription: pick an engine by model name, decode the audio, transcribe.
import { decodeAudio } from './audio.js';
import { SPHINX_MODEL, findModel } from './catalog.js';
import { modelStatus, resolveModelPath } from './models.js';
import { SphinxTranscriber } from './sphinx.js';
import { WhisperTranscriber } from './whisper.js';
import type { Transcriber, TranscribeOptions, Transcript } from './types.js';

export * from './types.js';
export { decodeAudio, AudioError } from './audio.js';
export { CATALOG, SPHINX_MODEL, findModel, UnknownModelError } from './catalog.js';
export { listModels, pullModel, verifyModel, resolveModelPath, modelsDir, ModelNotDownloadedError } from './models.js';
export { WhisperTranscriber, isTestModel } from './whisper.js';
export { SphinxTranscriber } from './sphinx.js';

// one engine per model per process: a warm worker loads a model once for all its tasks
const engines = new Map<string, Transcriber>();

export function getTranscriber(model: string): Transcriber {
  let t = engines.get(model);
  if (!t) {
    t = model === SPHINX_MODEL ? new SphinxTranscriber() : new WhisperTranscriber(model, resolveModelPath(model));
    engines.set(model, t);
  }
  return t;
}

/**
 * `--model auto`: Whisper tiny when its verified weights are in the cache, else the offline
 * pocketsphinx engine — with the reason, so the user knows which and how to get Whisper.
 */
export function chooseAutoModel(): { model: string; reason: string } {
  for (const name of ['tiny.en', 'tiny']) {
    if (modelStatus(findModel(name)).verified) return { model: name, reason: `Whisper ${name}: verified weights found in the model cache` };
  }
  return {
    model: SPHINX_MODEL,
    reason: `no verified Whisper weights in the model cache: using the offline pocketsphinx engine (${SPHINX_MODEL}); for Whisper run \`npx flowbook models pull tiny.en\``,
  };
}

export async function transcribeFile(file: string, model: string, opts: TranscribeOptions = {}): Promise<Transcript> {
  const engine = getTranscriber(model);
  return engine.transcribe(await decodeAudio(file), opts);
}

export async function closeTranscribers(): Promise<void> {
  await Promise.all([...engines.values()].map((e) => e.close()));
  engines.clear();
}
export { resolveSources, fetchAudio, isYouTube, SourceError, type TranscriptionTask, type Resolved } from './sources.js';
