import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { LoadChunkMessage } from '@covid-etl/contracts';
import { lambdaContext, sqsRecordFactory } from '@covid-etl/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

const DATA_TABLE = 'covid-etl-dev-data';
const LEDGER_TABLE = 'covid-etl-dev-ledger';
const EVENT_BUS_NAME = 'covid-etl-dev';
const RUN = 's-20261125T060000Z';
const HASH = 'c'.repeat(64);

const dynamo = mockClient(DynamoDBDocumentClient);
const eventBridge = mockClient(EventBridgeClient);
const savedEnv = { ...process.env };

type Handler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;
let handler: Handler;

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    ETL_ENVIRONMENT: 'dev',
    DATA_TABLE,
    LEDGER_TABLE,
    EVENT_BUS_NAME,
    LOG_LEVEL: 'silent',
  });
  delete process.env.ETL_FAULTS;
  ({ handler } = (await import('../src/handler.js')) as unknown as { handler: Handler });
});

afterAll(() => {
  process.env = savedEnv;
  dynamo.restore();
  eventBridge.restore();
});

beforeEach(() => {
  dynamo.reset();
  eventBridge.reset();
});

const run = {
  pk: `RUN#${RUN}`,
  sk: 'RUN',
  runId: RUN,
  environment: 'dev',
  trigger: 'schedule',
  status: 'RUNNING',
  startedAt: '2026-11-25T06:00:00.000Z',
  dispatch: 'SENT',
  sources: [],
  months: ['2020-03'],
  skipped: { months: 0, records: 0 },
};
const chunk = { pk: `RUN#${RUN}`, sk: 'CHUNK#2020-03', runId: RUN, month: '2020-03', hash: HASH, rejected: [] };
const load: LoadChunkMessage = {
  version: 1,
  runId: RUN,
  month: '2020-03',
  hash: HASH,
  records: [
    { date: '2020-03-01', cases: 10, deaths: 1, recovered: 0 },
    { date: '2020-03-02', cases: 12, deaths: 1, recovered: 0 },
  ],
  rejected: [],
};

describe('deployed loader handler (handler.ts)', () => {
  it('writes to DATA_TABLE, marks the chunk in LEDGER_TABLE and puts EtlRunCompleted on EVENT_BUS_NAME', async () => {
    // Prepare: a one-chunk run; the chunk reads as TRANSFORMED first, LOADED once marked.
    dynamo.on(GetCommand, { TableName: LEDGER_TABLE, Key: { pk: `RUN#${RUN}`, sk: 'RUN' } }).resolves({ Item: run });
    dynamo
      .on(BatchGetCommand)
      .resolves({ Responses: { [LEDGER_TABLE]: [{ ...chunk, stage: 'TRANSFORMED' }] }, UnprocessedKeys: {} });
    dynamo.on(QueryCommand, { TableName: DATA_TABLE }).resolves({ Items: [] });
    dynamo
      .on(QueryCommand, { TableName: LEDGER_TABLE })
      .resolves({ Items: [{ ...chunk, stage: 'LOADED', counts: {} }] });
    dynamo.on(PutCommand).resolves({});
    dynamo.on(BatchWriteCommand).resolves({});
    // Counting the chunk on its run answers the run as it is after the change.
    dynamo
      .on(UpdateCommand)
      .callsFake((input: { UpdateExpression?: string }) =>
        input.UpdateExpression?.startsWith('ADD loaded :months')
          ? { Attributes: { ...run, loaded: new Set(['2020-03']) } }
          : {},
      );
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });

    // Act
    const response = await handler({ Records: [sqsRecordFactory(load)] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const dataWrites = dynamo
      .commandCalls(BatchWriteCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.[DATA_TABLE] ?? [])
      .map((request) => request.PutRequest?.Item);
    // One BatchWriteItem of the data table (days and versions), one of the ledger (the month's state).
    expect(
      dynamo.commandCalls(BatchWriteCommand).map((call) => Object.keys(call.args[0].input.RequestItems ?? {})),
    ).toEqual([[DATA_TABLE], [LEDGER_TABLE]]);
    const dayWrites = dataWrites.filter((item) => item?.pk === 'US');
    expect(dayWrites.map((item) => item?.sk).sort()).toEqual(['2020-03-01', '2020-03-02']);
    // One version item per inserted day, in the same table, indexed by run, keyed by the run's start.
    const versionWrites = dataWrites.filter((item) => item?.pk !== 'US');
    expect(versionWrites.map((item) => [item?.pk, item?.sk, item?.vrun, item?.vdate, item?.before]).sort()).toEqual([
      ['DAY#2020-03-01', `${run.startedAt}#${RUN}`, RUN, '2020-03-01', null],
      ['DAY#2020-03-02', `${run.startedAt}#${RUN}`, RUN, '2020-03-02', null],
    ]);
    // The month's lease is taken before the writes, in the ledger.
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: LEDGER_TABLE,
      Key: { pk: 'MONTH', sk: '2020-03' },
      UpdateExpression: 'SET leaseRun = :run, leaseUntil = :until',
    });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: LEDGER_TABLE,
      Key: { pk: `RUN#${RUN}`, sk: 'CHUNK#2020-03' },
      ExpressionAttributeValues: expect.objectContaining({ ':counts': { inserted: 2, updated: 0, unchanged: 0 } }),
    });
    expect(dynamo).toHaveReceivedCommandWith(BatchWriteCommand, {
      RequestItems: {
        [LEDGER_TABLE]: [
          {
            PutRequest: { Item: { pk: 'MONTH', sk: '2020-03', month: '2020-03', hash: HASH, records: 2, runId: RUN } },
          },
        ],
      },
    });
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const entry = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      EventBusName: EVENT_BUS_NAME,
      Source: 'covid-etl.pipeline',
      DetailType: 'EtlRunCompleted',
    });
    expect(JSON.parse(String(entry?.Detail))).toMatchObject({
      version: 1,
      summary: { runId: RUN, status: 'SUCCEEDED' },
    });
  });

  it('reports the record as failed when DynamoDB throws, so SQS retries it', async () => {
    // Prepare
    dynamo
      .on(GetCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    dynamo.on(UpdateCommand).resolves({});
    const record = sqsRecordFactory(load);

    // Act
    const response = await handler({ Records: [record] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: LEDGER_TABLE,
      Key: { pk: `RUN#${RUN}`, sk: 'CHUNK#2020-03' },
      // The failed attempt's cost drivers are added in the same write.
      UpdateExpression: expect.stringMatching(/^SET lastError = :error ADD errors :one(, #cost_\w+ :cost_\w+)*$/),
    });
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 0);
  });
});
