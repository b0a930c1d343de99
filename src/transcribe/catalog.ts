// The Whisper models flowbook knows: name → file in the whisper.cpp model repository, and the
// official sha256 where we have it. A model without a known hash can still be pulled with an
// explicit --sha256; it is never called verified otherwise.
import { FlowbookError } from '../errors.js';

export interface ModelEntry {
  name: string;
  file: string;
  sha256?: string;
  /** whisper.cpp's MIT test models: right shapes, no weights, empty transcripts */
  testModel?: boolean;
}

/** Official sha256 of the files on Hugging Face (ggerganov/whisper.cpp). */
const OFFICIAL: Record<string, string> = {
  'tiny.en': '921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f',
  tiny: 'be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21',
  'base.en': 'a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002',
  base: '60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe',
  'large-v3-turbo': '1fc70f774d38eb169993ac391eea357ef47c88757ef72ee5943879b7e8e2bc69',
};

/** whisper.cpp's test models (models/for-tests-ggml-*.bin in its repository). */
const TEST_MODELS: Record<string, string> = {
  'for-tests-tiny': 'c486fb9f14a28b1c1dc252741a431646cc573450c900b9d9c406e10294aa01e6',
  'for-tests-tiny.en': 'dd6b7796204a1cdf7164666423034e6e1a7a3e9f5c22327b4b7974c4584bd82d',
  'for-tests-base.en': '1bc042ca584ff1895897e95bffb34ccf357be46c1fca97cf7fbe32f2060aa9e8',
  'for-tests-large': 'bf987facca89f2d75a843d5467d91668fba5c23debf66a0644df53f0accf0cfb',
};

const SIZES = ['tiny', 'tiny.en', 'base', 'base.en', 'small', 'small.en', 'medium', 'medium.en', 'large-v1', 'large-v2', 'large-v3', 'large-v3-turbo'];
const QUANTIZED = [
  'tiny-q5_1', 'tiny.en-q5_1', 'tiny-q8_0', 'base-q5_1', 'base.en-q5_1', 'base-q8_0', 'small-q5_1', 'small.en-q5_1', 'small-q8_0',
  'medium-q5_0', 'medium.en-q5_0', 'medium-q8_0', 'large-v2-q5_0', 'large-v2-q8_0', 'large-v3-q5_0', 'large-v3-turbo-q5_0', 'large-v3-turbo-q8_0',
];

export const CATALOG: ModelEntry[] = [
  ...[...SIZES, ...QUANTIZED].map((name) => ({ name, file: `ggml-${name}.bin`, ...(OFFICIAL[name] ? { sha256: OFFICIAL[name] } : {}) })),
  ...Object.entries(TEST_MODELS).map(([name, sha256]) => ({ name, file: `for-tests-ggml-${name.slice('for-tests-'.length)}.bin`, sha256, testModel: true })),
];

/** The offline engine's model name. */
export const SPHINX_MODEL = 'sphinx-en-us';

export class UnknownModelError extends FlowbookError {}

/**
 * Names a user types that mean a catalog model: `large` is the newest large model (as in
 * openai-whisper, where `large` is large-v3); large-v3-turbo is a different, distilled model.
 */
export const MODEL_ALIASES: Record<string, string> = { large: 'large-v3' };

/** The catalog name a user's model name means (`large` → `large-v3`); other names as given. */
export const canonicalModelName = (name: string): string => MODEL_ALIASES[name] ?? name;

export function findModel(name: string): ModelEntry {
  const m = CATALOG.find((e) => e.name === canonicalModelName(name));
  if (m) return m;
  const near = CATALOG.map((e) => e.name).filter((n) => n.startsWith(name.split(/[.-]/)[0]) && !n.startsWith('for-tests'));
  throw new UnknownModelError(
    `unknown model ${JSON.stringify(name)}${near.length ? ` (did you mean ${near.slice(0, 4).join(', ')}?)` : ''}; ` +
      `known: ${SIZES.join(', ')} (large means ${MODEL_ALIASES.large}), their quantized -q5/-q8 variants, and ${SPHINX_MODEL}`,
  );
}
