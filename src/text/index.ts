export { normalize, tokenize } from './tokenize.js';
export { ENGLISH_STOPWORDS, EXTRA_STOPWORDS, isStopword, wordFrequencies, type WordCount } from './stopwords.js';
export { wordErrorRate, alignWords, type AlignOp, type WerResult, type WerOptions } from './wer.js';
export { trainWord2Vec, cosine, type Word2Vec, type Word2VecOptions } from './word2vec.js';
export { pca2d, type Pca2d } from './pca.js';
export { mulberry32 } from './random.js';
export { normalizeEnglish } from './english.js';
