import { DomainEventEnvelope } from '@covid-etl/contracts';
import {
  type Clock,
  type Logger,
  MalformedMessageError,
  type NotificationLedger,
  type NotificationPublisher,
  TransientError,
} from '@covid-etl/platform';
import { formatNotification, outcomeFromEnvelope, outcomeStatus } from '../format.js';

/** The part of the ledger the notifier needs: the platform's notification port. */
export type { NotificationLedger };

export interface NotifyRunOutcomeDeps {
  ledger: NotificationLedger;
  publisher: NotificationPublisher;
  clock: Clock;
  /** Logger already bound to the run (`logger.child({ runId })`). */
  logger: Logger;
  /** How long a claim keeps other deliveries away; keep it below the queue's visibility timeout. */
  leaseMs: number;
}

export type NotifyResult = { outcome: 'published'; messageId: string } | { outcome: 'duplicate' };

/**
 * Parses an SQS message body as the EventBridge envelope of a run outcome. Throws a
 * `MalformedMessageError` (permanent: redelivery gives the same answer) when it is not JSON
 * or not the contract's shape.
 */
export function parseEnvelope(body: string): DomainEventEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedMessageError(`the message body is not JSON (${body.length} characters)`);
  }
  const parsed = DomainEventEnvelope.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new MalformedMessageError(`the message body is not a run outcome event: ${issues}`);
  }
  return parsed.data;
}

/** The run id a malformed body seems to be about, for the log line; undefined when there is none. */
export function guessRunId(body: string): string | undefined {
  try {
    const runId = (JSON.parse(body) as { detail?: { summary?: { runId?: unknown } } })?.detail?.summary?.runId;
    return typeof runId === 'string' ? runId.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Notifies one run outcome, at most once per run id + detail type: claims the notification in
 * the ledger (with a lease), publishes it, then marks it notified. A duplicate delivery of an
 * event already notified publishes nothing; one that finds another delivery holding the lease
 * fails so that SQS retries it later (never dropped). When publishing fails the
 * error propagates and the claim can be taken again once its lease has run out. If the
 * publish succeeds but marking fails, a redelivery after the lease notifies a second time
 * (at-least-once).
 */
export async function notifyRunOutcome(
  envelope: DomainEventEnvelope,
  { ledger, publisher, clock, logger, leaseMs }: NotifyRunOutcomeDeps,
): Promise<NotifyResult> {
  const outcome = outcomeFromEnvelope(envelope);
  const { runId } = outcome.summary;
  const notification = formatNotification(outcome);
  const now = clock.now().getTime();

  const claim = await ledger.claimNotification(runId, outcome.detailType, now, now + leaseMs);
  if (claim === 'sent') {
    logger.info(
      { detailType: outcome.detailType },
      'Duplicate: this run outcome was already notified; nothing published',
    );
    return { outcome: 'duplicate' };
  }
  if (claim === 'in-progress') {
    // Another delivery is publishing it right now; it may still fail, so this one is retried
    // (after the visibility timeout, by then that delivery has marked it sent or lost its lease).
    throw new TransientError(
      `${outcome.detailType} of run ${runId} is being notified by another delivery; retrying later`,
    );
  }

  const { messageId } = await publisher.publish(notification);
  logger.info(
    { detailType: outcome.detailType, status: outcomeStatus(outcome), messageId, subject: notification.subject },
    'Notification published',
  );
  await ledger.markNotified(runId, outcome.detailType, messageId);
  return { outcome: 'published', messageId };
}
