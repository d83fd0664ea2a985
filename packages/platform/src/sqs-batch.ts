import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * Processes every record of an SQS batch on its own (concurrently) and answers the partial
 * batch response Lambda reads: one `batchItemFailures` entry per rejected record, identified by
 * its `messageId` (never empty: an empty, null or unknown `itemIdentifier` would fail the whole
 * batch). An empty list means every record succeeded. Lambda honours the list only when the
 * event source mapping has `function_response_types = ["ReportBatchItemFailures"]` (checked in
 * the Terraform plan tests).
 */
export async function processBatch(
  event: SQSEvent,
  processRecord: (record: SQSRecord, event: SQSEvent) => Promise<void>,
): Promise<SQSBatchResponse> {
  const settled = await Promise.allSettled(event.Records.map((record) => processRecord(record, event)));
  return {
    batchItemFailures: event.Records.filter((_record, index) => settled[index]?.status === 'rejected').map(
      (record) => ({ itemIdentifier: record.messageId }),
    ),
  };
}

/**
 * The one middy handler of every SQS-triggered service (transformer, loader, notifier):
 * `processBatch` over `processRecord`, with middy's early timeout (default 5 ms; tests pass 0).
 */
export function createBatchHandler(
  processRecord: (record: SQSRecord, event: SQSEvent) => Promise<void>,
  { timeoutEarlyInMillis = 5 }: { timeoutEarlyInMillis?: number } = {},
): MiddyfiedHandler<SQSEvent, SQSBatchResponse, Error, Context> {
  return middy<SQSEvent, SQSBatchResponse, Error, Context>({ timeoutEarlyInMillis }).handler((event) =>
    processBatch(event, processRecord),
  );
}
