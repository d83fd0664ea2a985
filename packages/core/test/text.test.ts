import { describe, expect, it } from '@jest/globals';
import { escapeMrkdwn, oneLine, truncate } from '../src/index.js';

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

describe('oneLine', () => {
  it('turns line breaks, tabs and control characters into one space and keeps Unicode', () => {
    expect(oneLine('  São\r\n\tPaulo\u2028x\u0000y  ')).toBe('São Paulo x y');
  });

  it('cuts to maxLength when given, and only then', () => {
    expect(oneLine('abc\ndefghij', 5)).toBe('abc…');
    expect(oneLine('x'.repeat(5000))).toHaveLength(5000);
  });
});

describe('escapeMrkdwn', () => {
  it("escapes Slack mrkdwn's control characters, & first", () => {
    expect(escapeMrkdwn('<!channel> & <https://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;https://x|y&gt;');
  });
});
