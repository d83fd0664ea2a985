import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { dataPartitionKey, type SeriesRecord } from '@covid-etl/contracts';
import { chunksOf } from '../retry.js';
import { BATCH_WRITE_ITEMS, batchPutAll, queryAllItems } from './client.js';
import { NATIONAL_SERIES } from './tables.js';
import { type DayValues, VersionRepository, versionItem } from './version-repository.js';

/** What this run did to a stored day (`deleted`: a revert removed a day its run had inserted). */
export type RecordChange = 'inserted' | 'updated' | 'deleted';

/** A stored day of the series, with the run that last changed it and how. */
export interface StoredRecord extends SeriesRecord {
  runId: string;
  change: RecordChange;
  updatedAt: string;
  /**
   * The start time of the run that made the change: with the run id, the sort key of the
   * change's version item, so every delivery of a chunk writes the same version item. Absent on
   * days written before it existed (their version is keyed by `updatedAt`).
   */
  runStartedAt?: string;
  /** What the day held before that change (null or absent: it did not exist). */
  before?: (DayValues & { runId: string }) | null;
  /** A removed day (kept as a tombstone so its removal is versioned like any change). */
  removed?: boolean;
}

/** Who makes a change and when: the run (its id and start time) and the write time. */
export interface ChangeMeta {
  runId: string;
  runStartedAt: string;
  now: Date;
}

/** BatchWriteItem requests in flight at once. */
const BATCH_WRITE_CONCURRENCY = 4;

/**
 * The day that writing `record` over `previous` (the stored day, if any) makes: inserted, or
 * updated with the values it replaces kept in `before`, so its version can be written again at
 * any time, identically.
 */
export function dayWritten(record: SeriesRecord, previous: StoredRecord | undefined, meta: ChangeMeta): StoredRecord {
  const live = previous && !previous.removed ? previous : undefined;
  return {
    date: record.date,
    cases: record.cases,
    deaths: record.deaths,
    recovered: record.recovered,
    runId: meta.runId,
    change: live ? 'updated' : 'inserted',
    updatedAt: meta.now.toISOString(),
    runStartedAt: meta.runStartedAt,
    before: live ? priorOf(live) : null,
  };
}

/**
 * The tombstone that removing `previous` makes (a revert of the run that inserted it): it keeps
 * what it replaced, so the removal has a version like any other change.
 */
export function dayRemoved(previous: StoredRecord, meta: ChangeMeta): StoredRecord {
  return {
    date: previous.date,
    cases: previous.cases,
    deaths: previous.deaths,
    recovered: previous.recovered,
    runId: meta.runId,
    change: 'deleted',
    updatedAt: meta.now.toISOString(),
    runStartedAt: meta.runStartedAt,
    before: priorOf(previous),
    removed: true,
  };
}

/**
 * The data table: one series, one item per day (`pk` = the series key, a geography id,
 * `NATIONAL_SERIES` by default, `sk` = date), and one version item per change of a day (see VersionRepository).
 * Every day remembers which run last changed it and how, which lets a redelivered chunk be
 * counted exactly. Writes are BatchWriteItem (unconditional): the loader decides them from one
 * strongly consistent read and a month lease in the ledger keeps other runs off the month.
 */
export class SeriesRepository {
  /** The versions of every change (same table, see VersionRepository). */
  readonly versions: VersionRepository;
  /** The series key: its days' partition. */
  readonly series: string;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    { series = NATIONAL_SERIES }: { series?: string } = {},
  ) {
    // A geography id (`dataPartitionKey` refuses anything else): `US`, `48`, `48201`, `36-nyc`.
    this.series = dataPartitionKey(series);
    this.versions = new VersionRepository(doc, tableName, { series });
  }

  /** The stored days of one month (`YYYY-MM`), by date, removed days included; a strongly consistent read. */
  async getMonth(month: string): Promise<Map<string, StoredRecord>> {
    return this.getDays({ from: `${month}-01`, to: `${month}-31` });
  }

  /**
   * The stored days from `from` to `to` (inclusive), by date, removed days included: one
   * strongly consistent Query (paginated past 1 MB).
   */
  async getDays({ from, to }: { from: string; to: string }): Promise<Map<string, StoredRecord>> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': this.series, ':from': from, ':to': to },
      ConsistentRead: true,
    });
    return new Map(items.map((item) => [item.date, item]));
  }

  /**
   * Writes changed days, each with its version item, and the version items alone of
   * `versionsOnly` (days already stored as they are), in BatchWriteItem requests of 25 items
   * (unprocessed items retried with backoff). Unconditional and idempotent: writing the same
   * changes again writes the same items under the same keys. Returns the number of requests.
   */
  async writeChanges(days: readonly StoredRecord[], versionsOnly: readonly StoredRecord[] = []): Promise<number> {
    const items = [
      ...days.flatMap((day) => [{ pk: this.series, sk: day.date, ...day }, versionItem(day, this.series)]),
      ...versionsOnly.map((day) => versionItem(day, this.series)),
    ];
    const batches = chunksOf(items, BATCH_WRITE_ITEMS);
    const requests = batches.length;
    const workers = Array.from({ length: Math.min(BATCH_WRITE_CONCURRENCY, batches.length) }, async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) await this.writeBatch(batch);
    });
    // Every request settles before a failure is reported: none is still in flight afterwards.
    const settled = await Promise.allSettled(workers);
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return requests;
  }

  /** One BatchWriteItem request of at most 25 items, its unprocessed items retried with backoff. */
  async writeBatch(items: readonly Record<string, unknown>[]): Promise<void> {
    await batchPutAll(this.doc, this.tableName, items, { what: 'day' });
  }

  /** The series in date order, optionally between `from` and `to` (inclusive), paginated; removed days left out. */
  async query({ from, to }: { from?: string; to?: string } = {}): Promise<StoredRecord[]> {
    const low = from ?? '0000-00-00';
    const high = to ?? '9999-99-99';
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': this.series, ':from': low, ':to': high },
    });
    return items.filter((item) => !item.removed);
  }

  private async queryAll(input: QueryCommandInput): Promise<StoredRecord[]> {
    return (await queryAllItems(this.doc, input)).map(toStoredRecord);
  }
}

const priorOf = (day: StoredRecord) => ({
  cases: day.cases,
  deaths: day.deaths,
  recovered: day.recovered,
  runId: day.runId,
});

function toStoredRecord(item: Record<string, unknown>): StoredRecord {
  const before = item.before as Record<string, unknown> | null | undefined;
  return {
    date: String(item.sk),
    cases: Number(item.cases),
    deaths: Number(item.deaths),
    recovered: Number(item.recovered),
    runId: String(item.runId),
    change: item.change === 'updated' ? 'updated' : item.change === 'deleted' ? 'deleted' : 'inserted',
    updatedAt: String(item.updatedAt),
    ...(typeof item.runStartedAt === 'string' ? { runStartedAt: item.runStartedAt } : {}),
    ...(before
      ? {
          before: {
            cases: Number(before.cases),
            deaths: Number(before.deaths),
            recovered: Number(before.recovered),
            runId: String(before.runId),
          },
        }
      : {}),
    ...(item.removed === true ? { removed: true } : {}),
  };
}
