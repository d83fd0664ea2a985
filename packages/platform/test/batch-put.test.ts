import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { BATCH_WRITE_ATTEMPTS, batchGetAll, batchPutAll, TransientError } from '../src/index.js';

const TABLE = 'covid-etl-test-data';
const dynamo = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ pk: 'P', sk: String(i).padStart(3, '0') }));
type Put = { PutRequest: { Item: { sk: string } } };
const sent = (call: number) =>
  ((dynamo.commandCalls(BatchWriteCommand)[call]?.args[0].input.RequestItems?.[TABLE] ?? []) as Put[]).map(
    (request) => request.PutRequest.Item.sk,
  );

beforeEach(() => {
  dynamo.reset();
  // Backoff delays of zero: the retries are what is tested, not the waiting.
  jest.spyOn(Math, 'random').mockReturnValue(0);
});

afterEach(() => {
  jest.restoreAllMocks();
});

afterAll(() => {
  dynamo.restore();
});

describe('batchPutAll', () => {
  it('puts every item in requests of 25 and sends again exactly the unprocessed ones', async () => {
    // Prepare: the first request leaves items 003 and 020 unprocessed.
    const all = items(30);
    const unprocessed = [all[3], all[20]].map((Item) => ({ PutRequest: { Item } }));
    dynamo
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: unprocessed } })
      .resolves({ UnprocessedItems: {} });
    let requests = 0;

    // Act
    const batches = await batchPutAll(doc, TABLE, all, {
      onRequest: () => {
        requests += 1;
      },
    });

    // Assess
    expect(batches).toBe(2);
    expect(requests).toBe(3);
    expect([sent(0).length, sent(1), sent(2).length]).toEqual([25, ['003', '020'], 5]);
    expect(new Set([...sent(0), ...sent(2)]).size).toBe(30);
  });

  it('gives up after the retries with a one-line TransientError naming what was left', async () => {
    // Prepare: every request leaves its first item unprocessed.
    dynamo.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
      UnprocessedItems: { [TABLE]: (input.RequestItems[TABLE] ?? []).slice(0, 1) },
    }));

    // Act
    const writing = batchPutAll(doc, TABLE, items(3), { what: 'day' });

    // Assess
    await expect(writing).rejects.toThrow(TransientError);
    await expect(writing).rejects.toThrow(
      `BatchWriteItem left 1 day item(s) unprocessed in ${TABLE} after ${BATCH_WRITE_ATTEMPTS} attempts (throttled); retry later`,
    );
    expect(dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, BATCH_WRITE_ATTEMPTS);
    expect(sent(BATCH_WRITE_ATTEMPTS - 1)).toEqual(['000']);
  });

  it('sends nothing for no items', async () => {
    // Act
    const batches = await batchPutAll(doc, TABLE, []);

    // Assess
    expect(batches).toBe(0);
    expect(dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, 0);
  });
});

describe('batchGetAll', () => {
  type Get = { sk: string };
  const asked = (call: number) =>
    ((dynamo.commandCalls(BatchGetCommand)[call]?.args[0].input.RequestItems?.[TABLE]?.Keys ?? []) as Get[]).map(
      (key) => key.sk,
    );

  it('reads every key in strongly consistent requests of 100 and asks again exactly for the unprocessed ones', async () => {
    // Prepare: 130 keys; the first request answers all but 005 and 050, left unprocessed.
    const keys = items(130);
    dynamo
      .on(BatchGetCommand)
      .callsFakeOnce((input: { RequestItems: Record<string, { Keys: Get[] }> }) => ({
        Responses: { [TABLE]: (input.RequestItems[TABLE]?.Keys ?? []).filter((k) => k.sk !== '005' && k.sk !== '050') },
        UnprocessedKeys: { [TABLE]: { Keys: [keys[5], keys[50]] } },
      }))
      .callsFake((input: { RequestItems: Record<string, { Keys: Get[] }> }) => ({
        Responses: { [TABLE]: input.RequestItems[TABLE]?.Keys ?? [] },
      }));
    const found: string[] = [];

    // Act
    await batchGetAll(doc, TABLE, keys, (item) => found.push(String(item.sk)), 'day');

    // Assess
    expect([asked(0).length, asked(1), asked(2).length]).toEqual([100, ['005', '050'], 30]);
    expect(new Set(found).size).toBe(130);
    expect(
      dynamo.commandCalls(BatchGetCommand).every((call) => call.args[0].input.RequestItems?.[TABLE]?.ConsistentRead),
    ).toBe(true);
  });

  it('gives up after the retries with a one-line TransientError naming what was left', async () => {
    // Prepare: every request leaves its first key unprocessed.
    dynamo.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: Get[] }> }) => ({
      Responses: { [TABLE]: (input.RequestItems[TABLE]?.Keys ?? []).slice(1) },
      UnprocessedKeys: { [TABLE]: { Keys: (input.RequestItems[TABLE]?.Keys ?? []).slice(0, 1) } },
    }));

    // Act / Assess
    await expect(batchGetAll(doc, TABLE, items(3), () => undefined, 'day')).rejects.toThrow(
      new TransientError('DynamoDB left 1 day reads unprocessed'),
    );
  });
});
