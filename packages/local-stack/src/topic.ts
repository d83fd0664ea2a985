import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Context, SNSEvent } from 'aws-lambda';
import MailComposer from 'nodemailer/lib/mail-composer';
import { type Clock, systemClock } from './clock.js';
import { TopicRequestError } from './errors.js';
import { lambdaContext } from './lambda-context.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './queue.js';

/** SNS's message size limit (256 KiB). */
export const MAX_SNS_MESSAGE_BYTES = 262_144;
/** The subject must be shorter than this. */
export const MAX_SNS_SUBJECT_LENGTH = 100;
/** Lambda retries an asynchronous invocation twice: three attempts in all. */
export const SNS_LAMBDA_ATTEMPTS = 3;

export interface PublishInput {
  readonly Subject?: string;
  readonly Message: string;
  /** `json`: `Message` is a JSON object with a `default` body and optional per-protocol bodies. */
  readonly MessageStructure?: string;
}

export interface PublishResult {
  readonly MessageId: string;
}

/** A Lambda subscribed to the topic. */
export type SnsLambdaHandler = (event: SNSEvent, context: Context) => unknown;

/** A delivery that failed for good (for a Lambda: after its three attempts). */
export interface FailedTopicDelivery {
  readonly protocol: 'email' | 'lambda';
  readonly endpoint: string;
  readonly messageId: string;
  readonly error: unknown;
}

export interface LocalTopicOptions {
  readonly name: string;
  readonly clock?: Clock;
  /** The `From:` of the emails; default `AWS Notifications <no-reply@sns.local>`. */
  readonly emailFrom?: string;
}

interface Subscription {
  readonly protocol: 'email' | 'lambda';
  readonly endpoint: string;
  readonly arn: string;
  deliver(message: Delivery): Promise<void>;
}

interface Delivery {
  readonly messageId: string;
  readonly subject: string | undefined;
  readonly body: string;
  readonly timestamp: number;
}

let fileSequence = 0;

/**
 * An SNS standard topic in this process. `publish` validates as SNS does and delivers to
 * every subscription before it returns: email subscriptions write one RFC 5322 `.eml` file
 * per message and address into their outbox folder; Lambda subscriptions are invoked with a
 * real-shaped `SNSEvent` (up to 3 attempts, like an asynchronous invocation). A failed
 * delivery never fails the publish; it is recorded in `failedDeliveries`. Subscriptions are
 * confirmed at once (real email subscriptions wait for a click).
 */
export class LocalTopic {
  readonly name: string;
  readonly arn: string;
  readonly clock: Clock;
  readonly failedDeliveries: FailedTopicDelivery[] = [];
  /** Every accepted publish, in order. */
  readonly published: Array<PublishInput & { readonly MessageId: string }> = [];
  readonly #emailFrom: string;
  readonly #subscriptions: Subscription[] = [];

  constructor(options: LocalTopicOptions) {
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(options.name)) {
      throw new TopicRequestError('InvalidParameter', `Invalid parameter: Topic Name "${options.name}"`);
    }
    this.name = options.name;
    this.arn = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${options.name}`;
    this.clock = options.clock ?? systemClock;
    this.#emailFrom = options.emailFrom ?? 'AWS Notifications <no-reply@sns.local>';
  }

  /**
   * Subscribes an email address: each publish writes `<outboxDir>/<time>-<seq>-<subject>.eml`
   * (names sort by time) with the `email` body of a JSON-structured message, else `default`.
   * Returns the subscription ARN.
   */
  subscribeEmail(outboxDir: string, address: string): string {
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(address)) {
      throw new TopicRequestError('InvalidParameter', `Invalid parameter: Email address "${address}"`);
    }
    const arn = `${this.arn}:${randomUUID()}`;
    this.#subscriptions.push({
      protocol: 'email',
      endpoint: address,
      arn,
      deliver: (delivery) => this.#writeEmail(outboxDir, address, arn, delivery),
    });
    return arn;
  }

  /** Subscribes a Lambda handler; it gets the `lambda` body of a JSON-structured message, else `default`. Returns the subscription ARN. */
  subscribeLambda(handler: SnsLambdaHandler, functionName = `${this.name}-subscriber`): string {
    const arn = `${this.arn}:${randomUUID()}`;
    this.#subscriptions.push({
      protocol: 'lambda',
      endpoint: functionName,
      arn,
      deliver: (delivery) => this.#invokeLambda(handler, functionName, arn, delivery),
    });
    return arn;
  }

  /**
   * Publish: throws `TopicRequestError` (`InvalidParameter`) for a subject that is empty,
   * 100 characters or longer, not printable ASCII, or starts with a space; an empty message or
   * one over 256 KiB; `MessageStructure: json` whose message is not a JSON object of strings
   * with a `default` key. Resolves once every subscription was delivered to (or failed).
   */
  async publish(input: PublishInput): Promise<PublishResult> {
    validatePublish(input);
    const bodies =
      input.MessageStructure === 'json' ? (JSON.parse(input.Message) as Record<string, string>) : undefined;
    const messageId = randomUUID();
    this.published.push({ ...input, MessageId: messageId });
    const timestamp = this.clock.now().getTime();
    for (const subscription of this.#subscriptions) {
      const body = bodies ? (bodies[subscription.protocol] ?? bodies.default ?? '') : input.Message;
      try {
        await subscription.deliver({ messageId, subject: input.Subject, body, timestamp });
      } catch (error) {
        this.failedDeliveries.push({
          protocol: subscription.protocol,
          endpoint: subscription.endpoint,
          messageId,
          error,
        });
      }
    }
    return { MessageId: messageId };
  }

  async #writeEmail(outboxDir: string, address: string, subscriptionArn: string, delivery: Delivery): Promise<void> {
    const date = new Date(delivery.timestamp);
    const text =
      `${delivery.body}\n\n--\n` +
      `You receive this because ${address} is subscribed to ${this.arn} (${subscriptionArn}).\n` +
      'Local stack: this email was written to a folder, not sent.\n';
    // RFC 5322 lines end in CRLF; MailComposer keeps the text's own line ends.
    const crlfText = text.replace(/\r?\n/g, '\r\n');
    const composer = new MailComposer({
      from: this.#emailFrom,
      to: address,
      subject: delivery.subject ?? 'AWS Notification Message',
      text: crlfText,
      date,
      messageId: `<${delivery.messageId}.${randomUUID().slice(0, 8)}@sns.local>`,
      headers: { 'X-Amz-Sns-Message-Id': delivery.messageId, 'X-Amz-Sns-Topic-Arn': this.arn },
      xMailer: false,
    });
    const raw = await composer.compile().build();
    mkdirSync(outboxDir, { recursive: true });
    const stamp = date.toISOString().replace(/[-:]/g, '').replace('.', '');
    const slug = slugify(delivery.subject ?? 'notification');
    // Exclusive create: two publishes in the same millisecond (or two processes) never overwrite each other.
    for (;;) {
      fileSequence += 1;
      const file = path.join(outboxDir, `${stamp}-${String(fileSequence).padStart(6, '0')}-${slug}.eml`);
      try {
        writeFileSync(file, raw, { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  }

  async #invokeLambda(
    handler: SnsLambdaHandler,
    functionName: string,
    subscriptionArn: string,
    delivery: Delivery,
  ): Promise<void> {
    const event: SNSEvent = {
      Records: [
        {
          EventVersion: '1.0',
          EventSubscriptionArn: subscriptionArn,
          EventSource: 'aws:sns',
          Sns: {
            SignatureVersion: '1',
            Timestamp: new Date(delivery.timestamp).toISOString(),
            Signature: 'LOCAL',
            SigningCertUrl: 'https://sns.local/SimpleNotificationService.pem',
            MessageId: delivery.messageId,
            Message: delivery.body,
            MessageAttributes: {},
            Type: 'Notification',
            UnsubscribeUrl: `https://sns.local/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`,
            TopicArn: this.arn,
            ...(delivery.subject !== undefined ? { Subject: delivery.subject } : {}),
          },
        },
      ],
    };
    let lastError: unknown;
    for (let attempt = 1; attempt <= SNS_LAMBDA_ATTEMPTS; attempt += 1) {
      try {
        await handler(event, lambdaContext({ functionName }));
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }
}

/** Throws `TopicRequestError` when SNS would refuse the publish (see `LocalTopic.publish`). */
export function validatePublish(input: PublishInput): void {
  const invalid = (what: string) => new TopicRequestError('InvalidParameter', `Invalid parameter: ${what}`);
  if (input.Subject !== undefined) {
    const subject = input.Subject;
    if (subject.length === 0) throw invalid('Subject: must not be empty');
    if (subject.length >= MAX_SNS_SUBJECT_LENGTH) {
      throw invalid(`Subject: must be less than ${MAX_SNS_SUBJECT_LENGTH} characters (got ${subject.length})`);
    }
    if (!/^[\x20-\x7e]+$/.test(subject)) {
      throw invalid('Subject: must be printable ASCII, without line breaks or control characters');
    }
    if (subject.startsWith(' ')) throw invalid('Subject: must begin with a letter, number or punctuation mark');
  }
  if (typeof input.Message !== 'string' || input.Message.length === 0) throw invalid('Empty message');
  const bytes = Buffer.byteLength(input.Message, 'utf8');
  if (bytes > MAX_SNS_MESSAGE_BYTES) {
    throw invalid(`Message too long: ${bytes} bytes, the limit is ${MAX_SNS_MESSAGE_BYTES}`);
  }
  if (input.MessageStructure !== undefined) {
    if (input.MessageStructure !== 'json') throw invalid(`MessageStructure: only "json" is allowed`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.Message);
    } catch {
      throw invalid('Message Structure - JSON message body failed to parse');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw invalid('Message Structure - JSON message body failed to parse');
    }
    const bodies = parsed as Record<string, unknown>;
    if (typeof bodies.default !== 'string') throw invalid('Message Structure - No default entry in JSON message body');
    for (const [protocol, body] of Object.entries(bodies)) {
      if (typeof body !== 'string') throw invalid(`Message Structure - the ${protocol} entry is not a string`);
    }
  }
}

function slugify(text: string): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug || 'notification';
}
