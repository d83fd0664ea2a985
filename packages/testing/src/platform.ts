/**
 * Test support for the packages that use the platform: an in-memory dynalite with fresh data and
 * ledger tables, a controllable clock, a capturing event publisher and run fixtures. Imported as
 * `@covid-etl/testing/platform` by tests only (`@covid-etl/platform` is a peer dependency: the
 * platform's own tests use these fixtures too); no handler bundles it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTables, type LocalDynamo, startLocalDynamo } from '@covid-etl/local-stack';
import {
  type Clock,
  createDocumentClient,
  type DomainEvent,
  dataTableDefinition,
  type EventPublisher,
  LedgerRepository,
  ledgerTableDefinition,
  type RunItem,
  SeriesRepository,
} from '@covid-etl/platform';

/** An in-memory dynalite with a fresh data and ledger table per `tables()` call. */
export interface LocalTables {
  doc: DynamoDBDocumentClient;
  /** Fresh, empty tables (unique names) and repositories on them. */
  tables(): Promise<{ ledger: LedgerRepository; series: SeriesRepository; dataTable: string; ledgerTable: string }>;
  close(): Promise<void>;
}

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

export async function startLocalTables(): Promise<LocalTables> {
  const dynamo: LocalDynamo = await startLocalDynamo();
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'local', credentials });
  const doc = createDocumentClient({ endpoint: dynamo.endpoint, region: 'local', credentials });
  let counter = 0;
  return {
    doc,
    async tables() {
      counter += 1;
      const dataTable = `data-${counter}`;
      const ledgerTable = `ledger-${counter}`;
      await ensureTables(client, [dataTableDefinition(dataTable), ledgerTableDefinition(ledgerTable)]);
      return {
        ledger: new LedgerRepository(doc, ledgerTable),
        series: new SeriesRepository(doc, dataTable),
        dataTable,
        ledgerTable,
      };
    },
    async close() {
      doc.destroy();
      client.destroy();
      await dynamo.close();
    },
  };
}

/** A clock that only moves when told to. */
export class TestClock implements Clock {
  constructor(private current = new Date('2026-11-25T06:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** An EventPublisher that keeps what it was given; `failNext` makes the next calls throw. */
export class CapturingPublisher implements EventPublisher {
  readonly published: DomainEvent[] = [];
  failNext = 0;
  async publish(events: DomainEvent[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('PutEvents is unavailable');
    }
    this.published.push(...events);
  }
}

/** A RUNNING run with sensible defaults. */
export function runItem(overrides: Partial<RunItem> = {}): RunItem {
  return {
    runId: 's-20261125T060000Z',
    environment: 'test',
    trigger: 'schedule',
    status: 'RUNNING',
    startedAt: '2026-11-25T06:00:00.000Z',
    dispatch: 'PENDING',
    sources: [],
    months: [],
    skipped: { months: 0, records: 0 },
    ...overrides,
  };
}

export const SHA_A = 'a'.repeat(64);
export const SHA_B = 'b'.repeat(64);
