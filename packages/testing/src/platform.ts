/**
 * Test support for the packages that use the platform: an in-memory dynalite with fresh data and
 * ledger tables, a controllable clock, a capturing event publisher and run fixtures. Imported as
 * `@covid-etl/testing/platform` by tests only (`@covid-etl/platform` is a peer dependency: the
 * platform's own tests use these fixtures too); no handler bundles it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTables, type LocalDynamo, ManualClock, startLocalDynamo } from '@covid-etl/local-stack';
import {
  createDocumentClient,
  type DomainEvent,
  dataTableDefinition,
  type EventPublisher,
  LedgerRepository,
  ledgerTableDefinition,
  type MessageSender,
  type OutgoingMessage,
  type OutgoingMessages,
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

export async function startLocalTables(): Promise<LocalTables> {
  const dynamo: LocalDynamo = await startLocalDynamo();
  // In process, as the local pipeline's clients are (no socket, no SigV4 computation per request).
  const config = dynamo.clientConfig;
  const client = new DynamoDBClient(config);
  const doc = createDocumentClient(config);
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

/** The local stack's ManualClock, starting at the scheduled run's time (06:00 UTC) unless told otherwise. */
export class TestClock extends ManualClock {
  constructor(start: Date = new Date('2026-11-25T06:00:00.000Z')) {
    super(start);
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

/** Every item of an iterable, sync or async (what a fake `MessageSender` was given). */
export async function collect<T>(items: Iterable<T> | AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * A MessageSender (a queue) that keeps what it is sent, in `sent`, taking the messages one at a
 * time as the SQS adapter does. Faults, each for the next call only: `failAfter = n` sends n of
 * its messages, then throws `SendMessageBatch still failing after retries`; `crashAfter = n`
 * sends n and never settles (the process died there). `failWhen` throws that error at every
 * message it matches, the messages before it sent.
 */
export class CapturingSender implements MessageSender {
  sent: OutgoingMessage[] = [];
  failAfter: number | undefined;
  crashAfter: number | undefined;

  constructor(private readonly failWhen: (message: OutgoingMessage) => boolean = () => false) {}

  async sendAll(messages: OutgoingMessages): Promise<void> {
    const { failAfter, crashAfter } = this;
    this.failAfter = undefined;
    this.crashAfter = undefined;
    let count = 0;
    const fault = (): Promise<void> | undefined => {
      if (count === crashAfter) return new Promise<void>(() => undefined);
      if (count === failAfter) throw new Error('SendMessageBatch still failing after retries');
      return undefined;
    };
    const before = fault();
    if (before) return before;
    for await (const message of messages) {
      if (this.failWhen(message)) throw new Error('SendMessageBatch still failing after retries');
      this.sent.push(message);
      count += 1;
      const after = fault();
      if (after) return after;
    }
    // Fewer messages than the fault's count: it still happens, once they are all sent.
    if (crashAfter !== undefined) return new Promise<void>(() => undefined);
    if (failAfter !== undefined) throw new Error('SendMessageBatch still failing after retries');
  }
}

/** DynamoDB requests by table and operation, and the items each table's reads returned. */
export interface RequestCount {
  /** `requests[table][operation]`, e.g. `requests['data-1'].BatchWriteItem`. */
  readonly requests: Record<string, Record<string, number>>;
  /** Items returned by Get, Query and Scan requests, by table. */
  readonly itemsRead: Record<string, number>;
  /** All requests to `table`. */
  total(table: string): number;
  reset(): void;
  /** Removes the counter from the client. */
  stop(): void;
}

let counters = 0;

/**
 * Counts the requests a DocumentClient sends (a middleware on its stack), by table and
 * operation, with the items its reads return: what request-count tests assert on.
 */
export function countRequests(doc: DynamoDBDocumentClient): RequestCount {
  counters += 1;
  const name = `countRequests${counters}`;
  const requests: Record<string, Record<string, number>> = {};
  const itemsRead: Record<string, number> = {};
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown> };
      const tables = input.TableName ? [input.TableName] : Object.keys(input.RequestItems ?? {});
      for (const table of tables) {
        const byTable = requests[table] ?? {};
        requests[table] = byTable;
        byTable[operation] = (byTable[operation] ?? 0) + 1;
      }
      const result = await next(args);
      const output = result.output as { Items?: unknown[]; Item?: unknown };
      const read = output.Items?.length ?? (output.Item ? 1 : 0);
      for (const table of tables) itemsRead[table] = (itemsRead[table] ?? 0) + read;
      return result;
    },
    { step: 'initialize', name },
  );
  return {
    requests,
    itemsRead,
    total: (table) => Object.values(requests[table] ?? {}).reduce((sum, n) => sum + n, 0),
    reset() {
      for (const key of Object.keys(requests)) delete requests[key];
      for (const key of Object.keys(itemsRead)) delete itemsRead[key];
    },
    stop: () => {
      doc.middlewareStack.remove(name);
    },
  };
}
