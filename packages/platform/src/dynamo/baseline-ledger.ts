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

  /** The sources as the last SUCCEEDED run saw them (for conditional requests and "nothing changed"). */
  async getSourceBaselines(): Promise<Map<SourceId, SourceBaseline>> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'SOURCE' },
      ConsistentRead: true,
    });
    return new Map(items.map((item) => [item.sk as SourceId, stripKeys<SourceBaseline>(item)]));
  }

  async putSourceBaselines(runId: string, sources: SourceIdentity[]): Promise<void> {
    for (const source of sources) {
      const baseline: SourceBaseline = {
        id: source.id,
        etag: source.etag,
        lastModified: source.lastModified,
        sha256: source.sha256,
        runId,
      };
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: { pk: 'SOURCE', sk: source.id, ...baseline } }),
      );
    }
  }
}
