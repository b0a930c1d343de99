// Comparing one clip's transcripts across models (the model-size comparison flow): WER against
// the reference transcript where there is one, and where there is not, disagreement with the
// largest model that produced text — agreement between models, never called WER.
import { tokenize, wordErrorRate, alignWords, type AlignOp } from '../text/index.js';
import type { TranscriptionTask } from './sources.js';
import type { Transcript } from './types.js';

/** Rough size order of the model families, to find "the largest" for agreement. */
export function modelRank(name: string): number {
  const order = ['sphinx', 'for-tests', 'tiny', 'base', 'small', 'medium', 'large-v1', 'large-v2', 'large-v3-turbo', 'large-v3', 'large'];
  const i = order.findIndex((p) => name.startsWith(p));
  return i < 0 ? order.length : i;
}

export interface ComparisonRow {
  title: string;
  url: string;
  model: string;
  engine: string;
  audioSeconds: number;
  wallSeconds: number;
  rtf: number;
  cpus: number;
  words: number;
  /**
   * WER against the reference transcript, when there is one (Whisper-style normalization first);
   * null without one, or when the text is not a transcript (a weightless test model)
   */
  wer: number | null;
  /** the same WER of the texts as written */
  rawWer: number | null;
  /**
   * Without a reference: the word-error formula against `comparedWith`'s text — how much two
   * models disagree, not how wrong either is. Null for that model itself and for rows without text.
   */
  disagreement: number | null;
  /** the largest model that produced text on this clip, when `disagreement` was measured */
  comparedWith: string | null;
  note: string;
}

/** A text that is a transcript: a test model's empty text (its note says so) is not one. */
const isText = (t: Transcript) => !t.note && tokenize(t.text).length > 0;

/**
 * One clip's models compared: WER against the reference when there is one; without it,
 * disagreement with the largest model that produced text (never with an empty one, which would
 * make every other model "100% wrong"); and the word diff of that model and the smallest other one.
 */
export function compareModels(
  video: TranscriptionTask,
  reference: string | null,
  byModel: { model: string; transcript: Transcript; cpus: number }[],
): { rows: ComparisonRow[]; diff: { small: string; large: string; ops: AlignOp[] } | null } {
  const withText = byModel.filter((m) => isText(m.transcript)).sort((a, b) => modelRank(a.model) - modelRank(b.model));
  const anchor = withText.at(-1);
  const compared = (model: string, t: Transcript) => reference === null && anchor !== undefined && model !== anchor.model && isText(t);
  const rows = byModel.map(({ model, transcript: t, cpus }) => ({
    title: video.title,
    url: video.url,
    model,
    engine: t.engine,
    audioSeconds: t.audioSeconds,
    wallSeconds: t.wallSeconds,
    rtf: t.rtf,
    cpus,
    words: tokenize(t.text).length,
    // normalized as Whisper's English normalizer does, so writing ("20" vs "twenty") is no error
    wer: reference !== null && !t.note ? wordErrorRate(reference, t.text, { normalize: 'english' }).wer : null,
    rawWer: reference !== null && !t.note ? wordErrorRate(reference, t.text).wer : null,
    disagreement: compared(model, t) ? wordErrorRate(anchor!.transcript.text, t.text, { normalize: 'english' }).wer : null,
    comparedWith: compared(model, t) ? anchor!.model : null,
    note: t.note ?? '',
  }));
  // the word diff: the largest model with text against the smallest other one — preferring one
  // with text; an empty one shows as all missing words, which is what it said
  const others = byModel.filter((m) => m.model !== anchor?.model).sort((a, b) => Number(isText(b.transcript)) - Number(isText(a.transcript)) || modelRank(a.model) - modelRank(b.model));
  const small = others[0];
  const diff = !anchor || !small ? null : { small: small.model, large: anchor.model, ops: alignWords(anchor.transcript.text, small.transcript.text) };
  return { rows, diff };
}
