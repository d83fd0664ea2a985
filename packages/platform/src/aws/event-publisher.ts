import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE } from '@covid-etl/contracts';
import { PermanentError, TransientError } from '../errors.js';
import type { DomainEvent, EventPublisher } from '../ports.js';
import { chunksOf, retryPending } from '../retry.js';

/** PutEvents takes at most 10 entries. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
const RETRYABLE_CODES = new Set(['InternalFailure', 'ThrottlingException']);

/**
 * Puts domain events on one EventBridge bus with `source` = EVENT_SOURCE. Checks
 * `FailedEntryCount`: entries failing with a retryable code (InternalFailure,
 * ThrottlingException) are retried with backoff; any other failure is permanent and thrown.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
    private readonly options: { maxAttempts?: number; baseDelayMs?: number } = {},
  ) {}

  async publish(events: DomainEvent[]): Promise<void> {
    for (const batch of chunksOf(events, PUT_EVENTS_MAX_ENTRIES)) {
      const left = await retryPending(batch, (pending) => this.put(pending), this.options);
      if (left.length > 0) {
        throw new TransientError(
          `PutEvents on ${this.eventBusName}: ${left.length} event(s) still failing after retries`,
        );
      }
    }
  }

  private async put(batch: DomainEvent[]): Promise<DomainEvent[]> {
    const entries: PutEventsRequestEntry[] = batch.map((event) => ({
      EventBusName: this.eventBusName,
      Source: EVENT_SOURCE,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
    }));
    const response = await this.client.send(new PutEventsCommand({ Entries: entries }));
    if (!response.FailedEntryCount) return [];
    const retry: DomainEvent[] = [];
    (response.Entries ?? []).forEach((entry, index) => {
      const event = batch[index];
      if (!entry.ErrorCode || !event) return;
      if (!RETRYABLE_CODES.has(entry.ErrorCode)) {
        throw new PermanentError(
          `PutEvents refused ${event.detailType}: ${entry.ErrorCode} ${entry.ErrorMessage ?? ''}`,
        );
      }
      retry.push(event);
    });
    return retry;
  }
}
