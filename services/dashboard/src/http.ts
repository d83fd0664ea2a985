import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type Result = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };

/** Headers on every answer. */
const BASE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The page loads only its own script, style sheet, icon and API: nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Bodies smaller than this are sent as they are. */
const GZIP_MIN_BYTES = 1024;

export interface Body {
  contentType: string;
  body: string;
  cacheControl: string;
  /** Precomputed gzip of `body` (static assets); computed on the fly otherwise. */
  gzipped?: Buffer;
  extraHeaders?: Record<string, string>;
}

/**
 * A 200 answer with a weak ETag of the body (`If-None-Match` → 304 without body), gzip when
 * the client accepts it and the body is worth it (Lambda function URLs do not compress), and
 * no body for HEAD.
 */
export function ok(event: APIGatewayProxyEventV2, content: Body): Result {
  const etag = `W/"${createHash('sha256').update(content.body).digest('base64url').slice(0, 27)}"`;
  const headers: Record<string, string> = {
    ...BASE_HEADERS,
    'content-type': content.contentType,
    'cache-control': content.cacheControl,
    etag,
    vary: 'accept-encoding',
    ...content.extraHeaders,
  };
  if (matchesEtag(header(event, 'if-none-match'), etag)) {
    return { statusCode: 304, headers, body: '' };
  }
  const head = event.requestContext.http.method === 'HEAD';
  const size = Buffer.byteLength(content.body);
  if (size >= GZIP_MIN_BYTES && acceptsGzip(header(event, 'accept-encoding'))) {
    const zipped = content.gzipped ?? gzipSync(content.body);
    return {
      statusCode: 200,
      headers: { ...headers, 'content-encoding': 'gzip' },
      body: head ? '' : zipped.toString('base64'),
      isBase64Encoded: !head,
    };
  }
  return { statusCode: 200, headers, body: head ? '' : content.body };
}

/** An error answer: `{ "error": "<message>" }`, never cached. */
export function error(statusCode: number, message: string, extraHeaders: Record<string, string> = {}): Result {
  return {
    statusCode,
    headers: {
      ...BASE_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...extraHeaders,
    },
    body: JSON.stringify({ error: message }),
  };
}

/** A request header by name (function URLs deliver them lowercased). */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  return event.headers?.[name] ?? undefined;
}

function acceptsGzip(value: string | undefined): boolean {
  if (!value) return false;
  return value.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return (coding === 'gzip' || coding === '*') && !(q && Number(q.slice(2)) === 0);
  });
}

function matchesEtag(value: string | undefined, etag: string): boolean {
  if (!value) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return value.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}
