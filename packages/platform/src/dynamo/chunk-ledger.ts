import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RejectedRow, RunCounts } from '@covid-etl/contracts';
import { isConditionalCheckFailed } from './client.js';
import { type ChunkItem, chunkKey, LedgerTable, stripKeys } from './ledger-items.js';

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

  /** Records a chunk's rejected rows (idempotent); a chunk already loaded is left alone. */
  async markChunkTransformed(runId: string, month: string, rejected: RejectedRow[]): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: 'SET stage = :transformed, rejected = :rejected',
          ConditionExpression: 'attribute_exists(pk) AND stage <> :loaded',
          ExpressionAttributeValues: { ':transformed': 'TRANSFORMED', ':loaded': 'LOADED', ':rejected': rejected },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * Marks a chunk loaded with what the load did. The first call wins; a duplicate delivery
   * leaves the stored counts as they are. Returns whether this call marked it.
   */
  async markChunkLoaded(
    runId: string,
    month: string,
    result: {
      counts: Omit<RunCounts, 'rejected'>;
      rejected: RejectedRow[];
      dateRange: { from: string; to: string } | null;
    },
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: 'SET stage = :loaded, counts = :counts, rejected = :rejected, dateRange = :range',
          ConditionExpression: 'attribute_exists(pk) AND stage <> :loaded',
          ExpressionAttributeValues: {
            ':loaded': 'LOADED',
            ':counts': result.counts,
            ':rejected': result.rejected,
            ':range': result.dateRange,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Remembers the last error a handler hit for a chunk, for `etl dlq peek` and stalled-run reports. */
  async recordChunkError(
    runId: string,
    month: string,
    error: { stage: 'transform' | 'load'; message: string; at: string; receiveCount?: number },
  ): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: 'SET lastError = :error ADD errors :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':error': error, ':one': 1 },
        }),
      )
      .catch((caught: unknown) => {
        if (!isConditionalCheckFailed(caught)) throw caught;
      });
  }
}
