// The small languages of the controller emulator: depends, when, {{…}} substitution.
import { describe, expect, it } from 'vitest';
import { dependsTasks, evalDepends, evalWhen, legacyDepends, substitute } from './expr.js';

describe('depends', () => {
  const r = { a: { phase: 'Succeeded' }, b: { phase: 'Skipped' }, c: { phase: 'Failed' }, d: { phase: 'Error' }, g: { phase: 'Failed', children: ['Succeeded', 'Failed'] }, o: { phase: 'Omitted' } };
  it.each([
    ['a', true],
    ['b', true], // a plain name means Succeeded || Skipped || Daemoned
    ['c', false],
    ['c.Failed && d.Errored', true],
    ['!(a.Succeeded) || o.Omitted', true],
    ['(a.Succeeded || b.Succeeded) && !c.Succeeded', true],
    ['g.AnySucceeded && !g.AllFailed', true],
    ['a && c', false],
  ])('%s → %s', (expr, want) => expect(evalDepends(expr, r)).toBe(want));
  it('names the tasks; legacy dependencies honour continueOn', () => {
    expect(dependsTasks('(split-a.Succeeded || b) && !c-d.Failed')).toEqual(['split-a', 'b', 'c-d']);
    expect(legacyDepends(['a', 'c'], (t) => (t === 'c' ? { failed: true } : undefined))).toBe('(a.Succeeded || a.Skipped || a.Daemoned) && (c.Succeeded || c.Skipped || c.Daemoned || c.Failed)');
    expect(() => evalDepends('a &&', r)).toThrow(/invalid depends/);
  });
});

describe('when (govaluate)', () => {
  it.each([
    ["'hi' == 'hi'", true],
    ["'hi' != 'hi'", false],
    ['heads == heads', true], // bare words are strings, as Argo makes them
    ['3 > 2 && 1 < 2', true],
    ["'a' < 'b' || false", true],
    ['!(1 == 2)', true],
    ['"x" =~ "^x$"', true],
  ])('%s → %s', (expr, want) => expect(evalWhen(expr)).toBe(want));
  it('refuses nonsense', () => {
    expect(() => evalWhen("'a' ==")).toThrow(/Invalid 'when' expression/);
    expect(() => evalWhen("'a'")).toThrow(/boolean/);
  });
});

describe('substitute', () => {
  it('replaces known names in every string, reports unknown ones', () => {
    const missing = new Set<string>();
    expect(substitute({ a: ['{{ x }}-{{y}}', 3], b: '{{z}}' }, { x: '1', y: '2' }, missing)).toEqual({ a: ['1-2', 3], b: '{{z}}' });
    expect([...missing]).toEqual(['z']);
  });
});
