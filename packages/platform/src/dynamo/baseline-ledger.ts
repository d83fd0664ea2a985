import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SourceId, SourceIdentity } from '@covid-etl/contracts';
import { batchGetAll, batchPutAll, isConditionalCheckFailed } from './client.js';
import { LedgerTable, type MonthState, type SourceBaseline, stripKeys } from './ledger-items.js';

/** A month item holds a lease (below) before any load, and a state only after a successful one. */
const monthStateOf = (item: Record<string, unknown>): MonthState | undefined => {
  if (typeof item.hash !== 'string') return undefined;
  const { leaseRun: _run, leaseUntil: _until, ...state } = stripKeys<MonthState & Record<string, unknown>>(item);
  return state;
};

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
    const states = new Map<string, MonthState>();
    for (const item of items) {
      const state = monthStateOf(item);
      if (state) states.set(String(item.sk), state);
    }
    return states;
  }

  async getMonthState(month: string): Promise<MonthState | undefined> {
    const response = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: 'MONTH', sk: month }, ConsistentRead: true }),
    );
    return response.Item ? monthStateOf(response.Item) : undefined;
  }

  /**
   * Takes the month's load lease for `runId` until `until` (epoch ms), and returns the month's
   * state in the same request: one conditional UpdateItem on the month item, which holds while
   * no other run's lease is live (the same run may take it again: a redelivery). Returns
   * `held` when another run holds it: that run is loading the month, so the caller retries
   * later. The loader's writes are unconditional batches, so this lease is what keeps two runs
   * from writing the same days at once. `putMonthState` (a successful load) and `releaseMonth`
   * give it back; a crashed holder's lease runs out.
   */
  async leaseMonth(
    month: string,
    runId: string,
    { now, until }: { now: number; until: number },
  ): Promise<{ state: MonthState | undefined } | 'held'> {
    try {
      const response = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: 'MONTH', sk: month },
          UpdateExpression: 'SET leaseRun = :run, leaseUntil = :until',
          ConditionExpression: 'attribute_not_exists(leaseRun) OR leaseRun = :run OR leaseUntil < :now',
          ExpressionAttributeValues: { ':run': runId, ':until': until, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { state: response.Attributes ? monthStateOf(response.Attributes) : undefined };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'held';
      throw error;
    }
  }

  /** Gives the month's lease back if `runId` holds it (a load that leaves the month state as it was). */
  async releaseMonth(month: string, runId: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: 'MONTH', sk: month },
          UpdateExpression: 'REMOVE leaseRun, leaseUntil',
          ConditionExpression: 'leaseRun = :run',
          ExpressionAttributeValues: { ':run': runId },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /** Records a month as loaded successfully with this content hash (and gives its lease back). */
  async putMonthState(state: MonthState): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: 'MONTH', sk: state.month, ...state } }),
    );
  }

  /**
   * `putMonthState` for the months of one loader invocation: 25 a BatchWriteItem (its unprocessed
   * items sent again), the last state of a month given twice (one request cannot name a key
   * twice). Each is the same unconditional put, so it gives the month's lease back as one does.
   */
  async putMonthStates(states: readonly MonthState[]): Promise<void> {
    const byMonth = new Map(states.map((state) => [state.month, state]));
    if (byMonth.size === 0) return;
    await batchPutAll(
      this.doc,
      this.tableName,
      [...byMonth.values()].map((state) => ({ pk: 'MONTH', sk: state.month, ...state })),
      { what: 'month state' },
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

  /**
   * The baselines of several source URLs in one BatchGetItem (strongly consistent, as
   * `getSourceBaseline`), keyed `<id>#<urlKey>`; a URL no successful run read is absent.
   */
  async getSourceBaselines(sources: readonly { id: SourceId; urlKey: string }[]): Promise<Map<string, SourceBaseline>> {
    const keys = [...new Set(sources.map(({ id, urlKey }) => `${id}#${urlKey}`))].map((sk) => ({ pk: 'SOURCE', sk }));
    const found = new Map<string, SourceBaseline>();
    await batchGetAll(
      this.doc,
      this.tableName,
      keys,
      (item) => found.set(String(item.sk), stripKeys<SourceBaseline>(item)),
      'source baseline',
    );
    return found;
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

  /**
   * Records the sources of a SUCCEEDED run as the baselines of their URLs (sources without
   * `urlKey` are skipped), 25 a BatchWriteItem (unconditional puts, as before).
   */
  async putSourceBaselines(runId: string, sources: SourceIdentity[]): Promise<void> {
    // One item per key: a request may not put the same key twice.
    const items = new Map<string, Record<string, unknown>>();
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
      const sk = `${source.id}#${source.urlKey}`;
      items.set(sk, { pk: 'SOURCE', sk, ...baseline });
    }
    await batchPutAll(this.doc, this.tableName, [...items.values()], { what: 'source baseline' });
  }
}
