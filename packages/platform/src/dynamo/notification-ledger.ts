import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './client.js';
import { LedgerTable, type NotificationClaim } from './ledger-items.js';

/** The ledger's notification claims: one notification per run and event, even under redelivery. */
export class DynamoNotificationLedger extends LedgerTable {
  /**
   * Claims the right to notify one event of one run. `claimed`: nobody notified it and no
   * other claim's lease holds (call `markNotified` after publishing); `sent`: already notified;
   * `in-progress`: another delivery holds the lease (retry later: it may yet fail).
   */
  async claimNotification(
    runId: string,
    detailType: string,
    now: number,
    leaseUntil: number,
  ): Promise<NotificationClaim> {
    const key = { pk: `NOTIFY#${runId}`, sk: detailType };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, state: 'SENDING', leaseUntil },
          ConditionExpression: 'attribute_not_exists(pk) OR (#st = :sending AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: { ':sending': 'SENDING', ':now': now },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const current = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return current.Item?.state === 'SENT' ? 'sent' : 'in-progress';
    }
  }

  async markNotified(runId: string, detailType: string, messageId: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `NOTIFY#${runId}`, sk: detailType, state: 'SENT', messageId },
      }),
    );
  }
}
