import { describe, expect, it } from '@jest/globals';
import { HttpSourceDownloader, isInternalAddress, SourceUrlRefusedError, UrlPolicy } from '../src/app.js';

/** A fetch that answers from a table of URL → Response factories, recording what was requested. */
function fakeFetch(routes: Record<string, () => Response>) {
  const requested: string[] = [];
  const impl = (async (url: string | URL, init?: RequestInit) => {
    requested.push(String(url));
    expect(init?.redirect).toBe('manual');
    const route = routes[String(url)];
    return route ? route() : new Response('not found', { status: 404 });
  }) as typeof fetch;
  return { impl, requested };
}

const redirect =
  (location: string, status = 302) =>
  () =>
    new Response(null, { status, headers: { location } });
const ok = () => new Response('date,cases,deaths\n2020-03-01,1,0\n', { status: 200 });
const publicDns = async (host: string) => (host === 'internal.example.org' ? ['10.0.0.5'] : ['185.199.108.133']);
const dev = (allowedHosts?: string[]) => new UrlPolicy({ environment: 'dev', resolve: publicDns, allowedHosts });

describe('the URL policy on every redirect hop (deployed environment)', () => {
  it.each([
    [
      'to http',
      'http://data.example.org/us.csv',
      /is refused in the dev environment: only https:\/\/ URLs are accepted/,
    ],
    [
      'to a host resolving to a private address',
      'https://internal.example.org/us.csv',
      /host internal\.example\.org resolves to 10\.0\.0\.5, a loopback, private or link-local address/,
    ],
    ['to the link-local metadata address', 'https://169.254.169.254/latest/', /resolves to 169\.254\.169\.254/],
    ['to loopback', 'https://127.0.0.1/us.csv', /resolves to 127\.0\.0\.1/],
    ['to a local file', 'file:///etc/passwd', /is refused in the dev environment/],
  ])('refuses a redirect %s without requesting it', async (_name, location, message) => {
    // Prepare
    const { impl, requested } = fakeFetch({ 'https://data.example.org/us.csv?token=abc': redirect(location) });
    const downloader = new HttpSourceDownloader({ fetch: impl, policy: dev(), maxAttempts: 1 });

    // Act
    const downloading = downloader.download({ id: 'nyt', url: 'https://data.example.org/us.csv?token=abc' });

    // Assess
    await expect(downloading).rejects.toThrow(SourceUrlRefusedError);
    await expect(downloading).rejects.toThrow(message);
    await expect(downloading).rejects.toThrow(/\(redirect 1 from https:\/\/data\.example\.org\/us\.csv\)/);
    expect(requested).toEqual(['https://data.example.org/us.csv?token=abc']);
  });

  it('refuses a redirect to a host outside the allow-list', async () => {
    // Prepare
    const { impl } = fakeFetch({ 'https://data.example.org/us.csv': redirect('https://elsewhere.example.net/us.csv') });
    const downloader = new HttpSourceDownloader({ fetch: impl, policy: dev(['data.example.org']), maxAttempts: 1 });

    // Act
    const downloading = downloader.download({ id: 'nyt', url: 'https://data.example.org/us.csv' });

    // Assess
    await expect(downloading).rejects.toThrow(
      'host elsewhere.example.net is not in the allowed hosts (data.example.org)',
    );
  });

  it('follows up to 5 redirects within the policy and refuses a sixth', async () => {
    // Prepare
    const hop = (n: number) => `https://data.example.org/${n}.csv`;
    const five = fakeFetch({
      [hop(0)]: redirect(hop(1), 301),
      [hop(1)]: redirect(hop(2), 307),
      [hop(2)]: redirect(hop(3), 308),
      [hop(3)]: redirect(hop(4), 303),
      [hop(4)]: redirect(hop(5)),
      [hop(5)]: ok,
    });
    const six = fakeFetch({ ...Object.fromEntries([0, 1, 2, 3, 4, 5].map((n) => [hop(n), redirect(hop(n + 1))])) });

    // Act
    const followed = await new HttpSourceDownloader({ fetch: five.impl, policy: dev() }).download({
      id: 'nyt',
      url: hop(0),
    });
    const refused = new HttpSourceDownloader({ fetch: six.impl, policy: dev(), maxAttempts: 1 }).download({
      id: 'nyt',
      url: hop(0),
    });

    // Assess
    expect(followed.status).toBe('ok');
    expect(five.requested).toHaveLength(6);
    await expect(refused).rejects.toThrow('redirected more than 5 times');
    expect(six.requested).toHaveLength(6);
    if (followed.status === 'ok') await followed.dispose();
  });

  it('refuses a first URL whose host resolves to a private address', async () => {
    // Prepare
    const { impl, requested } = fakeFetch({});
    const downloader = new HttpSourceDownloader({ fetch: impl, policy: dev(), maxAttempts: 1 });

    // Act
    const downloading = downloader.download({ id: 'jhu', url: 'https://internal.example.org/jhu.csv' });

    // Assess
    await expect(downloading).rejects.toThrow(/resolves to 10\.0\.0\.5/);
    expect(requested).toEqual([]);
  });
});

describe('isInternalAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['::1', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['185.199.108.133', false],
    ['2606:50c0:8000::154', false],
  ])('%s → %s', (address, internal) => {
    expect(isInternalAddress(address)).toBe(internal);
  });
});
