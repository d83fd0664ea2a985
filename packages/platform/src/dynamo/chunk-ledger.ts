import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RejectedRow, RunCounts } from '@covid-etl/contracts';
import type { CostCounts } from '../costs.js';
import { batchGetAll, isConditionalCheckFailed } from './client.js';
import { addCostsClause, type ChunkItem, chunkKey, costNames, LedgerTable, stripKeys } from './ledger-items.js';

type Costs = Partial<CostCounts>;

/** The ledger's month chunks of each run; stage changes are conditional, so redelivery changes nothing. */
export class DynamoChunkLedger extends LedgerTable {
  /** Every chunk of a run, strongly consistent. */
  async listChunks(runId: string): Promise<ChunkItem[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :chunk)',
      ExpressionAttributeValues: { ':pk': `RUN#${runId}`, ':chunk': 'CHUNK#' },
      ConsistentRead: true,
    });
    return items.map((item) => stripKeys<ChunkItem>(item));
  }

  async getChunk(runId: string, month: string): Promise<ChunkItem | undefined> {
    const response = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: chunkKey(runId, month), ConsistentRead: true }),
    );
    return response.Item ? stripKeys<ChunkItem>(response.Item) : undefined;
  }

  /**
   * The chunk items of `keys`, strongly consistent, in one BatchGetItem per 100 distinct keys;
   * in the order of `keys`, undefined where there is none.
   */
  async getChunks(keys: readonly { runId: string; month: string }[]): Promise<(ChunkItem | undefined)[]> {
    const id = (runId: string, month: string) => `${runId}\n${month}`;
    const distinct = new Map(keys.map((key) => [id(key.runId, key.month), chunkKey(key.runId, key.month)]));
    const found = new Map<string, ChunkItem>();
    await batchGetAll(
      this.doc,
      this.tableName,
      [...distinct.values()],
      (item) =>
        found.set(id(String(item.pk).slice('RUN#'.length), String(item.sk).slice('CHUNK#'.length)), stripKeys(item)),
      'chunk',
    );
    return keys.map((key) => found.get(id(key.runId, key.month)));
  }

  /**
   * Records a chunk's rejected rows (idempotent) and adds `costs` (every attempt's); a chunk
   * already loaded is left alone.
   */
  async markChunkTransformed(runId: string, month: string, rejected: RejectedRow[], costs?: Costs): Promise<void> {
    const add = addCostsClause(costs);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: `SET stage = :transformed, rejected = :rejected${add.clause}`,
          ConditionExpression: 'attribute_exists(pk) AND stage <> :loaded',
          ...costNames(add.names),
          ExpressionAttributeValues: {
            ':transformed': 'TRANSFORMED',
            ':loaded': 'LOADED',
            ':rejected': rejected,
            ...add.values,
          },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * Marks a chunk loaded with what the load did, adding `costs`. The first call wins; a
   * duplicate delivery leaves the stored counts as they are (its costs go through
   * `addChunkCosts`). Returns whether this call marked it.
   */
  async markChunkLoaded(
    runId: string,
    month: string,
    result: {
      counts: Omit<RunCounts, 'rejected'>;
      rejected: RejectedRow[];
      dateRange: { from: string; to: string } | null;
      costs?: Costs;
    },
  ): Promise<boolean> {
    const add = addCostsClause(result.costs);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: `SET stage = :loaded, counts = :counts, rejected = :rejected, dateRange = :range${add.clause}`,
          ConditionExpression: 'attribute_exists(pk) AND stage <> :loaded',
          ...costNames(add.names),
          ExpressionAttributeValues: {
            ':loaded': 'LOADED',
            ':counts': result.counts,
            ':rejected': result.rejected,
            ':range': result.dateRange,
            ...add.values,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /**
   * Adds `costs` to a chunk that exists (a duplicate delivery's, whose work is already
   * recorded); nothing when there is nothing to add.
   */
  async addChunkCosts(runId: string, month: string, costs: Costs | undefined): Promise<void> {
    const add = addCostsClause(costs);
    if (!add.clause) return;
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: add.clause.trim(),
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: add.names,
          ExpressionAttributeValues: add.values,
        }),
      )
      .catch((caught: unknown) => {
        if (!isConditionalCheckFailed(caught)) throw caught;
      });
  }

  /**
   * Remembers the last error a handler hit for a chunk, for `etl dlq peek` and stalled-run
   * reports, and adds what the failed attempt cost.
   */
  async recordChunkError(
    runId: string,
    month: string,
    error: { stage: 'transform' | 'load'; message: string; at: string; receiveCount?: number },
    costs?: Costs,
  ): Promise<void> {
    const add = addCostsClause(costs);
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: `SET lastError = :error ADD errors :one${add.clause.replace(' ADD', ',')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ...costNames(add.names),
          ExpressionAttributeValues: { ':error': error, ':one': 1, ...add.values },
        }),
      )
      .catch((caught: unknown) => {
        if (!isConditionalCheckFailed(caught)) throw caught;
      });
  }

  /**
   * Takes the load lease of a states or counties chunk (`county/48/2021-03`) for one of its
   * parts, until `until` (epoch ms), as `leaseMonth` does for a month of the nation: the
   * loader's day writes are unconditional batches, so this lease is what keeps two runs
   * (scheduled, manual, a revert) from writing the same (level, state, month) at once. The
   * item `LEASE`/`<chunk key>` names the holding run and the set of its parts being loaded:
   * a part of the holding run joins the set (and renews the lease); a free or run-out lease is
   * taken afresh (a crashed holder's parts are dropped). Returns `held` while another run's
   * lease is live: the caller retries later. At most two conditional UpdateItems.
   */
  async leaseGeoChunk(
    chunk: string,
    part: string,
    runId: string,
    { now, until }: { now: number; until: number },
  ): Promise<'taken' | 'held'> {
    const Key = { pk: GEO_LEASE_PARTITION, sk: chunk };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET leaseRun = :run, leaseUntil = :until, parts = :parts',
          ConditionExpression: 'attribute_not_exists(leaseRun) OR leaseUntil < :now',
          ExpressionAttributeValues: { ':run': runId, ':until': until, ':now': now, ':parts': new Set([part]) },
        }),
      );
      return 'taken';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET leaseUntil = :until ADD parts :parts',
          ConditionExpression: 'leaseRun = :run',
          ExpressionAttributeValues: { ':run': runId, ':until': until, ':parts': new Set([part]) },
        }),
      );
      return 'taken';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'held';
      throw error;
    }
  }

  /**
   * Takes `part` out of the chunk's lease if `runId` holds it, and gives the lease back once no
   * part of that run is being loaded (a part joining meanwhile keeps it). Safe to repeat. One
   * conditional UpdateItem when `part` is the lease's only part (a states chunk is one part;
   * parts loaded one after another each hold it alone), else at most three.
   */
  async releaseGeoChunk(chunk: string, part: string, runId: string): Promise<void> {
    const Key = { pk: GEO_LEASE_PARTITION, sk: chunk };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'REMOVE leaseRun, leaseUntil, parts',
          ConditionExpression: 'leaseRun = :run AND size(parts) = :one AND contains(parts, :part)',
          ExpressionAttributeValues: { ':run': runId, ':one': 1, ':part': part },
        }),
      );
      return;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // Other parts of the run hold it too (or it is not this run's, or this part left it already).
    try {
      const response = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'DELETE parts :parts',
          ConditionExpression: 'leaseRun = :run',
          ExpressionAttributeValues: { ':run': runId, ':parts': new Set([part]) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const parts = response.Attributes?.parts as Set<string> | undefined;
      if (parts && parts.size > 0) return;
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'REMOVE leaseRun, leaseUntil, parts',
          ConditionExpression: 'leaseRun = :run AND attribute_not_exists(parts)',
          ExpressionAttributeValues: { ':run': runId },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * Takes the lock of a state's catalogue and county summaries (`LEASE` / `catalogue/<state>`)
   * for `holder` until `until`: `true` when taken (free, run out, or already this holder's: a
   * redelivery after a crash takes its own lock back), `false` while another holder has it.
   * The loader holds it around `GeoCatalogRepository.applyLoaded`, whose read-compute-put of
   * those derived items cannot be conditional (BatchWriteItem): two parts of one state loaded at
   * once would otherwise write summaries computed from each other's stale reads.
   */
  async lockCatalogue(state: string, holder: string, { now, until }: { now: number; until: number }): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: GEO_LEASE_PARTITION, sk: catalogueLockKey(state) },
          UpdateExpression: 'SET lockHolder = :holder, lockUntil = :until',
          ConditionExpression: 'attribute_not_exists(lockHolder) OR lockUntil < :now OR lockHolder = :holder',
          ExpressionAttributeValues: { ':holder': holder, ':until': until, ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Gives a state's catalogue lock back if `holder` still has it. Safe to repeat. */
  async unlockCatalogue(state: string, holder: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: GEO_LEASE_PARTITION, sk: catalogueLockKey(state) },
          UpdateExpression: 'REMOVE lockHolder, lockUntil',
          ConditionExpression: 'lockHolder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}

/** The ledger's partition of the load leases of the states and counties chunks (`sk` = chunk key). */
export const GEO_LEASE_PARTITION = 'LEASE';

/** The sort key of a state's catalogue lock in {@link GEO_LEASE_PARTITION}: `catalogue/48` (no chunk key has this shape). */
const catalogueLockKey = (state: string) => `catalogue/${state}`;
