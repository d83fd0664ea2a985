import { TransientError } from '@covid-etl/platform';
import type { SlackMessage } from './format.js';

/** Slack answered 429: it asks to wait `retryAfterMs` (from `Retry-After`) before posting again. */
export class SlackRateLimitedError extends TransientError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'SlackRateLimitedError';
  }
}

/** `Retry-After` in ms (delta-seconds or an HTTP date); 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (!header) return 1000;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now);
}

/** Posts one message to a Slack incoming webhook; throws when Slack did not accept it. */
export type SlackPost = (url: string, payload: SlackMessage) => Promise<void>;

/** How long to wait for Slack's answer. */
export const SLACK_TIMEOUT_MS = 5000;

/**
 * The default `SlackPost`: `fetch` POST of the JSON payload with a timeout. A network error,
 * a timeout or a non-2xx answer throws a `TransientError` that names the cause (the HTTP
 * status and Slack's short error text) but never the webhook URL, which is a secret.
 */
export function createWebhookPoster({ timeoutMs = SLACK_TIMEOUT_MS }: { timeoutMs?: number } = {}): SlackPost {
  return async (url, payload) => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new TransientError(`Slack webhook request failed: ${networkFailure(error, timeoutMs)}`);
    }
    const answer = await response.text().catch(() => '');
    if (response.status === 429) {
      const wait = retryAfterMs(response.headers.get('retry-after'));
      throw new SlackRateLimitedError(
        `Slack webhook answered HTTP 429 (rate limited; Retry-After ${wait / 1000} s)`,
        wait,
      );
    }
    if (!response.ok) {
      const detail = shortAnswer(answer, url);
      throw new TransientError(`Slack webhook answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`);
    }
  };
}

/**
 * The kind of network failure (an error code or name), never the error's message, which may
 * quote the URL. Duck-typed: fetch's errors may come from another realm (a test VM).
 */
function networkFailure(error: unknown, timeoutMs: number): string {
  const { name, cause } = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    cause?: { code?: unknown };
  };
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  if (typeof cause?.code === 'string') return cause.code;
  return typeof name === 'string' ? name : 'unknown error';
}

/** Slack's error text (`invalid_payload`, `no_service`, ...), on one line, short, without the URL. */
function shortAnswer(answer: string, url: string): string {
  const line = answer.split(url).join('[webhook URL]').replace(/\s+/g, ' ').trim();
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}
