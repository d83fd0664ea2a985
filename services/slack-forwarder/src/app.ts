import type { HandlerOptions, Logger, SecretReader } from '@covid-etl/platform';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { SNSEvent } from 'aws-lambda';
import { forwardToSlack } from './use-cases/forward-to-slack.js';
import { createWebhookPoster, type SlackPost } from './webhook.js';

export type { FormattedMessage, SlackBlock, SlackMessage } from './format.js';
export { formatSlackMessage } from './format.js';
export { createWebhookPoster, SLACK_TIMEOUT_MS, type SlackPost, SlackRateLimitedError } from './webhook.js';

export interface SlackForwarderDeps {
  /** `SsmSecretReader` in AWS; locally a reader of `SLACK_WEBHOOK_URL`. */
  secrets: SecretReader;
  /** Name of the secret holding the incoming-webhook URL (the SSM parameter in AWS). */
  webhookParameter: string;
  /** Default: `createWebhookPoster()` (fetch, 5 s timeout). */
  post?: SlackPost;
  logger: Logger;
}

export type SlackForwarderHandler = MiddyfiedHandler<SNSEvent, void>;

/**
 * The slack-forwarder Lambda, subscribed to the notifications and alerts topics: posts each
 * SNS message to Slack (run notifications, CloudWatch alarms, anything else as text). A
 * failed post throws, so Lambda retries the asynchronous invocation (SNS delivers one record
 * an invocation).
 */
export function createHandler(deps: SlackForwarderDeps, options: HandlerOptions = {}): SlackForwarderHandler {
  const post = deps.post ?? createWebhookPoster();
  return middy<SNSEvent, void>({ timeoutEarlyInMillis: options.timeoutEarlyInMillis ?? 5 }).handler(
    async (event, context) => {
      for (const record of event.Records) {
        await forwardToSlack(
          { subject: record.Sns.Subject, message: record.Sns.Message, messageId: record.Sns.MessageId },
          {
            secrets: deps.secrets,
            webhookParameter: deps.webhookParameter,
            post,
            logger: deps.logger,
            remainingMs: () => context.getRemainingTimeInMillis(),
          },
        );
      }
    },
  );
}
