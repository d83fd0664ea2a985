import { DEFAULT_SOURCE_URLS } from '@covid-etl/contracts';
import { PermanentError } from '@covid-etl/platform';
import { describe, expect, it } from '@jest/globals';
import { resolveSourceUrls, SourceUrlRefusedError } from '../src/app.js';

const defaults = { nyt: DEFAULT_SOURCE_URLS.nyt, jhu: DEFAULT_SOURCE_URLS.jhu };

describe('resolveSourceUrls', () => {
  it('uses the configured defaults unless the input overrides a source', () => {
    // Act
    const none = resolveSourceUrls(undefined, defaults, 'prod');
    const one = resolveSourceUrls({ jhu: 'https://mirror.example.org/jhu.csv' }, defaults, 'prod');

    // Assess
    expect(none).toEqual(defaults);
    expect(one).toEqual({ nyt: defaults.nyt, jhu: 'https://mirror.example.org/jhu.csv' });
  });

  it.each(['local', 'dev', 'prod'])('accepts https:// in the %s environment', (environment) => {
    // Act
    const urls = resolveSourceUrls({ nyt: 'https://example.org/us.csv' }, defaults, environment);

    // Assess
    expect(urls.nyt).toBe('https://example.org/us.csv');
  });

  it.each([
    'file:///data/us.csv',
    'http://127.0.0.1:8080/us.csv',
    'http://localhost:8080/us.csv',
    'http://[::1]:8080/us.csv',
  ])('accepts %s only in the local environment', (url) => {
    // Act
    const local = resolveSourceUrls({ nyt: url }, defaults, 'local');
    const deployed = () => resolveSourceUrls({ nyt: url }, defaults, 'dev');

    // Assess
    expect(local.nyt).toBe(url);
    expect(deployed).toThrow(SourceUrlRefusedError);
    expect(deployed).toThrow(`nyt URL "${url}" is refused in the dev environment: only https:// URLs are accepted`);
  });

  it('refuses plain http to another host even locally, and says what is accepted', () => {
    // Act
    const refuse = () => resolveSourceUrls({ jhu: 'http://example.org/jhu.csv' }, defaults, 'local');

    // Assess
    expect(refuse).toThrow(PermanentError);
    expect(refuse).toThrow(
      'jhu URL "http://example.org/jhu.csv" is refused in the local environment: only https:// URLs, http://127.0.0.1 and file:// are accepted',
    );
  });

  it('refuses something that is not a URL, and other schemes', () => {
    // Act
    const notUrl = () => resolveSourceUrls({ nyt: 'us.csv' }, defaults, 'local');
    const ftp = () => resolveSourceUrls({ nyt: 'ftp://example.org/us.csv' }, defaults, 'prod');

    // Assess
    expect(notUrl).toThrow('nyt URL "us.csv" is not a URL (expected https://…, or file:// locally)');
    expect(ftp).toThrow(SourceUrlRefusedError);
  });
});
