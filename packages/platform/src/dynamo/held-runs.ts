import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { GateTrip, RunSummary } from '@covid-etl/contracts';
import { isConditionalCheckFailed } from './client.js';
import { LedgerTable, runKey } from './ledger-items.js';

/** One month chunk of a HELD snapshot: the transformer message the run would have sent. */
export interface HeldChunk {
  month: string;
  /** The `TransformChunkMessage` as JSON (at most 256 KiB: the SQS limit, under DynamoDB's 400 KB item). */
  body: string;
}

const HELD_PREFIX = 'HELD#';

/**
 * What a HELD run keeps so that `etl approve` loads exactly its snapshot: every month chunk of
 * the snapshot, in the ledger table beside the run (`RUN#<runId>` / `HELD#<month>`), the same
 * locally and in AWS. And the decision transitions: HELD → RUNNING (approve) and HELD →
 * REJECTED (reject), both conditional, so a decision is taken once.
 */
export class HeldRunRepository extends LedgerTable {
  /** Stores the snapshot's chunks (idempotent: the same run id holds the same snapshot). */
  async putChunks(runId: string, chunks: HeldChunk[]): Promise<void> {
    for (const chunk of chunks) {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `RUN#${runId}`, sk: `${HELD_PREFIX}${chunk.month}`, runId, ...chunk },
        }),
      );
    }
  }

  /** The held snapshot's chunks in month order (strongly consistent). */
  async getChunks(runId: string): Promise<HeldChunk[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :held)',
      ExpressionAttributeValues: { ':pk': `RUN#${runId}`, ':held': HELD_PREFIX },
      ConsistentRead: true,
    });
    return items
      .map((item) => ({ month: String(item.month), body: String(item.body) }))
      .sort((a, b) => a.month.localeCompare(b.month));
  }

  /**
   * HELD → RUNNING with the decision recorded and the held outcome cleared (the gates it
   * tripped kept on the run, for its final summary), so the run goes through dispatch and
   * loading like any run. Returns false when the run is not HELD.
   */
  async approve(runId: string, decision: { at: string; by?: string }, gates: GateTrip[]): Promise<boolean> {
    return this.transition(runId, {
      UpdateExpression:
        'SET #s = :running, dispatch = :pending, decision = :decision, gates = :gates REMOVE summary, finishedAt, event',
      ExpressionAttributeValues: {
        ':running': 'RUNNING',
        ':pending': 'PENDING',
        ':decision': { action: 'approve', ...decision },
        ':gates': gates,
      },
    });
  }

  /** HELD → REJECTED with the decision and the updated summary. Returns false when the run is not HELD. */
  async reject(runId: string, decision: { at: string; by?: string }, summary: RunSummary): Promise<boolean> {
    return this.transition(runId, {
      UpdateExpression: 'SET #s = :rejected, decision = :decision, summary = :summary, finishedAt = :at',
      ExpressionAttributeValues: {
        ':rejected': 'REJECTED',
        ':decision': { action: 'reject', ...decision },
        ':summary': summary,
        ':at': decision.at,
      },
    });
  }

  private async transition(
    runId: string,
    update: { UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> },
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          ConditionExpression: '#s = :held',
          ExpressionAttributeNames: { '#s': 'status' },
          ...update,
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':held': 'HELD' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
