// Spelled-out English numbers to digits, for fair WER: "twenty five" and "25" are the same words
// to a listener, and Whisper writes digits where a reference may spell them out (or the other way
// round). Follows the rules of Whisper's EnglishNumberNormalizer, reduced to what matters for WER:
// cardinals with scales ("one hundred and five" → 105), years said in pairs ("nineteen ninety
// five" → 1995), decimals ("two point five" → 2.5), ordinals ("twenty first" → 21st).

const UNITS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
const TENS: Record<string, number> = { twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };
const SCALES: Record<string, number> = { hundred: 100, thousand: 1e3, million: 1e6, billion: 1e9 };
const ORDINALS: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10,
  eleventh: 11, twelfth: 12, thirteenth: 13, fourteenth: 14, fifteenth: 15, sixteenth: 16, seventeenth: 17, eighteenth: 18, nineteenth: 19,
  twentieth: 20, thirtieth: 30, fortieth: 40, fiftieth: 50, sixtieth: 60, seventieth: 70, eightieth: 80, ninetieth: 90,
  hundredth: 100, thousandth: 1000, millionth: 1e6,
};

/** 1 → "1st", 12 → "12th", 22 → "22nd" */
function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** A number being read: `total` of finished scales, `part` below the last scale. */
interface Group {
  total: number;
  part: number;
  /** the last word: what may follow it in the same number */
  last: 'unit' | 'teen' | 'tens' | 'scale' | 'digits';
  scaled: boolean;
}

const valueOf = (g: Group) => g.total + g.part;
const isNumberWord = (w: string) => w in UNITS || w in TENS || w in SCALES || /^\d+$/.test(w);

/**
 * Replace runs of number words in `words` by digits. "second" alone stays a word (a unit of
 * time as often as an ordinal); "a hundred" is 100; "and" inside a number is dropped.
 */
export function normalizeNumbers(words: string[]): string[] {
  const out: string[] = [];
  let g: Group | undefined;
  const groups: Group[] = [];
  const flush = () => {
    if (g) groups.push(g);
    g = undefined;
    // years and codes said in pairs: "nineteen ninety five" → 1995, "twenty twenty" → 2020
    for (let i = 0; i < groups.length; i++) {
      const a = groups[i];
      const b = groups[i + 1];
      if (b && !a.scaled && !b.scaled && valueOf(a) >= 10 && valueOf(a) <= 99 && valueOf(b) >= 10 && valueOf(b) <= 99) {
        out.push(`${valueOf(a)}${valueOf(b)}`);
        i++;
      } else out.push(String(valueOf(a)));
    }
    groups.length = 0;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const next = words[i + 1];
    if (w === 'a' && next && next in SCALES && !g) {
      g = { total: 0, part: 1, last: 'unit', scaled: false };
      continue;
    }
    if (w === 'and' && g?.last === 'scale' && next && (next in UNITS || next in TENS)) continue;
    if (w === 'point' && g && next && next in UNITS && UNITS[next] < 10) {
      // decimals: digits one by one
      let digits = '';
      while (i + 1 < words.length && words[i + 1] in UNITS && UNITS[words[i + 1]] < 10) digits += UNITS[words[++i]];
      const whole = valueOf(g);
      g = undefined;
      flush();
      out.push(`${whole}.${digits}`);
      continue;
    }
    if (w in ORDINALS && !(w === 'second' && !g)) {
      const v = ORDINALS[w];
      let n = v;
      if (g && v < 10 && g.last === 'tens') n = valueOf(g) + v;
      else if (g && v >= 100) n = valueOf(g) * v;
      else if (g) flush();
      g = undefined;
      flush();
      out.push(ordinal(n));
      continue;
    }
    if (!isNumberWord(w)) {
      flush();
      out.push(w);
      continue;
    }
    if (/^\d+$/.test(w)) {
      if (g) flush();
      g = { total: 0, part: Number(w), last: 'digits', scaled: false };
      if (!(next && next in SCALES)) flush();
      continue;
    }
    if (w in SCALES) {
      const s = SCALES[w];
      if (!g) g = { total: 0, part: 1, last: 'unit', scaled: false };
      if (s === 100) g.part = (g.part || 1) * 100;
      else {
        g.total += (g.part || 1) * s;
        g.part = 0;
      }
      g.last = 'scale';
      g.scaled = true;
      continue;
    }
    const v = w in UNITS ? UNITS[w] : TENS[w];
    const kind: Group['last'] = w in TENS ? 'tens' : v >= 10 ? 'teen' : 'unit';
    // does this word continue the number being read? ("twenty five", "hundred five")
    const continues = g && (g.last === 'scale' ? g.part % 100 === 0 : g.last === 'tens' && kind === 'unit' && v > 0);
    if (g && continues) {
      g.part += v;
      g.last = kind;
      continue;
    }
    if (g) groups.push(g);
    g = { total: 0, part: v, last: kind, scaled: false };
  }
  flush();
  return out;
}
