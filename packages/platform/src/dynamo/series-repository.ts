import { type DynamoDBDocumentClient, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { SeriesRecord } from '@covid-etl/contracts';
import { isConditionalCheckFailed } from './client.js';
import { SERIES_PARTITION } from './tables.js';
import { type DayValues, type DayVersion, VersionRepository, versionOfDay } from './version-repository.js';

/** What this run did to a stored day (`deleted`: a revert removed a day its run had inserted). */
export type RecordChange = 'inserted' | 'updated' | 'deleted';

/** A stored day of the series, with the run that last changed it and how. */
export interface StoredRecord extends SeriesRecord {
  runId: string;
  change: RecordChange;
  updatedAt: string;
  /** What the day held before that change (null or absent: it did not exist). */
  before?: (DayValues & { runId: string }) | null;
  /** A removed day (kept as a tombstone so its removal is versioned like any change). */
  removed?: boolean;
}

/**
 * The data table: the national series, one item per day (`pk` = US, `sk` = date).
 * Writes are conditional on the values the caller read, so a concurrent change is detected
 * instead of overwritten, and every item remembers which run last changed it and how, which
 * lets a redelivered chunk be counted exactly.
 */
export class SeriesRepository {
  /** The versions of every change (same table, see VersionRepository). */
  readonly versions: VersionRepository;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.versions = new VersionRepository(doc, tableName);
  }

  /** The stored days of one month (`YYYY-MM`), by date, removed days included; a strongly consistent read. */
  async getMonth(month: string): Promise<Map<string, StoredRecord>> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :month)',
      ExpressionAttributeValues: { ':pk': SERIES_PARTITION, ':month': `${month}-` },
      ConsistentRead: true,
    });
    return new Map(items.map((item) => [item.date, item]));
  }

  /**
   * Writes `record` if the stored item still equals `previous` (or, with no previous, does
   * not exist). Returns the stored day as written, or undefined when the condition failed:
   * somebody changed the day meanwhile, re-read it and decide again. Nothing is written when
   * the condition fails. The item keeps the values it replaces (`before`), so its version can
   * be written (`recordVersion`) again at any time, identically.
   */
  async write(
    record: SeriesRecord,
    previous: StoredRecord | undefined,
    meta: { runId: string; now: Date },
  ): Promise<StoredRecord | undefined> {
    const live = previous && !previous.removed ? previous : undefined;
    const stored: StoredRecord = {
      ...record,
      runId: meta.runId,
      change: live ? 'updated' : 'inserted',
      updatedAt: meta.now.toISOString(),
      before: live ? priorOf(live) : null,
    };
    return (await this.put(stored, previous)) ? stored : undefined;
  }

  /**
   * Removes a day (a revert of the run that inserted it) if it still equals `previous`: the
   * item stays as a tombstone (`removed`) holding what it replaced, so the removal has a
   * version like any other change. Returns the tombstone, or undefined when the condition failed.
   */
  async remove(previous: StoredRecord, meta: { runId: string; now: Date }): Promise<StoredRecord | undefined> {
    const stored: StoredRecord = {
      date: previous.date,
      cases: previous.cases,
      deaths: previous.deaths,
      recovered: previous.recovered,
      runId: meta.runId,
      change: 'deleted',
      updatedAt: meta.now.toISOString(),
      before: priorOf(previous),
      removed: true,
    };
    return (await this.put(stored, previous)) ? stored : undefined;
  }

  /** Writes the version of a stored day's last change (idempotent: same key, same content). */
  async recordVersion(day: StoredRecord): Promise<DayVersion> {
    const version = versionOfDay(day);
    await this.versions.put(version);
    return version;
  }

  private async put(stored: StoredRecord, previous: StoredRecord | undefined): Promise<boolean> {
    const item = { pk: SERIES_PARTITION, sk: stored.date, ...stored };
    try {
      await this.doc.send(
        new PutCommand(
          previous
            ? {
                TableName: this.tableName,
                Item: item,
                ConditionExpression: 'cases = :c AND deaths = :d AND recovered = :r AND runId = :run',
                ExpressionAttributeValues: {
                  ':c': previous.cases,
                  ':d': previous.deaths,
                  ':r': previous.recovered,
                  ':run': previous.runId,
                },
              }
            : { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
        ),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** The series in date order, optionally between `from` and `to` (inclusive), paginated; removed days left out. */
  async query({ from, to }: { from?: string; to?: string } = {}): Promise<StoredRecord[]> {
    const low = from ?? '0000-00-00';
    const high = to ?? '9999-99-99';
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': SERIES_PARTITION, ':from': low, ':to': high },
    });
    return items.filter((item) => !item.removed);
  }

  private async queryAll(input: QueryCommandInput): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey }));
      for (const item of page.Items ?? []) out.push(toStoredRecord(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
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
