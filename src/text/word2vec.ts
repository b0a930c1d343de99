// word2vec: skip-gram with negative sampling (Mikolov et al. 2013), small and deterministic for
// a seed — enough to embed the vocabulary of a few transcripts for the embedding card.
import { mulberry32 } from './random.js';

export interface Word2VecOptions {
  dim?: number;
  window?: number;
  minCount?: number;
  negative?: number;
  epochs?: number;
  learningRate?: number;
  seed?: number;
}

export interface Word2Vec {
  vocab: string[];
  counts: number[];
  vectors: Float32Array[];
  vector(word: string): Float32Array | undefined;
  mostSimilar(word: string, k?: number): { word: string; similarity: number }[];
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) (dot += a[i] * b[i]), (na += a[i] * a[i]), (nb += b[i] * b[i]);
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

export function trainWord2Vec(sentences: string[][], opts: Word2VecOptions = {}): Word2Vec {
  const { dim = 50, window = 5, minCount = 1, negative = 5, epochs = 5, learningRate = 0.025, seed = 1 } = opts;
  const rand = mulberry32(seed);
  const freq = new Map<string, number>();
  for (const s of sentences) for (const w of s) freq.set(w, (freq.get(w) ?? 0) + 1);
  // vocabulary: frequent first, ties alphabetical, so indices do not depend on input order
  const vocab = [...freq].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
  const index = new Map(vocab.map((w, i) => [w, i]));
  const counts = vocab.map((w) => freq.get(w)!);
  const V = vocab.length;
  const input = Array.from({ length: V }, () => Float32Array.from({ length: dim }, () => (rand() - 0.5) / dim));
  const output = Array.from({ length: V }, () => new Float32Array(dim));
  // noise distribution: unigram^0.75, as a table to sample from
  const table = new Int32Array(Math.max(1, Math.min(1e6, V * 100)));
  const pow = counts.map((c) => c ** 0.75);
  const total = pow.reduce((a, b) => a + b, 0);
  for (let i = 0, w = 0, acc = V ? pow[0] / total : 0; i < table.length; i++) {
    table[i] = w;
    if (i / table.length > acc && w < V - 1) acc += pow[++w] / total;
  }
  const corpus = sentences.map((s) => s.map((w) => index.get(w)).filter((i): i is number => i !== undefined));
  const steps = epochs * corpus.reduce((a, s) => a + s.length, 0);
  const grad = new Float32Array(dim);
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    for (const s of corpus) {
      for (let pos = 0; pos < s.length; pos++, step++) {
        const lr = Math.max(learningRate * 1e-4, learningRate * (1 - step / Math.max(1, steps)));
        const b = Math.floor(rand() * window); // a random shrink of the window, as in the original
        for (let c = pos - window + b; c <= pos + window - b; c++) {
          if (c === pos || c < 0 || c >= s.length) continue;
          const vin = input[s[c]];
          grad.fill(0);
          for (let d = 0; d <= negative; d++) {
            const target = d === 0 ? s[pos] : table[Math.floor(rand() * table.length)];
            if (d > 0 && target === s[pos]) continue;
            const vout = output[target];
            let dot = 0;
            for (let k = 0; k < dim; k++) dot += vin[k] * vout[k];
            const g = ((d === 0 ? 1 : 0) - 1 / (1 + Math.exp(-dot))) * lr;
            for (let k = 0; k < dim; k++) (grad[k] += g * vout[k]), (vout[k] += g * vin[k]);
          }
          for (let k = 0; k < dim; k++) vin[k] += grad[k];
        }
      }
    }
  }
  const vector = (w: string) => (index.has(w) ? input[index.get(w)!] : undefined);
  return {
    vocab,
    counts,
    vectors: input,
    vector,
    mostSimilar(word, k = 10) {
      const v = vector(word);
      if (!v) return [];
      return vocab
        .map((w, i) => ({ word: w, similarity: cosine(v, input[i]) }))
        .filter((x) => x.word !== word)
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, k);
    },
  };
}
