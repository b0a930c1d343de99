// Word error rate and the word alignment behind it (Levenshtein over normalized words), for
// judging a model against a reference — or a small model against the largest, as agreement.
import { tokenize } from './tokenize.js';
import { normalizeEnglish } from './english.js';

export interface WerOptions {
  /**
   * 'basic' (default): case and punctuation ignored. 'english': Whisper's English normalization
   * first (english.ts: numbers, contractions, fillers, spellings), which is fair to Whisper.
   */
  normalize?: 'basic' | 'english';
}

const wordsOf = (text: string, o?: WerOptions): string[] => (o?.normalize === 'english' ? normalizeEnglish(text).split(' ').filter(Boolean) : tokenize(text));

export type AlignOp =
  | { op: 'equal'; ref: string; hyp: string }
  | { op: 'substitute'; ref: string; hyp: string }
  | { op: 'delete'; ref: string }
  | { op: 'insert'; hyp: string };

export interface WerResult {
  wer: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  hits: number;
  referenceWords: number;
  hypothesisWords: number;
}

// backtrace codes
const EQ = 0, SUB = 1, DEL = 2, INS = 3;

/** Word-level alignment of two texts (case and punctuation ignored). */
export function alignWords(reference: string, hypothesis: string, options?: WerOptions): AlignOp[] {
  const r = wordsOf(reference, options);
  const h = wordsOf(hypothesis, options);
  const n = r.length, m = h.length;
  // distances row by row; a byte per cell for the backtrace (n*m bytes, fine for hour-long texts split by segment)
  const back = new Uint8Array((n + 1) * (m + 1));
  let prev = new Uint32Array(m + 1), cur = new Uint32Array(m + 1);
  for (let j = 0; j <= m; j++) (prev[j] = j), (back[j] = INS);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    back[i * (m + 1)] = DEL;
    for (let j = 1; j <= m; j++) {
      const same = r[i - 1] === h[j - 1];
      const diag = prev[j - 1] + (same ? 0 : 1);
      const del = prev[j] + 1;
      const ins = cur[j - 1] + 1;
      // prefer the diagonal (a match or a substitution) on ties, as jiwer does
      let best = diag, code = same ? EQ : SUB;
      if (del < best) (best = del), (code = DEL);
      if (ins < best) (best = ins), (code = INS);
      cur[j] = best;
      back[i * (m + 1) + j] = code;
    }
    [prev, cur] = [cur, prev];
  }
  const ops: AlignOp[] = [];
  let i = n, j = m;
  while (i > 0 || j > 0) {
    const code = i === 0 ? INS : j === 0 ? DEL : back[i * (m + 1) + j];
    if (code === EQ) ops.push({ op: 'equal', ref: r[--i], hyp: h[--j] });
    else if (code === SUB) ops.push({ op: 'substitute', ref: r[--i], hyp: h[--j] });
    else if (code === DEL) ops.push({ op: 'delete', ref: r[--i] });
    else ops.push({ op: 'insert', hyp: h[--j] });
  }
  return ops.reverse();
}

export function wordErrorRate(reference: string, hypothesis: string, options?: WerOptions): WerResult {
  const ops = alignWords(reference, hypothesis, options);
  const c = { substitute: 0, delete: 0, insert: 0, equal: 0 };
  for (const o of ops) c[o.op]++;
  const referenceWords = c.equal + c.substitute + c.delete;
  const errors = c.substitute + c.delete + c.insert;
  return {
    wer: referenceWords === 0 ? (errors === 0 ? 0 : 1) : errors / referenceWords,
    substitutions: c.substitute,
    deletions: c.delete,
    insertions: c.insert,
    hits: c.equal,
    referenceWords,
    hypothesisWords: c.equal + c.substitute + c.insert,
  };
}
