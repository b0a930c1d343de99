// English stopwords (NLTK's list) plus the fillers of spoken transcripts that the seed flow
// removed before its word cloud.
import { tokenize } from './tokenize.js';

export const ENGLISH_STOPWORDS = new Set(
  `i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his himself she
  she's her hers herself it it's its itself they them their theirs themselves what which who whom this that that'll these those
  am is are was were be been being have has had having do does did doing a an the and but if or because as until while of at
  by for with about against between into through during before after above below to from up down in out on off over under
  again further then once here there when where why how all any both each few more most other some such no nor not only own
  same so than too very s t can will just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't
  didn didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't
  shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't`.split(/\s+/),
);

export const EXTRA_STOPWORDS = new Set(
  `uh um like yeah okay oh gonna wanna know just really right going get got one thing things lot would could also
  i'm we're they're that's there's let's can't it's i've i'll we'll you know`.split(/\s+/),
);

export const isStopword = (w: string) => ENGLISH_STOPWORDS.has(w) || EXTRA_STOPWORDS.has(w);

export interface WordCount {
  word: string;
  count: number;
}

/** Word counts over documents, most frequent first (ties: alphabetical). */
export function wordFrequencies(texts: string[], opts: { minCount?: number; stopwords?: boolean } = {}): WordCount[] {
  const counts = new Map<string, number>();
  for (const t of texts) {
    for (const w of tokenize(t)) {
      if (opts.stopwords !== false && isStopword(w)) continue;
      if (/^\d+$/.test(w) || w.length < 2) continue;
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  return [...counts]
    .filter(([, c]) => c >= (opts.minCount ?? 1))
    .map(([word, count]) => ({ word, count }))
    .sort((a, b) => b.count - a.count || (a.word < b.word ? -1 : 1));
}
