import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a route serves: a file's bytes, an inline body, or an HTTP error. */
export type Route = { file: string } | { body: string; contentType?: string } | { status: number; body?: string };

export interface SourceServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  url(path: string): string;
  /** Replaces what a path serves. */
  set(path: string, route: Route): void;
  /** Requests seen, with their conditional headers and the status answered. */
  readonly requests: Array<{ path: string; ifNoneMatch?: string; status: number }>;
  close(): Promise<void>;
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
    const answer = (status: number) => requests.push({ path, ...(ifNoneMatch ? { ifNoneMatch } : {}), status });
    if (!route) {
      answer(404);
      res.writeHead(404).end('not found');
      return;
    }
    if ('status' in route) {
      answer(route.status);
      res.writeHead(route.status, { 'content-type': 'text/html' }).end(route.body ?? '');
      return;
    }
    const body = 'file' in route ? readFileSync(route.file) : Buffer.from(route.body);
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
    if (ifNoneMatch === etag) {
      answer(304);
      res.writeHead(304, { etag }).end();
      return;
    }
    answer(200);
    res
      .writeHead(200, {
        etag,
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
