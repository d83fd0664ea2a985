/**
 * The monoliths' database, shared by the benchmarks: their own embedded dynalite (the same tuned
 * local stack as the pipeline's) with one data table, a metered client, and BatchWriteItem of
 * any number of items (25 a request, `UnprocessedItems` retried with backoff). Written plainly:
 * the floor to beat, not a product feature.
 */
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTables, startLocalDynamo } from '@covid-etl/local-stack';
import { dataTableDefinition, meterAwsClient } from '@covid-etl/platform';

export interface MonolithDb {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/** Starts dynalite in `<dir>/dynamodb` with the data table `table`. */
export async function openMonolithDb(dir: string, table: string): Promise<MonolithDb> {
  const db = await startLocalDynamo({ dir: path.join(dir, 'dynamodb') });
  try {
    const client = meterAwsClient(
      // In process, like the pipeline's clients (handler and signer): both engines pay the same per request.
      new DynamoDBClient(db.clientConfig),
    );
    await ensureTables(client, [dataTableDefinition(table)]);
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    return { client, doc, close: () => db.close() };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** Puts `items` into `table`, 25 a request, retrying unprocessed items. */
export async function putAll(doc: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    let requests: Record<string, unknown>[] | undefined = items
      .slice(i, i + 25)
      .map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests?.length; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      const answer = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = answer.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined;
    }
  }
}
