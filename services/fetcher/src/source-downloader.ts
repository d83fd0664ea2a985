import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { redactUrl, redactUrlsIn, type SourceId } from '@covid-etl/contracts';
import { backoffDelay, PermanentError, recordCosts, sleep, TransientError } from '@covid-etl/platform';
import { DEFAULT_MAX_SOURCE_BYTES } from './geo-config.js';
import { SourceUrlRefusedError, UrlPolicy } from './url-policy.js';

/** Redirects followed at most per request (each hop re-checked by the URL policy). */
export const MAX_REDIRECTS = 5;

/** What to download, with the validators of the last successful run for a conditional request. */
export interface SourceRequest {
  id: SourceId;
  url: string;
  etag?: string;
  lastModified?: string;
  /**
   * Epoch ms by which the download must have ended, retries included: attempts are cut to
   * it and no retry starts that could not end before it.
   */
  deadline?: number;
}

/** A downloaded source: a local file to parse, its digest and the server's validators. */
export interface DownloadedSource {
  status: 'ok';
  file: string;
  sha256: string;
  bytes: number;
  etag?: string;
  lastModified?: string;
  /** Deletes the temporary copy (a no-op for file:// sources). */
  dispose(): Promise<void>;
}

export type SourceResponse = { status: 'not-modified' } | DownloadedSource;

/** Downloads one source. */
export interface SourceDownloader {
  download(request: SourceRequest): Promise<SourceResponse>;
}

/** A source could not be downloaded (after retries, or a permanent HTTP error). */
export class SourceUnavailableError extends PermanentError {
  constructor(
    readonly source: SourceId,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'SourceUnavailableError';
  }
}

export interface HttpSourceDownloaderOptions {
  /** Whole-download timeout per attempt. */
  timeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  /** Largest body accepted; the download stops as soon as it is exceeded. */
  maxBytes?: number;
  /** Checked on the first URL and on every redirect hop; default: the `local` rules. */
  policy?: UrlPolicy;
  fetch?: typeof fetch;
}

/**
 * Downloads over HTTP(S) into a temporary file while hashing it, with a timeout per attempt,
 * bounded retries with full-jitter backoff on network errors, 429 and 5xx, a maximum body size,
 * and conditional requests (If-None-Match / If-Modified-Since). Redirects are followed by hand,
 * at most {@link MAX_REDIRECTS}, and the URL policy is checked on every hop (on the resolved
 * address) before it is requested. `file://` URLs are read in place (where the policy allows
 * them). Memory stays flat: the body streams to disk. URLs in errors are redacted.
 */
export class HttpSourceDownloader implements SourceDownloader {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxBytes: number;
  private readonly fetchImpl: typeof fetch;
  private readonly policy: UrlPolicy;

  constructor(options: HttpSourceDownloaderOptions = {}) {
    this.policy = options.policy ?? new UrlPolicy({ environment: 'local' });
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_SOURCE_BYTES;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async download(request: SourceRequest): Promise<SourceResponse> {
    await this.policy.check(request.id, request.url);
    if (request.url.startsWith('file:')) return this.readLocalFile(request);
    let lastError: unknown;
    let attempts = 0;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      if (attempt > 1) {
        const delay = backoffDelay(attempt - 1, this.baseDelayMs, 10_000);
        if (request.deadline !== undefined && Date.now() + delay >= request.deadline) break;
        await sleep(delay);
      }
      const timeoutMs =
        request.deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, request.deadline - Date.now());
      if (timeoutMs <= 0) break;
      attempts = attempt;
      try {
        return await this.attempt(request, timeoutMs);
      } catch (error) {
        if (!(error instanceof TransientError)) throw error;
        lastError = error;
      }
    }
    const why = lastError ? (lastError as Error).message : 'no time left';
    const outOfTime = attempts < this.maxAttempts ? " (stopped early: the fetcher's time limit was near)" : '';
    throw new SourceUnavailableError(
      request.id,
      `could not download ${redactUrl(request.url)} after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}: ${why}${outOfTime}`,
      { cause: lastError },
    );
  }

  private async attempt(request: SourceRequest, timeoutMs: number): Promise<SourceResponse> {
    const headers: Record<string, string> = { 'user-agent': 'covid-etl', 'accept-encoding': 'gzip' };
    if (request.etag) headers['if-none-match'] = request.etag;
    if (request.lastModified) headers['if-modified-since'] = request.lastModified;
    let url = request.url;
    let response: Response;
    for (let hop = 0; ; hop += 1) {
      try {
        response = await this.fetchImpl(withoutCredentials(url), {
          headers: { ...headers, ...basicAuthorization(url) },
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new TransientError(describeFetchError(error), { cause: error });
      }
      const location = response.headers.get('location');
      if (response.status < 300 || response.status > 399 || response.status === 304 || !location) break;
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) {
        throw new SourceUnavailableError(
          request.id,
          `${redactUrl(request.url)} redirected more than ${MAX_REDIRECTS} times (last to ${redactUrl(location)})`,
        );
      }
      let next: string;
      try {
        next = new URL(location, url).href;
      } catch {
        throw new SourceUrlRefusedError(`${request.id}: redirect to "${redactUrl(location)}" is not a URL`);
      }
      await this.policy.check(request.id, next, `redirect ${hop + 1} from ${redactUrl(url)}`);
      // Credentials of the URL go to its own origin only, never along a redirect to another one.
      url = new URL(next).origin === new URL(url).origin ? withCredentialsOf(url, next) : next;
    }
    if (response.status === 304) return { status: 'not-modified' };
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel();
      throw new TransientError(`HTTP ${response.status} ${response.statusText}`);
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new SourceUnavailableError(
        request.id,
        `${redactUrl(url)} answered HTTP ${response.status} ${response.statusText}`,
      );
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > this.maxBytes) {
      await response.body.cancel();
      throw new SourceUnavailableError(
        request.id,
        `${redactUrl(url)} is ${declared} bytes; the limit is ${this.maxBytes} (MAX_SOURCE_BYTES)`,
      );
    }
    const dir = await mkdtemp(path.join(tmpdir(), `covid-etl-${request.id}-`));
    const file = path.join(dir, 'body.csv');
    const dispose = () => rm(dir, { recursive: true, force: true });
    try {
      const { sha256, bytes } = await this.saveHashed(
        Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
        file,
        request,
      );
      return {
        status: 'ok',
        file,
        sha256,
        bytes,
        etag: response.headers.get('etag') ?? undefined,
        lastModified: response.headers.get('last-modified') ?? undefined,
        dispose,
      };
    } catch (error) {
      await dispose();
      if (error instanceof SourceUnavailableError) throw error;
      throw new TransientError(`download of ${redactUrl(url)} broke off: ${describeFetchError(error)}`, {
        cause: error,
      });
    }
  }

  private async saveHashed(
    body: Readable,
    file: string,
    request: SourceRequest,
  ): Promise<{ sha256: string; bytes: number }> {
    const hash = createHash('sha256');
    let bytes = 0;
    const maxBytes = this.maxBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          callback(
            new SourceUnavailableError(
              request.id,
              `${redactUrl(request.url)} is larger than the limit of ${maxBytes} bytes`,
            ),
          );
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(file));
    } finally {
      // A cost driver of the run: every byte received, a download that broke off included.
      recordCosts({ bytesDownloaded: bytes });
    }
    return { sha256: hash.digest('hex'), bytes };
  }

  private async readLocalFile(request: SourceRequest): Promise<SourceResponse> {
    const file = fileURLToPath(request.url);
    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new SourceUnavailableError(request.id, `${file} is not a file (a directory?)`);
      size = info.size;
    } catch (error) {
      if (error instanceof SourceUnavailableError) throw error;
      throw new SourceUnavailableError(request.id, `cannot read ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (size > this.maxBytes) {
      throw new SourceUnavailableError(
        request.id,
        `${file} is ${size} bytes; the limit is ${this.maxBytes} (MAX_SOURCE_BYTES)`,
      );
    }
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    recordCosts({ bytesDownloaded: size });
    return { status: 'ok', file, sha256: hash.digest('hex'), bytes: size, dispose: async () => undefined };
  }
}

/** `fetch` refuses URLs with `user:password@`: they travel as an Authorization header instead. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

function basicAuthorization(url: string): Record<string, string> {
  const { username, password } = new URL(url);
  if (!username && !password) return {};
  const pair = `${decodeURIComponent(username)}:${decodeURIComponent(password)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

function withCredentialsOf(from: string, to: string): string {
  const source = new URL(from);
  const target = new URL(to);
  if (target.username || target.password) return to;
  target.username = source.username;
  target.password = source.password;
  return target.href;
}

function describeFetchError(error: unknown): string {
  // Duck-typed: fetch's errors come from another realm under a VM (jest), where `instanceof Error` fails.
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { name, message, cause } = error as { name?: unknown; message: unknown; cause?: { code?: string } };
    if (name === 'TimeoutError') return 'timed out';
    return redactUrlsIn(cause?.code ? `${String(message)} (${cause.code})` : String(message));
  }
  return redactUrlsIn(String(error));
}
