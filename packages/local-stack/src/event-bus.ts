import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from './clock.js';
import { EventBusRequestError, QueueRequestError } from './errors.js';
import { type EventPattern, matchesEventPattern, validateEventPattern } from './event-pattern.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, type LocalQueue } from './queue.js';

/** PutEvents allows at most 10 entries per call. */
export const MAX_PUT_EVENTS_ENTRIES = 10;
/** EventBridge's event size limit (256 KiB). */
export const MAX_EVENT_BYTES = 262_144;

/** A PutEvents request entry, as the SDK has it. */
export interface PutEventsRequestEntry {
  readonly Source?: string;
  readonly DetailType?: string;
  /** A JSON object as text. */
  readonly Detail?: string;
  readonly EventBusName?: string;
  readonly Resources?: readonly string[];
  readonly Time?: Date;
}

export type PutEventsResultEntry =
  | { readonly EventId: string }
  | { readonly ErrorCode: string; readonly ErrorMessage: string };

export interface PutEventsResult {
  readonly FailedEntryCount: number;
  /** One per request entry, in order. */
  readonly Entries: readonly PutEventsResultEntry[];
}

/** The event as EventBridge delivers it to a target. */
export interface EventEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

export interface EventRule {
  readonly name: string;
  readonly eventPattern: EventPattern;
  /** The target queue: receives the envelope JSON as the message body. */
  readonly target: LocalQueue;
}

/** A delivery to a target that failed (EventBridge would retry it, then drop it or use the rule's DLQ). */
export interface FailedDelivery {
  readonly rule: string;
  readonly eventId: string;
  readonly error: unknown;
}

export interface LocalEventBusOptions {
  /** Default `default`. */
  readonly name?: string;
  readonly clock?: Clock;
}

/**
 * An EventBridge bus in this process: PutEvents with EventBridge's validation and
 * per-entry results, and rules that route matching events to queues with the full envelope.
 * Delivery is synchronous: when `putEvents` returns, the matching queues hold the events.
 */
export class LocalEventBus {
  readonly name: string;
  readonly arn: string;
  readonly clock: Clock;
  /** Every accepted event, in order (for tests and the CLI). */
  readonly events: EventEnvelope[] = [];
  readonly failedDeliveries: FailedDelivery[] = [];
  readonly #rules = new Map<string, EventRule>();
  readonly #injectedFailures: string[] = [];

  constructor(options: LocalEventBusOptions = {}) {
    this.name = options.name ?? 'default';
    this.arn = `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:event-bus/${this.name}`;
    this.clock = options.clock ?? systemClock;
  }

  /** Adds (or replaces) a rule. Throws `InvalidEventPatternError` for a pattern EventBridge would refuse. */
  addRule(rule: EventRule): void {
    validateEventPattern(rule.eventPattern);
    this.#rules.set(rule.name, { ...rule, eventPattern: structuredClone(rule.eventPattern) });
  }

  get rules(): readonly EventRule[] {
    return [...this.#rules.values()];
  }

  /**
   * Makes the next `count` otherwise valid entries fail with `errorCode` (fault injection for
   * the caller's retry of `FailedEntryCount`); `InternalFailure` and `ThrottlingException`
   * are the retryable codes.
   */
  failNextEntries(count: number, errorCode = 'InternalFailure'): void {
    for (let i = 0; i < count; i += 1) this.#injectedFailures.push(errorCode);
  }

  /**
   * PutEvents: throws `EventBusRequestError` for a request EventBridge refuses as a whole
   * (no entry, more than 10); an invalid entry fails alone (`FailedEntryCount` > 0) while the
   * others are put and delivered to every matching rule's queue.
   */
  putEvents(entries: readonly PutEventsRequestEntry[]): PutEventsResult {
    if (entries.length === 0 || entries.length > MAX_PUT_EVENTS_ENTRIES) {
      throw new EventBusRequestError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_PUT_EVENTS_ENTRIES} (got ${entries.length})`,
      );
    }
    const results: PutEventsResultEntry[] = entries.map((entry) => this.#putOne(entry));
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  #putOne(entry: PutEventsRequestEntry): PutEventsResultEntry {
    const invalid = (message: string): PutEventsResultEntry => ({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: message,
    });
    if (entry.EventBusName !== undefined && entry.EventBusName !== this.name && entry.EventBusName !== this.arn) {
      return {
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: `Event bus ${entry.EventBusName} does not exist.`,
      };
    }
    if (!entry.Source) return invalid('Parameter Source is not valid. Reason: Source is a required argument.');
    if (!entry.DetailType)
      return invalid('Parameter DetailType is not valid. Reason: DetailType is a required argument.');
    if (entry.Detail === undefined)
      return invalid('Parameter Detail is not valid. Reason: Detail is a required argument.');
    if (entry.Source.toLowerCase().startsWith('aws.')) {
      return {
        ErrorCode: 'NotAuthorizedForSourceException',
        ErrorMessage: `Not authorized for the source ${entry.Source}.`,
      };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed: it must be a JSON object.' };
    }
    const resources = entry.Resources ?? [];
    const size =
      14 +
      Buffer.byteLength(entry.Source) +
      Buffer.byteLength(entry.DetailType) +
      Buffer.byteLength(entry.Detail) +
      resources.reduce((sum, r) => sum + Buffer.byteLength(r), 0);
    if (size > MAX_EVENT_BYTES) {
      return invalid(`Total size of the entry (${size} bytes) exceeds the limit of ${MAX_EVENT_BYTES} bytes.`);
    }
    const injected = this.#injectedFailures.shift();
    if (injected) return { ErrorCode: injected, ErrorMessage: `Injected failure: ${injected}` };

    const envelope: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: LOCAL_ACCOUNT_ID,
      time: formatEventTime(entry.Time ?? this.clock.now()),
      region: LOCAL_REGION,
      resources: [...resources],
      detail,
    };
    this.events.push(envelope);
    this.#deliver(envelope);
    return { EventId: envelope.id };
  }

  #deliver(envelope: EventEnvelope): void {
    const body = JSON.stringify(envelope);
    for (const rule of this.#rules.values()) {
      if (!matchesEventPattern(rule.eventPattern, envelope)) continue;
      try {
        rule.target.send(body);
      } catch (error) {
        if (!(error instanceof QueueRequestError)) throw error;
        this.failedDeliveries.push({ rule: rule.name, eventId: envelope.id, error });
      }
    }
  }
}

/** EventBridge's `time`: ISO 8601 in UTC without milliseconds, e.g. `2026-11-25T00:00:00Z`. */
export function formatEventTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
