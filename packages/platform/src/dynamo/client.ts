import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { meterAwsClient } from '../costs.js';
import { TransientError } from '../errors.js';
import { chunksOf, retryPending } from '../retry.js';

/** Items of one BatchWriteItem request (the DynamoDB limit). */
export const BATCH_WRITE_ITEMS = 25;
/** BatchWriteItem attempts per request before its unprocessed items are given up on. */
export const BATCH_WRITE_ATTEMPTS = 5;

/**
 * A DocumentClient that drops undefined attributes, its requests metered (`meterAwsClient`);
 * `config` may point at a local endpoint.
 */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(meterAwsClient(new DynamoDBClient(config)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** True for the error DynamoDB returns when a ConditionExpression does not hold. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Every item a Query matches, following `LastEvaluatedKey` page by page. */
export async function queryAllItems(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const items of queryPages(doc, input)) out.push(...items);
  return out;
}

/**
 * The items of a Query page by page (`LastEvaluatedKey` followed, from the input's own
 * `ExclusiveStartKey` when it has one), each page read when the one before is consumed.
 */
export async function* queryPages(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
): AsyncGenerator<Record<string, unknown>[]> {
  let ExclusiveStartKey: Record<string, unknown> | undefined = input.ExclusiveStartKey;
  do {
    const page = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    yield page.Items ?? [];
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
}

/** Keys of one BatchGetItem request (the DynamoDB limit). */
export const BATCH_GET_KEYS = 100;

/**
 * Reads items by key with BatchGetItem (strongly consistent, 100 keys a request), each request's
 * `UnprocessedKeys` retried with backoff; `onItem` gets every item found (absent keys: none).
 * Throws naming `what` if keys are still unprocessed after the retries.
 */
export async function batchGetAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  onItem: (item: Record<string, unknown>) => void,
  what = 'item',
): Promise<void> {
  for (const batch of chunksOf(keys, BATCH_GET_KEYS)) {
    const left = await retryPending(batch, async (pending) => {
      const response = await doc.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of response.Responses?.[tableName] ?? []) onItem(item);
      return (response.UnprocessedKeys?.[tableName]?.Keys ?? []) as typeof pending;
    });
    if (left.length > 0) throw new TransientError(`DynamoDB left ${left.length} ${what} reads unprocessed`);
  }
}

/** Options of {@link batchPutAll}. */
export interface BatchPutOptions {
  /** What the items are, for the error: `BatchWriteItem left 3 day item(s) unprocessed…`. */
  what?: string;
  /** Called before each BatchWriteItem request, retries included (a request counter). */
  onRequest?: () => void;
}

/**
 * Puts `items` into `tableName` with BatchWriteItem, 25 a request, one request at a time; the
 * `UnprocessedItems` of a request are sent again (exactly those) with full-jitter backoff, at
 * most {@link BATCH_WRITE_ATTEMPTS} attempts. Throws a {@link TransientError} naming how many
 * items stayed unprocessed (throttling: retry later); the requests before it are written.
 * Unconditional puts (BatchWriteItem takes no condition): idempotent when the items are.
 * Returns the number of requests of 25 (retries not counted).
 */
export async function batchPutAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  items: readonly Record<string, unknown>[],
  options: BatchPutOptions = {},
): Promise<number> {
  return batchWriteAll(
    doc,
    tableName,
    items.map((Item) => ({ PutRequest: { Item } })),
    options,
  );
}

/** Deletes the items of `keys` as {@link batchPutAll} puts items (25 a request, unprocessed ones retried). */
export async function batchDeleteAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  options: BatchPutOptions = {},
): Promise<number> {
  return batchWriteAll(
    doc,
    tableName,
    keys.map((Key) => ({ DeleteRequest: { Key } })),
    options,
  );
}

type WriteRequest =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  { what = 'table', onRequest }: BatchPutOptions,
): Promise<number> {
  const batches = chunksOf(requests, BATCH_WRITE_ITEMS);
  for (const batch of batches) {
    const left = await retryPending(
      batch,
      async (pending) => {
        onRequest?.();
        const response = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        return (response.UnprocessedItems?.[tableName] ?? []) as typeof pending;
      },
      { maxAttempts: BATCH_WRITE_ATTEMPTS },
    );
    if (left.length > 0) {
      throw new TransientError(
        `BatchWriteItem left ${left.length} ${what} item(s) unprocessed in ${tableName} after ${BATCH_WRITE_ATTEMPTS} attempts (throttled); retry later`,
      );
    }
  }
  return batches.length;
}
