import {
  DomainEventEnvelope,
  EVENT_SOURCE,
  EVENT_VERSION,
  EventDetailType,
  type RejectedRow,
  type RunSummary,
} from '@covid-etl/contracts';
import { createLogger, type Logger, type Notification, type NotificationPublisher } from '@covid-etl/platform';
import type { NotificationLedger } from '../src/app.js';

export const RUN_ID = 's-20261125T060000Z';

/** A valid run summary (SUCCEEDED, 1 new, 3 updated) with `overrides` applied. */
export function runSummary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: RUN_ID,
    environment: 'dev',
    status: 'SUCCEEDED',
    trigger: 'schedule',
    startedAt: '2026-11-25T06:00:00.000Z',
    finishedAt: '2026-11-25T06:02:05.000Z',
    durationMs: 125_000,
    counts: { inserted: 1, updated: 3, unchanged: 1150, rejected: 0 },
    dateRange: { from: '2020-01-21', to: '2023-03-23' },
    sources: [
      {
        id: 'nyt',
        url: 'https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv',
        etag: 'W/"5f3a9c"',
        sha256: 'a'.repeat(64),
        bytes: 48_213,
      },
      {
        id: 'jhu',
        url: 'https://raw.githubusercontent.com/datasets/covid-19/main/data/time-series-19-covid-combined.csv',
        sha256: '0123456789abcdef'.repeat(4),
        bytes: 2_500_000,
      },
    ],
    chunks: { expected: 2, loaded: 2, skipped: 36 },
    rejectedRows: [],
    ...overrides,
  };
}

export function rejectedRows(count: number): RejectedRow[] {
  return Array.from({ length: count }, (_, index) => ({
    source: 'nyt' as const,
    line: 100 + index,
    column: 'deaths',
    value: String(-index - 1),
    reason: `deaths must not be negative (row ${index + 1})`,
  }));
}

/** An `EtlRunCompleted` envelope as EventBridge delivers it, validated against the contract. */
export function completedEvent(summary: RunSummary = runSummary()): DomainEventEnvelope {
  return DomainEventEnvelope.parse({
    version: '0',
    id: 'e0b7c2f4-0000-4000-8000-000000000001',
    'detail-type': EventDetailType.RunCompleted,
    source: EVENT_SOURCE,
    account: '000000000000',
    time: '2026-11-25T06:02:05Z',
    region: 'us-east-1',
    resources: [],
    detail: { version: EVENT_VERSION, summary },
  });
}

/** An `EtlRunFailed` envelope, validated against the contract. */
export function failedEvent(
  reason: string,
  summary: RunSummary = runSummary({ status: 'FAILED' }),
): DomainEventEnvelope {
  return DomainEventEnvelope.parse({
    version: '0',
    id: 'e0b7c2f4-0000-4000-8000-000000000002',
    'detail-type': EventDetailType.RunFailed,
    source: EVENT_SOURCE,
    time: '2026-11-25T06:02:05Z',
    detail: { version: EVENT_VERSION, reason, summary },
  });
}

/** The ledger's notification items in memory, with the same conditions as `LedgerRepository`. */
export class InMemoryNotificationLedger implements NotificationLedger {
  readonly items = new Map<string, { state: 'SENDING' | 'SENT'; leaseUntil?: number; messageId?: string }>();

  async claimNotification(
    runId: string,
    detailType: string,
    now: number,
    leaseUntil: number,
  ): Promise<'claimed' | 'sent' | 'in-progress'> {
    const key = `${runId}|${detailType}`;
    const item = this.items.get(key);
    if (item?.state === 'SENT') return 'sent';
    if (item && (item.leaseUntil ?? 0) >= now) return 'in-progress';
    this.items.set(key, { state: 'SENDING', leaseUntil });
    return 'claimed';
  }

  async markNotified(runId: string, detailType: string, messageId: string): Promise<void> {
    this.items.set(`${runId}|${detailType}`, { state: 'SENT', messageId });
  }
}

/** Records what it publishes; `failNext` makes the next publish throw. */
export class FakePublisher implements NotificationPublisher {
  readonly published: Notification[] = [];
  private failures = 0;

  failNext(times = 1): void {
    this.failures = times;
  }

  async publish(notification: Notification): Promise<{ messageId: string }> {
    if (this.failures > 0) {
      this.failures -= 1;
      const error = new Error('Rate exceeded');
      error.name = 'ThrottledException';
      throw error;
    }
    this.published.push(notification);
    return { messageId: `message-${this.published.length}` };
  }
}

/** A clock the test moves. */
export class FakeClock {
  constructor(private current = Date.parse('2026-11-25T06:03:00Z')) {}
  now = (): Date => new Date(this.current);
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A JSON logger whose lines the test can read. */
export function capturedLogger(service = 'notifier'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const logger = createLogger({ service, level: 'debug', destination: { write: (line: string) => raw.push(line) } });
  return {
    logger,
    lines: () =>
      raw
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
