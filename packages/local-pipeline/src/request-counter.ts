import type { DynamoRequest } from './pipeline.js';

/** What an item of the data or ledger table is, by its key (docs/architecture.md, Tables and Geographies). */
export type ItemKind =
  | 'day'
  | 'version'
  | 'catalogue'
  | 'county-summary'
  | 'run'
  | 'chunk'
  | 'day-hashes'
  | 'day-geographies'
  | 'month-state'
  | 'other';

/** Counts of one table. */
export interface TableRequests {
  /** Requests by operation (`Query`, `BatchWriteItem`, …). */
  requests: Record<string, number>;
  /** Items written (put, updated or deleted) by kind. */
  written: Partial<Record<ItemKind, number>>;
  /** Keys asked for (GetItem, BatchGetItem) and partitions queried (Query), by kind. */
  read: Partial<Record<ItemKind, number>>;
  /** Items the table returned to reads. */
  itemsReturned: number;
  /**
   * The months (`YYYY-MM`) of the days and chunks read: a day's date (data table), a chunk key's
   * month (ledger `DAYS`), every month of a Query's sort-key range on a series.
   */
  monthsRead: Set<string>;
  /** The chunk keys whose day hashes were read (ledger `DAYS`). */
  chunksRead: Set<string>;
}

/**
 * Counts the DynamoDB requests of a local pipeline by table, and the items they write and read
 * by key kind (`LocalPipelineOptions.onDynamoRequest`): what a run wrote to the data table (days,
 * versions, catalogue) and which months it read. Aggregates only (a backfill writes millions of
 * items): constant memory per table, plus the set of months and chunk keys read.
 */
export class DynamoRequestCounter {
  readonly tables: Record<string, TableRequests> = {};

  /** The `onDynamoRequest` callback. */
  readonly record = (request: DynamoRequest): void => {
    const { operation, input, output } = request;
    const requestItems = (input.RequestItems ?? {}) as Record<string, unknown>;
    const tableNames = typeof input.TableName === 'string' ? [input.TableName] : Object.keys(requestItems);
    for (const name of tableNames) {
      const table = this.table(name);
      table.requests[operation] = (table.requests[operation] ?? 0) + 1;
      table.itemsReturned += returned(output, name);
      switch (operation) {
        case 'PutItem':
          this.write(table, input.Item);
          break;
        case 'UpdateItem':
        case 'DeleteItem':
          this.write(table, input.Key);
          break;
        case 'BatchWriteItem':
          for (const entry of (requestItems[name] ?? []) as {
            PutRequest?: { Item: unknown };
            DeleteRequest?: { Key: unknown };
          }[]) {
            this.write(table, entry.PutRequest?.Item ?? entry.DeleteRequest?.Key);
          }
          break;
        case 'GetItem':
          this.read(table, input.Key);
          break;
        case 'BatchGetItem':
          for (const key of ((requestItems[name] as { Keys?: unknown[] } | undefined)?.Keys ?? []) as unknown[]) {
            this.read(table, key);
          }
          break;
        case 'Query':
          this.query(table, input);
          break;
        default:
          break;
      }
    }
  };

  /** The counts of `name` (empty counts if it saw no request). */
  table(name: string): TableRequests {
    let table = this.tables[name];
    if (!table) {
      table = { requests: {}, written: {}, read: {}, itemsReturned: 0, monthsRead: new Set(), chunksRead: new Set() };
      this.tables[name] = table;
    }
    return table;
  }

  private write(table: TableRequests, key: unknown): void {
    const kind = kindOf(key);
    table.written[kind] = (table.written[kind] ?? 0) + 1;
  }

  private read(table: TableRequests, key: unknown): void {
    const kind = kindOf(key);
    table.read[kind] = (table.read[kind] ?? 0) + 1;
    const sk = attribute(key, 'sk');
    if (kind === 'day' && sk) table.monthsRead.add(sk.slice(0, 7));
    if (kind === 'day-hashes' && sk) {
      table.chunksRead.add(sk);
      const month = sk.split('/').at(-1);
      if (month) table.monthsRead.add(month);
    }
  }

  private query(table: TableRequests, input: Record<string, unknown>): void {
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    const condition = String(input.KeyConditionExpression ?? '');
    const partition = /=\s*(:\w+)/.exec(condition)?.[1];
    const pk = partition ? scalar(values[partition]) : undefined;
    const kind = kindOf({ pk });
    table.read[kind] = (table.read[kind] ?? 0) + 1;
    if (kind !== 'day' && kind !== 'version') return;
    // A series Query: the months of its sort-key range (a one-sided range reads to the end: '*').
    const dates = Object.values(values)
      .map(scalar)
      .filter((value): value is string => value !== undefined && /^\d{4}-\d{2}/.test(value))
      .sort();
    if (dates.length === 0) table.monthsRead.add('*');
    else if (dates.length === 1) table.monthsRead.add(`${(dates[0] as string).slice(0, 7)}..`);
    else for (const month of monthsBetween(dates[0] as string, dates.at(-1) as string)) table.monthsRead.add(month);
  }
}

/** The kind of an item by its key (`pk`, `sk`), marshalled or not. */
export function kindOf(key: unknown): ItemKind {
  const pk = attribute(key, 'pk');
  const sk = attribute(key, 'sk');
  if (pk === undefined) return 'other';
  if (pk === 'GEOS') return 'catalogue';
  if (pk.startsWith('COUNTIES#')) return 'county-summary';
  if (pk.startsWith('DAY#')) return 'version';
  if (pk === 'DAYS') return 'day-hashes';
  if (pk === 'DAYGEOS') return 'day-geographies';
  if (pk === 'MONTH') return 'month-state';
  if (pk.startsWith('RUN#')) return sk === 'RUN' ? 'run' : sk?.startsWith('CHUNK#') ? 'chunk' : 'other';
  if (pk === 'US' || /^\d{2}/.test(pk)) return 'day';
  return 'other';
}

function attribute(item: unknown, name: string): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  return scalar((item as Record<string, unknown>)[name]);
}

/** A string attribute value, plain (DocumentClient input) or marshalled (`{ S: … }`). */
function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { S?: unknown }).S === 'string') {
    return (value as { S: string }).S;
  }
  return undefined;
}

function returned(output: Record<string, unknown> | undefined, table: string): number {
  if (!output) return 0;
  const responses = (output.Responses ?? {}) as Record<string, unknown[]>;
  return (
    (Array.isArray(output.Items) ? output.Items.length : 0) + (output.Item ? 1 : 0) + (responses[table]?.length ?? 0)
  );
}

function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let [year, month] = from.slice(0, 7).split('-').map(Number) as [number, number];
  const last = to.slice(0, 7);
  for (;;) {
    const key = `${year}-${String(month).padStart(2, '0')}`;
    months.push(key);
    if (key >= last || months.length > 1200) return months;
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
}
