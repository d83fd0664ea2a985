import { type DynamoDBDocumentClient, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { SeriesRecord } from '@covid-etl/contracts';
import { isConditionalCheckFailed } from './client.js';
import { SERIES_PARTITION } from './tables.js';

/** What this run did to a stored day. */
export type RecordChange = 'inserted' | 'updated';

/** A stored day of the series, with the run that last changed it and how. */
export interface StoredRecord extends SeriesRecord {
  runId: string;
  change: RecordChange;
  updatedAt: string;
}

/**
 * The data table: the national series, one item per day (`pk` = US, `sk` = date).
 * Writes are conditional on the values the caller read, so a concurrent change is detected
 * instead of overwritten, and every item remembers which run last changed it and how, which
 * lets a redelivered chunk be counted exactly.
 */
export class SeriesRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The stored days of one month (`YYYY-MM`), by date; a strongly consistent read. */
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
   * not exist). Returns false when the condition failed: somebody changed the day meanwhile,
   * re-read it and decide again. Nothing is written when the condition fails.
   */
  async write(
    record: SeriesRecord,
    previous: StoredRecord | undefined,
    meta: { runId: string; now: Date },
  ): Promise<boolean> {
    const item = {
      pk: SERIES_PARTITION,
      sk: record.date,
      ...record,
      runId: meta.runId,
      change: previous ? 'updated' : 'inserted',
      updatedAt: meta.now.toISOString(),
    };
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

  /** The series in date order, optionally between `from` and `to` (inclusive), paginated. */
  async query({ from, to }: { from?: string; to?: string } = {}): Promise<StoredRecord[]> {
    const low = from ?? '0000-00-00';
    const high = to ?? '9999-99-99';
    return this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': SERIES_PARTITION, ':from': low, ':to': high },
    });
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

function toStoredRecord(item: Record<string, unknown>): StoredRecord {
  return {
    date: String(item.sk),
    cases: Number(item.cases),
    deaths: Number(item.deaths),
    recovered: Number(item.recovered),
    runId: String(item.runId),
    change: item.change === 'updated' ? 'updated' : 'inserted',
    updatedAt: String(item.updatedAt),
  };
}
