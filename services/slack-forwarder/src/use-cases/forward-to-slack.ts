import { ConfigurationError, describeError, type Logger, type SecretReader, TransientError } from '@covid-etl/platform';
import { formatSlackMessage } from '../format.js';
import { SLACK_TIMEOUT_MS, type SlackPost, SlackRateLimitedError } from '../webhook.js';

/**
 * The value Terraform gives the webhook parameter until an operator sets the real URL
 * (terraform/modules/notifications): Slack is off, not broken.
 */
export const WEBHOOK_PLACEHOLDER = 'not-configured';

export interface ForwardToSlackDeps {
  secrets: SecretReader;
  /** Name of the secret (SSM parameter) holding the webhook URL. */
  webhookParameter: string;
  post: SlackPost;
  logger: Logger;
  /** Time left in the invocation (Lambda's `getRemainingTimeInMillis`); bounds a Retry-After wait. */
  remainingMs?: () => number;
}

/**
 * Posts one SNS message to Slack: formats it, reads the webhook URL from the secret store
 * (at run time, cached by the reader) and posts it. A 429 is retried once after its
 * `Retry-After` when that wait fits in the invocation's remaining time. Throws when the post
 * fails, so Lambda's asynchronous retries (and then its on-failure DLQ) apply. The webhook URL is never logged nor put in an error message.
 */
export async function forwardToSlack(
  message: { subject?: string | null; message: string; messageId?: string },
  { secrets, webhookParameter, post, logger, remainingMs }: ForwardToSlackDeps,
): Promise<void> {
  const formatted = formatSlackMessage(message);
  const log = logger.child({ runId: formatted.runId ?? null });
  let url: string | undefined;
  try {
    url = await secrets.read(webhookParameter);
    if (url === WEBHOOK_PLACEHOLDER) {
      log.warn(
        { kind: formatted.kind, snsMessageId: message.messageId },
        `Slack is not configured (${webhookParameter} holds the placeholder); nothing posted. Set it with: aws ssm put-parameter --overwrite --type SecureString --name ${webhookParameter} --value <webhook URL>`,
      );
      return;
    }
    assertWebhookUrl(url, webhookParameter);
    const target = url;
    await postHonouringRetryAfter(() => post(target, formatted.slack), remainingMs, log);
  } catch (error) {
    const safe = url ? redact(error, url) : error;
    log.error(
      { kind: formatted.kind, snsMessageId: message.messageId, error: describeError(safe) },
      'Slack post failed; Lambda retries the asynchronous invocation',
    );
    throw safe;
  }
  log.info({ kind: formatted.kind, snsMessageId: message.messageId }, 'Posted to Slack');
}

function assertWebhookUrl(url: string, parameter: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(`Secret ${parameter} does not hold a URL: set it to the Slack incoming-webhook URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ConfigurationError(`Secret ${parameter} does not hold an http(s) URL`);
  }
}

/** The same error, or a TransientError with the URL cut out when its message quotes the URL. */
function redact(error: unknown, url: string): unknown {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : error;
  if (typeof message !== 'string' || !message.includes(url)) return error;
  return new TransientError(message.split(url).join('[webhook URL]'));
}

/** Keeps time for one more post (its timeout) and for the error to be logged. */
const RETRY_MARGIN_MS = SLACK_TIMEOUT_MS + 1000;

/**
 * Posts; on a 429 waits `Retry-After` and posts once more, but only when the wait ends before
 * the invocation's time runs out (less a margin). Otherwise the 429 is thrown at once: the
 * delivery fails and Lambda retries it later.
 */
async function postHonouringRetryAfter(
  postOnce: () => Promise<void>,
  remainingMs: (() => number) | undefined,
  log: Logger,
): Promise<void> {
  try {
    await postOnce();
  } catch (error) {
    if (!(error instanceof SlackRateLimitedError)) throw error;
    const left = (remainingMs?.() ?? 0) - RETRY_MARGIN_MS;
    if (error.retryAfterMs > left) {
      throw new SlackRateLimitedError(
        `${error.message}: more than the ${Math.max(0, Math.floor(left / 1000))} s left in this invocation; the delivery fails and is retried later`,
        error.retryAfterMs,
      );
    }
    log.warn(
      { retryAfterMs: error.retryAfterMs },
      'Slack rate-limited the post; waiting Retry-After, then posting again',
    );
    await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
    await postOnce();
  }
}
