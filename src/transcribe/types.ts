// One interface for every speech-to-text engine (whisper.cpp, pocketsphinx).
import type { TranscribeProgress } from './progress.js';

export type { TranscribeProgress };

export interface Segment {
  /** seconds from the start of the audio */
  start: number;
  end: number;
  text: string;
}

export interface TranscribeOptions {
  /** CPU threads the engine may use: the task's cpus (current.resources.cpu) */
  threads?: number;
  /** ISO code ('en'), or undefined to let the engine detect it */
  language?: string;
  task?: 'transcribe' | 'translate';
  /** called while the engine works (about every second, and at the end): see transcriptionProgressLines */
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
