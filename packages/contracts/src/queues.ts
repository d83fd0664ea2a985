/**
 * The SQS queues and the Lambda event source mappings that drain them: the one definition
 * that both the Terraform (terraform/environments/*) and the embedded local stack follow.
 * A test over the Terraform plan proves the planned queues equal these settings.
 *
 * AWS rule kept here: visibilityTimeoutSeconds >= 6 * functionTimeoutSeconds +
 * maximumBatchingWindowSeconds (checked by `assertQueueSettings`).
 */
export interface QueueSettings {
  /** Queue name suffix: the real name is `covid-etl-<env>-<suffix>`, its DLQ `<name>-dlq`. */
  readonly suffix: string;
  /** The Lambda (service) that consumes the queue. */
  readonly consumer: 'transformer' | 'loader' | 'notifier';
  readonly visibilityTimeoutSeconds: number;
  readonly messageRetentionSeconds: number;
  readonly dlqMessageRetentionSeconds: number;
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly maximumConcurrency: number;
  readonly functionTimeoutSeconds: number;
}

const DAY = 86_400;

export const QUEUES = {
  transformer: {
    suffix: 'transformer',
    consumer: 'transformer',
    visibilityTimeoutSeconds: 180,
    messageRetentionSeconds: 4 * DAY,
    dlqMessageRetentionSeconds: 14 * DAY,
    maxReceiveCount: 5,
    batchSize: 5,
    maximumBatchingWindowSeconds: 0,
    maximumConcurrency: 2,
    functionTimeoutSeconds: 30,
  },
  loader: {
    suffix: 'loader',
    consumer: 'loader',
    visibilityTimeoutSeconds: 360,
    messageRetentionSeconds: 4 * DAY,
    dlqMessageRetentionSeconds: 14 * DAY,
    maxReceiveCount: 5,
    batchSize: 5,
    maximumBatchingWindowSeconds: 0,
    maximumConcurrency: 2,
    functionTimeoutSeconds: 60,
  },
  notifier: {
    suffix: 'notifier',
    consumer: 'notifier',
    visibilityTimeoutSeconds: 180,
    messageRetentionSeconds: 4 * DAY,
    dlqMessageRetentionSeconds: 14 * DAY,
    maxReceiveCount: 5,
    batchSize: 10,
    maximumBatchingWindowSeconds: 0,
    maximumConcurrency: 2,
    functionTimeoutSeconds: 30,
  },
} as const satisfies Record<string, QueueSettings>;

export type QueueKey = keyof typeof QUEUES;

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
