import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a body route misbehaves or what it adds, for the source-trust tests. */
export interface RouteOptions {
  /** Sends this Last-Modified and answers a matching If-Modified-Since with 304 (as many servers do). */
  lastModified?: string;
  /** Sends only the first N lines, with no Content-Length, then closes the connection at that line end. */
  truncateAfterLines?: number;
}

/**
 * What a route serves: a file's bytes (read again on every request, so a test may rewrite the
 * file), an inline body (its bytes and ETag computed once per route object: a benchmark's
 * timings then hold no hashing that a real server does on its side), an HTTP error, or a redirect.
 */
export type Route =
  | ({ file: string } & RouteOptions)
  | ({ body: string | Uint8Array; contentType?: string } & RouteOptions)
  | { status: number; body?: string }
  | { redirect: string; status?: 301 | 302 | 303 | 307 | 308 };

export interface SourceServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  url(path: string): string;
  /** Replaces what a path serves. */
  set(path: string, route: Route): void;
  /** Requests seen, with their conditional headers and the status answered. */
  readonly requests: Array<{ path: string; ifNoneMatch?: string; ifModifiedSince?: string; status: number }>;
  close(): Promise<void>;
}

const inlineBodies = new WeakMap<object, { body: Buffer; etag: string }>();

function inlineBody(route: { body: string | Uint8Array }): { body: Buffer; etag: string } {
  let served = inlineBodies.get(route);
  if (!served) {
    served = withEtag(typeof route.body === 'string' ? Buffer.from(route.body) : Buffer.from(route.body));
    inlineBodies.set(route, served);
  }
  return served;
}

function withEtag(body: Buffer): { body: Buffer; etag: string } {
  return { body, etag: `"${createHash('sha1').update(body).digest('hex')}"` };
}

/**
 * A local HTTP server standing in for the two public sources in tests: serves files or inline
 * bodies with a strong ETag and answers `If-None-Match` with 304, like raw.githubusercontent.com.
 * Listens on 127.0.0.1 only.
 */
export async function startSourceServer(routes: Record<string, Route> = {}): Promise<SourceServer> {
  const table = new Map(Object.entries(routes));
  const requests: SourceServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const route = table.get(path);
    const ifNoneMatch = req.headers['if-none-match'];
    const ifModifiedSince = req.headers['if-modified-since'];
    const answer = (status: number) =>
      requests.push({
        path,
        ...(ifNoneMatch ? { ifNoneMatch } : {}),
        ...(ifModifiedSince ? { ifModifiedSince } : {}),
        status,
      });
    if (!route) {
      answer(404);
      res.writeHead(404).end('not found');
      return;
    }
    if ('redirect' in route) {
      answer(route.status ?? 302);
      res.writeHead(route.status ?? 302, { location: route.redirect }).end();
      return;
    }
    if ('status' in route) {
      answer(route.status);
      res.writeHead(route.status, { 'content-type': 'text/html' }).end(route.body ?? '');
      return;
    }
    const { body, etag } = 'file' in route ? withEtag(readFileSync(route.file)) : inlineBody(route);
    const lastModified = route.lastModified ? { 'last-modified': route.lastModified } : {};
    if (ifNoneMatch === etag || (route.lastModified && ifModifiedSince === route.lastModified)) {
      answer(304);
      res.writeHead(304, { etag, ...lastModified }).end();
      return;
    }
    answer(200);
    if (route.truncateAfterLines !== undefined) {
      // No Content-Length: the body ends when the connection closes, here at a line end.
      const text = body.toString('utf8').split('\n');
      const cut = `${text.slice(0, route.truncateAfterLines).join('\n')}\n`;
      (res as unknown as { useChunkedEncodingByDefault: boolean }).useChunkedEncodingByDefault = false;
      res.writeHead(200, { etag, ...lastModified, 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(cut);
      return;
    }
    res
      .writeHead(200, {
        etag,
        ...lastModified,
        'content-type': 'contentType' in route && route.contentType ? route.contentType : 'text/plain; charset=utf-8',
        'content-length': body.length,
      })
      .end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    url: (path) => `${baseUrl}${path}`,
    set: (path, route) => {
      table.set(path, route);
    },
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
