// The English normalizer behind fair WER: each rule of Whisper's EnglishTextNormalizer (and the
// bare contractions pocketsphinx writes) with a case, and WER before and after it.
import { describe, it, expect } from 'vitest';
import { normalizeEnglish, wordErrorRate } from '../../src/text/index.js';

const same = (a: string, b: string) => expect(normalizeEnglish(a)).toBe(normalizeEnglish(b));

describe('normalizeEnglish', () => {
  it("the issue's case: 'It is twenty' vs 'its 20' is 0 errors after normalization, 2 before", () => {
    expect(wordErrorRate('It is twenty', 'its 20', { normalize: 'english' }).wer).toBe(0);
    expect(wordErrorRate('It is twenty', 'its 20')).toMatchObject({ substitutions: 2, deletions: 1 });
  });

  it('spelled-out numbers become digits: cardinals, scales, "and", years in pairs, decimals, ordinals', () => {
    expect(normalizeEnglish('twenty five')).toBe('25');
    expect(normalizeEnglish('one hundred and five')).toBe('105');
    expect(normalizeEnglish('three hundred thousand')).toBe('300000');
    expect(normalizeEnglish('two thousand and twenty-four')).toBe('2024');
    expect(normalizeEnglish('a thousand and one nights')).toBe('1001 nights');
    expect(normalizeEnglish('in nineteen ninety five')).toBe('in 1995');
    expect(normalizeEnglish('two point five')).toBe('2.5');
    expect(normalizeEnglish('the twenty first century')).toBe('the 21st century');
    expect(normalizeEnglish('the third time')).toBe('the 3rd time');
    // separate numbers stay separate; "second" alone is as often a unit of time
    expect(normalizeEnglish('one two three')).toBe('1 2 3');
    expect(normalizeEnglish('wait a second')).toBe('wait a second');
    expect(normalizeEnglish('20 thousand')).toBe('20000');
    expect(normalizeEnglish('1,000 people')).toBe('1000 people');
  });

  it('currency and percent signs read as words', () => {
    same('$105', 'one hundred and five dollars');
    same('2.5%', 'two point five percent');
    same('£20', 'twenty pounds');
  });

  it('contractions, with and without apostrophes', () => {
    expect(normalizeEnglish("We won't go, they can't.")).toBe('we will not go they can not');
    expect(normalizeEnglish("I'm gonna do it, y'all")).toBe('i am going to do it you all');
    same("it's", 'it is');
    same('dont', "don't");
    same('theyre here', 'they are here');
  });

  it('case, punctuation, hyphens, diacritics, annotations and filler words go', () => {
    expect(normalizeEnglish('[MUSIC] Hello, (laughs) <noise> World!')).toBe('hello world');
    expect(normalizeEnglish('Um, so, uh, hmm, the café')).toBe('so the cafe');
    expect(normalizeEnglish('well-known')).toBe('well known');
  });

  it('titles and British spellings', () => {
    same('Dr. Smith and Mr. Jones', 'doctor smith and mister jones');
    same('the colour of the theatre', 'the color of the theater');
    same('we realised the organisation travelled', 'we realized the organization traveled');
    // a dictionary, not a rule: hour and four are not "hor" and "for"
    expect(normalizeEnglish('four hours')).toBe('4 hours');
  });

  it('a transcript that differs only in writing scores 0 normalized; a real mistake still counts', () => {
    const reference = 'And so, my fellow Americans: ask not what your country can do for you.';
    const whisper = 'and so my fellow americans ask not what your country can do for you';
    expect(wordErrorRate(reference, whisper, { normalize: 'english' }).wer).toBe(0);
    const misheard = wordErrorRate('the meeting is at ten thirty', 'the meeting is at 10:40', { normalize: 'english' });
    expect(normalizeEnglish('ten thirty')).toBe('1030');
    expect(misheard.substitutions).toBe(1);
  });
});
