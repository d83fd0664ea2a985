import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { LedgerRepository, TransientError } from '../src/index.js';

const TABLE = 'covid-etl-test-ledger';
const RUN = 's-20261125T060000Z';
const dynamo = mockClient(DynamoDBDocumentClient);
const months = (n: number) =>
  Array.from({ length: n }, (_, i) => `${2020 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`);
const plan = (n: number) => {
  const list = months(n);
  return {
    sources: [],
    months: list,
    hashes: Object.fromEntries(list.map((month) => [month, 'a'.repeat(64)])),
    skipped: { months: 0, records: 0 },
  };
};
type PutRequest = { PutRequest: { Item: { month: string } } };
const monthsOf = (call: number) =>
  ((dynamo.commandCalls(BatchWriteCommand)[call]?.args[0].input.RequestItems?.[TABLE] ?? []) as PutRequest[]).map(
    (request) => request.PutRequest.Item.month,
  );

beforeEach(() => {
  dynamo.reset();
  dynamo.on(UpdateCommand).resolves({});
  // Backoff delays of zero: the retries are what is tested, not the waiting.
  jest.spyOn(Math, 'random').mockReturnValue(0);
});

afterEach(() => {
  jest.restoreAllMocks();
});

afterAll(() => {
  dynamo.restore();
});

describe('LedgerRepository.recordDispatchPlan (BatchWriteItem)', () => {
  it('writes at most 25 chunk items per BatchWriteItem call', async () => {
    // Prepare
    dynamo.on(BatchWriteCommand).resolves({ UnprocessedItems: {} });
    const ledger = new LedgerRepository(DynamoDBDocumentClient.from(new DynamoDBClient({})), TABLE);

    // Act
    await ledger.recordDispatchPlan(RUN, plan(30));

    // Assess
    expect(dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, 2);
    expect([monthsOf(0).length, monthsOf(1).length]).toEqual([25, 5]);
    expect(new Set([...monthsOf(0), ...monthsOf(1)]).size).toBe(30);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, { TableName: TABLE, Key: { pk: `RUN#${RUN}`, sk: 'RUN' } });
  });

  it('retries exactly the UnprocessedItems of a call', async () => {
    // Prepare: the first call leaves two items unprocessed, the retry takes them.
    const all = plan(5);
    const unprocessed = months(5)
      .filter((month) => month === '2020-02' || month === '2020-05')
      .map((month) => ({
        PutRequest: {
          Item: {
            pk: `RUN#${RUN}`,
            sk: `CHUNK#${month}`,
            runId: RUN,
            month,
            hash: 'a'.repeat(64),
            stage: 'SENT',
            rejected: [],
          },
        },
      }));
    dynamo
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: unprocessed } })
      .resolves({ UnprocessedItems: {} });
    const ledger = new LedgerRepository(DynamoDBDocumentClient.from(new DynamoDBClient({})), TABLE);

    // Act
    await ledger.recordDispatchPlan(RUN, all);

    // Assess
    expect(dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, 2);
    expect(monthsOf(0)).toEqual(months(5));
    expect(monthsOf(1)).toEqual(['2020-02', '2020-05']);
    expect(dynamo.commandCalls(BatchWriteCommand)[1]?.args[0].input.RequestItems?.[TABLE]).toEqual(unprocessed);
  });

  it('throws a TransientError when items stay unprocessed after the retries', async () => {
    // Prepare
    dynamo.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
      UnprocessedItems: { [TABLE]: (input.RequestItems[TABLE] ?? []).slice(0, 1) },
    }));
    const ledger = new LedgerRepository(DynamoDBDocumentClient.from(new DynamoDBClient({})), TABLE);

    // Act
    const recording = ledger.recordDispatchPlan(RUN, plan(3));

    // Assess
    await expect(recording).rejects.toThrow(TransientError);
    await expect(recording).rejects.toThrow('BatchWriteItem left 1 chunk item(s) unprocessed');
    expect(dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, 5);
    expect(monthsOf(4)).toEqual(['2020-01']);
  });
});
