// Transcription: pick an engine by model name, decode the audio, transcribe.
import { decodeAudio } from './audio.js';
import { SPHINX_MODEL, canonicalModelName, findModel } from './catalog.js';
import { modelStatus, resolveModelPath } from './models.js';
import { SphinxTranscriber } from './sphinx.js';
import { WhisperTranscriber } from './whisper.js';
import type { Transcriber, TranscribeOptions, Transcript } from './types.js';

export * from './types.js';
export { decodeAudio, AudioError } from './audio.js';
export { CATALOG, SPHINX_MODEL, MODEL_ALIASES, canonicalModelName, findModel, UnknownModelError } from './catalog.js';
export { listModels, pullModel, verifyModel, resolveModelPath, modelsDir, ModelNotDownloadedError } from './models.js';
export { WhisperTranscriber, isTestModel } from './whisper.js';
export { SphinxTranscriber } from './sphinx.js';
export { transcriptionProgressLines, downloadProgressLines, progressEverySeconds, type TranscribeProgress } from './progress.js';
export { chunkBounds } from './chunks.js';

// one engine per model per process: a warm worker loads a model once for all its tasks
const engines = new Map<string, Transcriber>();

export function getTranscriber(given: string): Transcriber {
  // `large` is large-v3: the transcript names the model that ran
  const model = canonicalModelName(given);
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

/** pocketsphinx with its en-us model, and the Node worker around it (measured: ~110 MiB) */
const SPHINX_MEMORY_MIB = 512;

/**
 * What transcribing with `model` uses on this machine, known before a task starts (`auto` is
 * resolved as the start step will): pocketsphinx one core and little memory; whisper.cpp as many
 * threads as it is given (cpu undefined) and about 1.5× its model file plus 400 MiB. A flow
 * returns this from `static localResources` so that, locally, a task holds no more cores or
 * memory than it can use; a pod still requests the step's @resources. Unknown: no limit (the
 * start step reports the bad model).
 */
export function localFootprint(model: string): { cpu?: number; memory?: number } {
  const name = model === 'auto' ? chooseAutoModel().model : model;
  if (name === SPHINX_MODEL) return { cpu: 1, memory: SPHINX_MEMORY_MIB };
  try {
    const st = modelStatus(findModel(name));
    // whisper.cpp's own figures (tiny 273 MB … large 3.9 GB for 75 MB … 2.9 GB models) are ≈ 1.35 × model
    // + 170 MB: 1.5 × + 400 MiB leaves room for long audio and the worker around it
    return st.bytes ? { memory: Math.ceil((1.5 * st.bytes) / 2 ** 20 + 400) } : {};
  } catch {
    return {};
  }
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
export { transcriptionCacheKey, type TranscriptionKey } from './cache-key.js';
export { compareModels, modelRank, type ComparisonRow } from './compare.js';
