import { describe, expect, it } from '@jest/globals';
import { truncate } from '../src/index.js';

describe('truncate', () => {
  it('keeps text that fits, to the last character', () => {
    expect(truncate('abcde', 5)).toBe('abcde');
    expect(truncate('', 0)).toBe('');
  });

  it('cuts to at most maxLength characters, the ellipsis included', () => {
    const cut = truncate('abcdefghij', 5);

    expect(cut).toBe('abcd…');
    expect(cut.length).toBe(5);
  });

  it('ends with the ending it is given (ASCII where only ASCII is allowed)', () => {
    expect(truncate('abcdefghij', 6, { ending: '...' })).toBe('abc...');
  });

  it('drops the spaces before the ending', () => {
    expect(truncate('abc   defgh', 6)).toBe('abc…');
  });

  it('never returns more than maxLength characters, even below the length of the ending', () => {
    expect(truncate('abcdefghij', 2, { ending: '...' })).toBe('ab');
    expect(truncate('abcdefghij', 0)).toBe('');
  });
});
