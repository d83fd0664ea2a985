import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SourceId, SourceIdentity } from '@covid-etl/contracts';
import { LedgerTable, type MonthState, type SourceBaseline, stripKeys } from './ledger-items.js';

/** What the last successful loads saw: each month's content hash and each source's identity. */
export class DynamoBaselineLedger extends LedgerTable {
  /** The hash and size of every month's last successful load. */
  async getMonthStates(): Promise<Map<string, MonthState>> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'MONTH' },
      ConsistentRead: true,
    });
    return new Map(items.map((item) => [String(item.sk), stripKeys<MonthState>(item)]));
  }

  async getMonthState(month: string): Promise<MonthState | undefined> {
    const response = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: 'MONTH', sk: month }, ConsistentRead: true }),
    );
    return response.Item ? stripKeys<MonthState>(response.Item) : undefined;
  }

  /** Records a month as loaded successfully with this content hash. */
  async putMonthState(state: MonthState): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: 'MONTH', sk: state.month, ...state } }),
    );
  }

  /**
   * The baseline of one source URL: what the last SUCCEEDED run that read this very URL
   * verified and loaded (for conditional requests and "nothing changed"); undefined when no
   * successful run read it.
   */
  async getSourceBaseline(id: SourceId, urlKey: string): Promise<SourceBaseline | undefined> {
    const response = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: 'SOURCE', sk: `${id}#${urlKey}` }, ConsistentRead: true }),
    );
    return response.Item ? stripKeys<SourceBaseline>(response.Item) : undefined;
  }

  /** Every source baseline (one per source URL a SUCCEEDED run read). */
  async listSourceBaselines(): Promise<SourceBaseline[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'SOURCE' },
      ConsistentRead: true,
    });
    return items.map((item) => stripKeys<SourceBaseline>(item));
  }

  /** Records the sources of a SUCCEEDED run as the baselines of their URLs (sources without `urlKey` are skipped). */
  async putSourceBaselines(runId: string, sources: SourceIdentity[]): Promise<void> {
    for (const source of sources) {
      if (!source.urlKey) continue;
      const baseline: SourceBaseline = {
        id: source.id,
        url: source.url,
        urlKey: source.urlKey,
        etag: source.etag,
        lastModified: source.lastModified,
        sha256: source.sha256,
        bytes: source.bytes,
        rows: source.rows,
        firstDate: source.firstDate,
        lastDate: source.lastDate,
        runId,
      };
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: 'SOURCE', sk: `${source.id}#${source.urlKey}`, ...baseline },
        }),
      );
    }
  }
}
