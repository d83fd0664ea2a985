import { type DynamoDBDocumentClient, PutCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { queryAllItems } from './client.js';
import type { RecordChange, StoredRecord } from './series-repository.js';
import { VERSIONS_BY_RUN_INDEX } from './tables.js';

/** The values of a day. */
export interface DayValues {
  cases: number;
  deaths: number;
  recovered: number;
}

/**
 * One change of one day: what it held before (null: it did not exist) and after (null: the
 * change removed it), which run made it and when. There is exactly one per (day, run) that
 * changed the day.
 */
export interface DayVersion {
  date: string;
  runId: string;
  /** When the day item was written (its `updatedAt`). */
  at: string;
  change: RecordChange;
  before: (DayValues & { runId: string }) | null;
  after: DayValues | null;
}

/** Partition of a day's versions in the data table. */
export const versionPartition = (date: string) => `DAY#${date}`;

/**
 * The version a stored day item records. Derived only from the item, so writing it again
 * (a redelivery, a crash between the two writes) writes the very same item under the same key.
 */
export function versionOfDay(day: StoredRecord): DayVersion {
  const values = { cases: day.cases, deaths: day.deaths, recovered: day.recovered };
  return {
    date: day.date,
    runId: day.runId,
    at: day.updatedAt,
    change: day.change,
    before: day.before ?? null,
    after: day.change === 'deleted' ? null : values,
  };
}

/**
 * The version items of the data table: `pk` = `DAY#<date>`, `sk` = `<at>#<runId>` (a day's
 * history is one Query, oldest first), and on the index `versionsByRun` `vrun` = run id,
 * `vdate` = date (a run's changes are one Query, by date). Puts are unconditional and
 * idempotent: the key and content are functions of the day item they describe.
 */
export class VersionRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Writes (or writes again, identically) the version of one change. */
  async put(version: DayVersion): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: versionPartition(version.date),
          sk: `${version.at}#${version.runId}`,
          vrun: version.runId,
          vdate: version.date,
          ...version,
        },
      }),
    );
  }

  /** Every version of one day, oldest first (one Query, paginated). */
  async history(date: string): Promise<DayVersion[]> {
    return this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': versionPartition(date) },
      ConsistentRead: true,
    });
  }

  /** Every day one run changed, by date (one Query on the index, paginated). */
  async changesOf(runId: string): Promise<DayVersion[]> {
    return this.queryAll({
      TableName: this.tableName,
      IndexName: VERSIONS_BY_RUN_INDEX,
      KeyConditionExpression: 'vrun = :run',
      ExpressionAttributeValues: { ':run': runId },
    });
  }

  private async queryAll(input: QueryCommandInput): Promise<DayVersion[]> {
    return (await queryAllItems(this.doc, input)).map(toVersion);
  }
}

function toVersion(item: Record<string, unknown>): DayVersion {
  const values = (value: unknown): DayValues | null => {
    if (!value || typeof value !== 'object') return null;
    const v = value as Record<string, unknown>;
    return { cases: Number(v.cases), deaths: Number(v.deaths), recovered: Number(v.recovered) };
  };
  const before = values(item.before);
  return {
    date: String(item.date),
    runId: String(item.runId),
    at: String(item.at),
    change: item.change === 'updated' ? 'updated' : item.change === 'deleted' ? 'deleted' : 'inserted',
    before: before ? { ...before, runId: String((item.before as Record<string, unknown>).runId) } : null,
    after: values(item.after),
  };
}
