import { QUEUES } from '@covid-etl/contracts';
import {
  type Clock,
  createBatchHandler,
  describeError,
  type HandlerOptions,
  type Logger,
  MalformedMessageError,
  type NotificationPublisher,
  systemClock,
} from '@covid-etl/platform';
import type { MiddyfiedHandler } from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  guessRunId,
  type NotificationLedger,
  notifyRunOutcome,
  parseEnvelope,
} from './use-cases/notify-run-outcome.js';

export type { NotificationLedger } from './use-cases/notify-run-outcome.js';

/**
 * Default notification lease: twice the function timeout, so a claim outlives the invocation
 * that took it, and well below the queue's visibility timeout, so the redelivery of a failed
 * message finds the lease expired and can notify.
 */
export const DEFAULT_LEASE_MS = 2 * QUEUES.notifier.functionTimeoutSeconds * 1000;

export interface NotifierDeps {
  /** `LedgerRepository` in AWS and locally (dynalite). */
  ledger: NotificationLedger;
  /** `SnsNotificationPublisher` in AWS; the local topic locally. */
  publisher: NotificationPublisher;
  logger: Logger;
  /** Default `systemClock`; the local stack passes its scaled clock. */
  clock?: Clock;
}

export interface NotifierOptions extends HandlerOptions {
  /** Default `DEFAULT_LEASE_MS`. Keep it below the queue's visibility timeout (same time scale as the clock). */
  leaseMs?: number;
}

export type NotifierHandler = MiddyfiedHandler<SQSEvent, SQSBatchResponse>;

/**
 * The notifier Lambda: one SNS notification per run outcome event on the notifier queue,
 * idempotent per run id + detail type. Each record settles on its own: a failed record is
 * reported as a batch item failure (SQS redelivers it, and after `maxReceiveCount` receives
 * moves it to the notifier DLQ) while the others succeed.
 */
export function createHandler(deps: NotifierDeps, options: NotifierOptions = {}): NotifierHandler {
  const clock = deps.clock ?? systemClock;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const { maxReceiveCount } = QUEUES.notifier;

  async function processRecord(record: SQSRecord): Promise<void> {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || undefined;
    let envelope: ReturnType<typeof parseEnvelope>;
    try {
      envelope = parseEnvelope(record.body);
    } catch (error) {
      deps.logger
        .child({ runId: guessRunId(record.body) ?? null })
        .error(
          { messageId: record.messageId, receiveCount, error: describeError(error) },
          `Malformed notifier message, not retryable: reported as a batch item failure; it moves to the notifier DLQ after ${maxReceiveCount} receives`,
        );
      throw error;
    }

    const logger = deps.logger.child({ runId: envelope.detail.summary.runId });
    try {
      await notifyRunOutcome(envelope, { ledger: deps.ledger, publisher: deps.publisher, clock, logger, leaseMs });
    } catch (error) {
      logger.error(
        { messageId: record.messageId, detailType: envelope['detail-type'], receiveCount, error: describeError(error) },
        error instanceof MalformedMessageError
          ? `Notification failed permanently: it moves to the notifier DLQ after ${maxReceiveCount} receives`
          : `Notification failed: SQS redelivers the message after its visibility timeout (DLQ after ${maxReceiveCount} receives)`,
      );
      throw error;
    }
  }

  return createBatchHandler(processRecord, options);
}
