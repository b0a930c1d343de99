// A text normalizer like Whisper's English one (openai/whisper, normalizers/english.py), so WER
// counts what was misheard rather than how it was written: case, punctuation, bracketed
// annotations, filler words ("um", "uh"), contractions ("it's" = "it is"), titles ("Dr." =
// "doctor"), spelled-out numbers ("twenty" = "20"), currency and percent signs, and British vs
// American spellings. Also the apostrophe-less contractions pocketsphinx writes ("its", "dont").
import { normalizeNumbers } from './english-numbers.js';
import { BRITISH_TO_AMERICAN } from './english-spellings.js';

const FILLERS = /\b(?:hmm+|mm+|mhm+|uh+|um+|ah+|er+m?|eh)\b/g;

// Whisper's replacements, in its order: whole words first, then the generic endings
const CONTRACTIONS: [RegExp, string][] = [
  [/\bwon't\b/g, 'will not'],
  [/\bcan't\b/g, 'can not'],
  [/\blet's\b/g, 'let us'],
  [/\bain't\b/g, 'aint'],
  [/\by'all\b/g, 'you all'],
  [/\bwanna\b/g, 'want to'],
  [/\bgotta\b/g, 'got to'],
  [/\bgonna\b/g, 'going to'],
  [/\bi'ma\b/g, 'i am going to'],
  [/\bimma\b/g, 'i am going to'],
  [/\bwoulda\b/g, 'would have'],
  [/\bcoulda\b/g, 'could have'],
  [/\bshoulda\b/g, 'should have'],
  [/\bma'am\b/g, 'madam'],
  [/n't\b/g, ' not'],
  [/'re\b/g, ' are'],
  [/'s\b/g, ' is'],
  [/'d\b/g, ' would'],
  [/'ll\b/g, ' will'],
  [/'t\b/g, ' not'],
  [/'ve\b/g, ' have'],
  [/'m\b/g, ' am'],
];

// What a recognizer without apostrophes writes for the same words (pocketsphinx's dictionary).
// "its" is also the possessive: WER counts the two alike, the price of not penalizing "it's".
const BARE: Record<string, string> = {
  its: 'it is', dont: 'do not', doesnt: 'does not', didnt: 'did not', isnt: 'is not', arent: 'are not', wasnt: 'was not',
  werent: 'were not', cant: 'can not', couldnt: 'could not', shouldnt: 'should not', wouldnt: 'would not', havent: 'have not',
  hasnt: 'has not', hadnt: 'had not', im: 'i am', ive: 'i have', youre: 'you are', youve: 'you have', theyre: 'they are',
  theyve: 'they have', weve: 'we have', thats: 'that is', whats: 'what is', theres: 'there is', heres: 'here is',
  wont: 'will not', youll: 'you will', theyll: 'they will', itll: 'it will',
};

const TITLES: [RegExp, string][] = [
  [/\bmr\.?(?=\s)/g, 'mister'],
  [/\bmrs\.?(?=\s)/g, 'missus'],
  [/\bms\.?(?=\s)/g, 'miss'],
  [/\bst\.?(?=\s+[a-z])/g, 'saint'],
  [/\bdr\.?(?=\s)/g, 'doctor'],
  [/\bprof\.?(?=\s)/g, 'professor'],
  [/\bcapt\.?(?=\s)/g, 'captain'],
  [/\bgov\.?(?=\s)/g, 'governor'],
  [/\bgen\.?(?=\s)/g, 'general'],
  [/\bsen\.?(?=\s)/g, 'senator'],
  [/\brep\.?(?=\s)/g, 'representative'],
  [/\bpres\.?(?=\s)/g, 'president'],
  [/\brev\.?(?=\s)/g, 'reverend'],
  [/\blt\.?(?=\s)/g, 'lieutenant'],
  [/\bcol\.?(?=\s)/g, 'colonel'],
  [/\bjr\.?(?=\s|$)/g, 'junior'],
  [/\bsr\.?(?=\s|$)/g, 'senior'],
];

/** stands for a decimal point while punctuation is removed */
const POINT = '\u00b7';

/** Text → normalized words joined by single spaces. */
export function normalizeEnglish(text: string): string {
  let s = ` ${text.toLowerCase()} `
    .normalize('NFKD')
    .replace(/\p{M}/gu, '') // diacritics: café → cafe
    .replace(/[’‘`]/g, "'")
    // annotations: [MUSIC], <noise>, (laughs)
    .replace(/[<[][^>\]]*[>\]]/g, ' ')
    .replace(/\([^)]*\)/g, ' ')
    .replace(FILLERS, ' ');
  for (const [re, to] of CONTRACTIONS) s = s.replace(re, to);
  for (const [re, to] of TITLES) s = s.replace(re, to);
  s = s
    // 1,000 → 1000; 2.5 stays one word
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/(\d)\.(?=\d)/g, `$1${POINT}`)
    // signs as the words they are read as
    .replace(/\$\s?([\d\u00b7]+)/g, ' $1 dollars ')
    .replace(/£\s?([\d\u00b7]+)/g, ' $1 pounds ')
    .replace(/€\s?([\d\u00b7]+)/g, ' $1 euros ')
    .replace(/([\d\u00b7]+)\s?%/g, ' $1 percent ')
    // words joined by hyphens are separate words: twenty-five, well-known
    .replace(/[^\p{L}\p{N}\u00b7\s]+/gu, ' ');
  const words = s.split(/\s+/).filter(Boolean).flatMap((w) => (BARE[w] ?? w).split(' '));
  return normalizeNumbers(words)
    .map((w) => BRITISH_TO_AMERICAN[w] ?? w)
    .join(' ')
    .replaceAll(POINT, '.');
}
