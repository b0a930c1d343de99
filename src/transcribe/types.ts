// One interface for every speech-to-text engine (whisper.cpp, pocketsphinx).
import type { TranscribeProgress } from './progress.js';

export type { TranscribeProgress };

export interface Segment {
  /** seconds from the start of the audio */
  start: number;
  end: number;
  text: string;
}

/** How an engine transcribes one audio. */
export interface TranscribeOptions {
  /** CPU threads the engine may use: give it the task's cpus (current.resources.cpu); pocketsphinx uses one whatever this says. Default 1 */
  threads?: number;
  /** ISO code ('en'); an English-only model or pocketsphinx refuses any other. Default: detected by a multilingual Whisper model, 'en' for the English-only ones */
  language?: string;
  /** 'translate' gives English text (multilingual Whisper models only). Default 'transcribe' */
  task?: 'transcribe' | 'translate';
  /** called while the engine works (about every second, and at the end): see transcriptionProgressLines. Default: none */
  onProgress?: (p: TranscribeProgress) => void;
}

export interface Transcript {
  text: string;
  segments: Segment[];
  language: string;
  audioSeconds: number;
  /** engine time only (decoding excluded) */
  wallSeconds: number;
  /** real-time factor: wallSeconds / audioSeconds (< 1 is faster than real time) */
  rtf: number;
  engine: 'whisper' | 'sphinx';
  model: string;
  /**
   * Set when the text cannot be a real transcript: the whisper.cpp test models have the right
   * shapes but no weights, so they produce empty text. Never pass such output off as speech.
   */
  note?: string;
}

/** 16 kHz mono float samples, what both engines take */
export interface Audio {
  samples: Float32Array;
  sampleRate: 16000;
  seconds: number;
  /** where it came from, for messages */
  source: string;
}

export interface Transcriber {
  readonly engine: 'whisper' | 'sphinx';
  /** the most CPU threads it can use (pocketsphinx: 1); undefined: as many as it is given */
  readonly maxThreads?: number;
  readonly model: string;
  transcribe(audio: Audio, opts?: TranscribeOptions): Promise<Transcript>;
  close(): Promise<void>;
}
