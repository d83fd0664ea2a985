import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { type DownloadedSource, HttpSourceDownloader, SourceUnavailableError } from '../src/source-downloader.js';

type Route = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;

/** A local HTTP server on 127.0.0.1 whose answer to the n-th request is `route(req, res, n)`. */
async function serve(route: Route): Promise<{ url: string; requests: IncomingMessage['headers'][]; server: Server }> {
  const requests: IncomingMessage['headers'][] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    route(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/us.csv`, requests, server };
}

const servers: Server[] = [];
const BODY = 'date,cases,deaths\n2020-03-01,10,1\n2020-03-02,12,1\n';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const fast = { baseDelayMs: 1, timeoutMs: 2_000 };

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('HttpSourceDownloader over HTTP', () => {
  it('retries 503 and 429 answers, then saves the body with its sha256 and validators', async () => {
    // Prepare
    const { url, requests } = await serve((_req, res, attempt) => {
      if (attempt === 1) res.writeHead(503).end('busy');
      else if (attempt === 2) res.writeHead(429).end('slow down');
      else res.writeHead(200, { etag: '"v1"', 'last-modified': 'Tue, 24 Nov 2026 10:00:00 GMT' }).end(BODY);
    });
    const downloader = new HttpSourceDownloader({ ...fast, maxAttempts: 4 });

    // Act
    const result = (await downloader.download({ id: 'nyt', url })) as DownloadedSource;

    // Assess
    expect(requests).toHaveLength(3);
    expect(result).toMatchObject({
      status: 'ok',
      sha256: sha256(BODY),
      bytes: Buffer.byteLength(BODY),
      etag: '"v1"',
      lastModified: 'Tue, 24 Nov 2026 10:00:00 GMT',
    });
    expect(readFileSync(result.file, 'utf8')).toBe(BODY);
    await result.dispose();
    expect(existsSync(result.file)).toBe(false);
  });

  it('does not retry a 404, and names the URL and the status', async () => {
    // Prepare
    const { url, requests } = await serve((_req, res) => res.writeHead(404).end('not found'));
    const downloader = new HttpSourceDownloader({ ...fast, maxAttempts: 4 });

    // Act
    const download = downloader.download({ id: 'jhu', url });

    // Assess
    await expect(download).rejects.toThrow(SourceUnavailableError);
    await expect(download).rejects.toThrow(`jhu: ${url} answered HTTP 404 Not Found`);
    expect(requests).toHaveLength(1);
  });

  it('gives up after the attempts when the server does not answer in time', async () => {
    // Prepare: the server accepts the request and never answers.
    const { url, requests } = await serve(() => undefined);
    const downloader = new HttpSourceDownloader({ baseDelayMs: 1, timeoutMs: 150, maxAttempts: 2 });

    // Act
    const started = Date.now();
    const download = downloader.download({ id: 'nyt', url });

    // Assess
    await expect(download).rejects.toThrow(`nyt: could not download ${url} after 2 attempts: timed out`);
    expect(requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('times out a body that stalls after the headers', async () => {
    // Prepare: headers and a first piece of the body, then silence.
    const { url, requests } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 1_000 });
      res.write(BODY);
    });
    const downloader = new HttpSourceDownloader({ baseDelayMs: 1, timeoutMs: 150, maxAttempts: 2 });

    // Act
    const download = downloader.download({ id: 'jhu', url });

    // Assess
    await expect(download).rejects.toThrow(
      `jhu: could not download ${url} after 2 attempts: download of ${url} broke off: timed out`,
    );
    expect(requests).toHaveLength(2);
  });

  it('refuses a body whose declared size is over the limit, without retrying', async () => {
    // Prepare
    const { url, requests } = await serve((_req, res) =>
      res.writeHead(200, { 'content-length': 1_000 }).end('x'.repeat(1_000)),
    );
    const downloader = new HttpSourceDownloader({ ...fast, maxBytes: 100 });

    // Act
    const download = downloader.download({ id: 'nyt', url });

    // Assess
    await expect(download).rejects.toThrow(SourceUnavailableError);
    await expect(download).rejects.toThrow(`${url} is 1000 bytes; the limit is 100 (MAX_SOURCE_BYTES)`);
    expect(requests).toHaveLength(1);
  });

  it('stops a streamed body (no content-length) as soon as it exceeds the limit', async () => {
    // Prepare: chunked transfer encoding, 10 chunks of 50 bytes.
    const { url, requests } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      for (let i = 0; i < 10; i += 1) res.write('y'.repeat(50));
      res.end();
    });
    const downloader = new HttpSourceDownloader({ ...fast, maxBytes: 120 });

    // Act
    const download = downloader.download({ id: 'jhu', url });

    // Assess
    await expect(download).rejects.toThrow(SourceUnavailableError);
    await expect(download).rejects.toThrow(`${url} is larger than the limit of 120 bytes`);
    expect(requests).toHaveLength(1);
  });

  it('sends If-None-Match and If-Modified-Since and answers not-modified on 304', async () => {
    // Prepare
    const { url, requests } = await serve((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') res.writeHead(304, { etag: '"v1"' }).end();
      else res.writeHead(200, { etag: '"v1"' }).end(BODY);
    });
    const downloader = new HttpSourceDownloader(fast);

    // Act
    const result = await downloader.download({
      id: 'nyt',
      url,
      etag: '"v1"',
      lastModified: 'Tue, 24 Nov 2026 10:00:00 GMT',
    });

    // Assess
    expect(result).toEqual({ status: 'not-modified' });
    expect(requests[0]).toMatchObject({
      'if-none-match': '"v1"',
      'if-modified-since': 'Tue, 24 Nov 2026 10:00:00 GMT',
    });
  });

  it('retries a body that broke off halfway and succeeds on the next attempt', async () => {
    // Prepare
    const { url, requests } = await serve((_req, res, attempt) => {
      res.writeHead(200, { 'content-length': Buffer.byteLength(BODY) });
      if (attempt === 1) {
        res.write(BODY.slice(0, 10));
        setTimeout(() => res.destroy(), 20);
      } else {
        res.end(BODY);
      }
    });
    const downloader = new HttpSourceDownloader(fast);

    // Act
    const result = (await downloader.download({ id: 'nyt', url })) as DownloadedSource;

    // Assess
    expect(requests).toHaveLength(2);
    expect(result.sha256).toBe(sha256(BODY));
    await result.dispose();
  });

  it('names the URL in a SourceUnavailableError after N failed connections', async () => {
    // Prepare: a port nobody listens on any more.
    const { url, server } = await serve(() => undefined);
    servers.pop();
    await new Promise((resolve) => server.close(resolve));
    const downloader = new HttpSourceDownloader({ ...fast, maxAttempts: 3 });

    // Act
    const download = downloader.download({ id: 'jhu', url });

    // Assess
    await expect(download).rejects.toMatchObject({
      name: 'SourceUnavailableError',
      source: 'jhu',
      message: expect.stringMatching(new RegExp(`^jhu: could not download ${url} after 3 attempts: .*ECONNREFUSED`)),
    });
  });
});

describe('HttpSourceDownloader with file:// URLs', () => {
  it('reads a local file in place, hashes it, and refuses a missing one', async () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'fetcher-test-'));
    const file = path.join(dir, 'us.csv');
    writeFileSync(file, BODY);
    const downloader = new HttpSourceDownloader({ maxBytes: 1_000 });

    // Act
    const result = (await downloader.download({ id: 'nyt', url: pathToFileURL(file).href })) as DownloadedSource;
    await result.dispose();
    const missing = downloader.download({ id: 'nyt', url: pathToFileURL(path.join(dir, 'gone.csv')).href });

    // Assess
    expect(result).toMatchObject({ status: 'ok', file, sha256: sha256(BODY), bytes: Buffer.byteLength(BODY) });
    expect(existsSync(file)).toBe(true);
    await expect(missing).rejects.toThrow(SourceUnavailableError);
    await expect(missing).rejects.toThrow('gone.csv');
    rmSync(dir, { recursive: true, force: true });
  });
});
