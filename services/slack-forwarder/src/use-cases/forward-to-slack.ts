import { ConfigurationError, describeError, type Logger, type SecretReader, TransientError } from '@covid-etl/platform';
import { formatSlackMessage } from '../format.js';
import type { SlackPost } from '../webhook.js';

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
}

/**
 * Posts one SNS message to Slack: formats it, reads the webhook URL from the secret store
 * (at run time, cached by the reader) and posts it. Throws when the post fails, so Lambda's
 * asynchronous retries apply. The webhook URL is never logged nor put in an error message.
 */
export async function forwardToSlack(
  message: { subject?: string | null; message: string; messageId?: string },
  { secrets, webhookParameter, post, logger }: ForwardToSlackDeps,
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
    await post(url, formatted.slack);
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
