import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { MAX_MESSAGE_BYTES } from '@covid-etl/contracts';
import { PermanentError, TransientError } from '../errors.js';
import type { MessageSender, OutgoingMessage, OutgoingMessages } from '../ports.js';
import { retryPending } from '../retry.js';
import { sqsBatches } from '../sqs-batches.js';

/**
 * Sends to one SQS queue with SendMessageBatch: at most 10 entries a call, every `Failed`
 * entry retried with backoff (the call can succeed while entries fail), sender faults
 * (`SenderFault: true`, e.g. an invalid body) thrown as permanent. A body over 256 KiB is
 * refused before its batch is sent (the batches before it have gone: messages are read a batch
 * at a time, see `MessageSender`). Throws if any message is still unsent after the retries.
 */
export class SqsMessageSender implements MessageSender {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly options: { maxAttempts?: number; baseDelayMs?: number } = {},
  ) {}

  async sendAll(messages: OutgoingMessages): Promise<void> {
    for await (const batch of sqsBatches(messages)) {
      for (const message of batch) {
        const bytes = Buffer.byteLength(message.body, 'utf8');
        if (bytes > MAX_MESSAGE_BYTES) {
          throw new PermanentError(`Message ${message.id} is ${bytes} bytes; SQS takes at most ${MAX_MESSAGE_BYTES}`);
        }
      }
      const unsent = await retryPending(batch, (pending) => this.sendBatch(pending), this.options);
      if (unsent.length > 0) {
        throw new TransientError(
          `SendMessageBatch to ${this.queueUrl} still failing for ${unsent.length} message(s) (${unsent.map((m) => m.id).join(', ')}) after retries`,
        );
      }
    }
  }

  private async sendBatch(batch: OutgoingMessage[]): Promise<OutgoingMessage[]> {
    const entries: SendMessageBatchRequestEntry[] = batch.map((message) => ({
      Id: message.id,
      MessageBody: message.body,
    }));
    const response = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
    const failed = response.Failed ?? [];
    const senderFault = failed.find((entry) => entry.SenderFault);
    if (senderFault) {
      throw new PermanentError(
        `SQS refused message ${senderFault.Id}: ${senderFault.Code ?? 'error'} ${senderFault.Message ?? ''}`.trim(),
      );
    }
    const failedIds = new Set(failed.map((entry) => entry.Id));
    return batch.filter((message) => failedIds.has(message.id));
  }
}
