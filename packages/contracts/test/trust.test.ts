import { describe, expect, it } from '@jest/globals';
import { DEFAULT_QUALITY_GATES, QualityGates, redactUrl, redactUrlsIn } from '../src/index.js';

describe('redactUrl', () => {
  it.each([
    ['https://user:pa%40ss@example.org/us.csv?token=abc#frag', 'https://example.org/us.csv'],
    ['https://example.org/data/us.csv', 'https://example.org/data/us.csv'],
    ['http://127.0.0.1:8080/nyt.csv?sig=xyz', 'http://127.0.0.1:8080/nyt.csv'],
    ['file:///data/us.csv', 'file:///data/us.csv'],
    ['not a url?token=abc', 'not a url'],
    ['ftp//user:secret@host/x?y', 'host/x'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('redacts every URL inside a message', () => {
    expect(redactUrlsIn('fetch https://a:b@x.org/u.csv?t=1 failed; see http://y.org/?k=2.')).toBe(
      'fetch https://x.org/u.csv failed; see http://y.org/',
    );
  });
});

describe('QualityGates', () => {
  it('accepts the defaults and refuses unknown keys', () => {
    expect(QualityGates.parse(DEFAULT_QUALITY_GATES)).toEqual(DEFAULT_QUALITY_GATES);
    expect(QualityGates.safeParse({ ...DEFAULT_QUALITY_GATES, maxMissing: 1 }).success).toBe(false);
  });
});
