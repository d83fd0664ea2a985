import type { EventDetailType } from '@covid-etl/contracts';

/** One message for a queue; `id` is unique within one call. */
export interface OutgoingMessage {
  id: string;
  body: string;
}

/** Messages to send: an array, a generator, or an async generator (bodies read from a table page by page). */
export type OutgoingMessages = Iterable<OutgoingMessage> | AsyncIterable<OutgoingMessage>;

/**
 * Sends messages to one queue. Implementations batch, retry failed entries and never drop one
 * silently. `messages` may be a generator, sync or async: it is read a batch at a time (10
 * messages at most), each batch sent before the next is built or read, so its bodies need not
 * all exist at once.
 */
export interface MessageSender {
  sendAll(messages: OutgoingMessages): Promise<void>;
}

export interface DomainEvent {
  detailType: EventDetailType;
  detail: unknown;
}

/** Puts domain events on the pipeline's event bus; throws unless every entry was accepted. */
export interface EventPublisher {
  publish(events: DomainEvent[]): Promise<void>;
}

/** A notification with one body per protocol (SNS `MessageStructure: json`). */
export interface Notification {
  subject: string;
  /** Protocol → body; must include `default`. */
  bodies: { default: string } & Record<string, string>;
}

export interface NotificationPublisher {
  publish(notification: Notification): Promise<{ messageId: string }>;
}

/** Reads a secret value (e.g. the Slack webhook URL) at run time. */
export interface SecretReader {
  read(name: string): Promise<string>;
}

/** Wall-clock time: the one `Clock` of the workspace, defined in contracts. */
export { type Clock, systemClock } from '@covid-etl/contracts';
