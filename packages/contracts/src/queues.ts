/**
 * The SQS queues and the Lambda event source mappings that drain them: the one definition
 * that both the Terraform (terraform/modules/pipeline reads `queues.json` with
 * `jsondecode(file(...))`) and the embedded local stack follow. A test over the Terraform
 * plan proves the planned queues equal these settings.
 *
 * AWS rule kept here: visibilityTimeoutSeconds >= 6 * functionTimeoutSeconds +
 * maximumBatchingWindowSeconds (checked by `assertQueueSettings`).
 */
import './zod-locale.js';
import * as z from 'zod/mini';
import settings from './queues.json' with { type: 'json' };

/** The three work queues, named after the function that consumes each. */
export type QueueKey = 'transformer' | 'loader' | 'notifier';

export interface QueueSettings {
  /** Queue name suffix: the real name is `covid-etl-<env>-<suffix>`, its DLQ `<name>-dlq`. */
  readonly suffix: string;
  /** The Lambda (service) that consumes the queue. */
  readonly consumer: QueueKey;
  readonly visibilityTimeoutSeconds: number;
  readonly messageRetentionSeconds: number;
  readonly dlqMessageRetentionSeconds: number;
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly maximumConcurrency: number;
  readonly functionTimeoutSeconds: number;
}

const queueKeys = z.enum(['transformer', 'loader', 'notifier']);
const positiveInt = z.number().check(z.int(), z.positive());
const queueSettingsSchema = z.strictObject({
  suffix: z.string().check(z.regex(/^[a-z][a-z0-9-]*$/)),
  consumer: queueKeys,
  visibilityTimeoutSeconds: positiveInt,
  messageRetentionSeconds: positiveInt,
  dlqMessageRetentionSeconds: positiveInt,
  maxReceiveCount: positiveInt,
  batchSize: positiveInt,
  maximumBatchingWindowSeconds: z.number().check(z.int(), z.gte(0)),
  maximumConcurrency: positiveInt,
  functionTimeoutSeconds: positiveInt,
});

/** The settings of every queue, read from `queues.json` (validated when the module loads). */
export const QUEUES: Readonly<Record<QueueKey, QueueSettings>> = Object.freeze(
  z
    .strictObject({ transformer: queueSettingsSchema, loader: queueSettingsSchema, notifier: queueSettingsSchema })
    .parse(settings),
);

/** The full queue name for an environment, e.g. `covid-etl-dev-loader`. */
export function queueName(environment: string, key: QueueKey): string {
  return `covid-etl-${environment}-${QUEUES[key].suffix}`;
}

/** The dead-letter queue name of a queue, e.g. `covid-etl-dev-loader-dlq`. */
export function dlqName(environment: string, key: QueueKey): string {
  return `${queueName(environment, key)}-dlq`;
}

/** Throws when a queue's settings break an AWS rule (visibility timeout, receive count, DLQ retention). */
export function assertQueueSettings(settings: QueueSettings): void {
  const minimumVisibility = 6 * settings.functionTimeoutSeconds + settings.maximumBatchingWindowSeconds;
  if (settings.visibilityTimeoutSeconds < minimumVisibility) {
    throw new Error(
      `Queue ${settings.suffix}: visibility timeout ${settings.visibilityTimeoutSeconds}s is below 6 x function timeout + batching window (${minimumVisibility}s)`,
    );
  }
  if (settings.maxReceiveCount < 5) {
    throw new Error(`Queue ${settings.suffix}: maxReceiveCount ${settings.maxReceiveCount} is below 5`);
  }
  if (settings.dlqMessageRetentionSeconds <= settings.messageRetentionSeconds) {
    throw new Error(`Queue ${settings.suffix}: the DLQ must keep messages longer than its source queue`);
  }
}
