import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GeoChunkMessage, LoadChunkMessage, type TransformChunkMessage } from '@covid-etl/contracts';
import { lambdaContext, sqsRecordFactory } from '@covid-etl/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

const LEDGER_TABLE = 'covid-etl-dev-ledger';
const LOADER_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/covid-etl-dev-loader';
const RUN = 's-20261125T060000Z';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const savedEnv = { ...process.env };

type Handler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;
let handler: Handler;

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    ETL_ENVIRONMENT: 'dev',
    LEDGER_TABLE,
    LOADER_QUEUE_URL,
    LOG_LEVEL: 'silent',
  });
  delete process.env.ETL_FAULTS;
  ({ handler } = (await import('../src/handler.js')) as unknown as { handler: Handler });
});

afterAll(() => {
  process.env = savedEnv;
  dynamo.restore();
  sqs.restore();
});

beforeEach(() => {
  dynamo.reset();
  sqs.reset();
  // The chunk's run, read to drop chunks of an abandoned run.
  dynamo.on(GetCommand).resolves({ Item: { pk: 'RUN#s-20261125T060000Z', sk: 'RUN', status: 'RUNNING' } });
});

const chunk = (month: string): TransformChunkMessage => ({
  version: 1,
  runId: RUN,
  month,
  hash: 'e'.repeat(64),
  nyt: [
    { line: 2, date: `${month}-01`, cases: '10', deaths: '1' },
    { line: 3, date: `${month}-02`, cases: 'ten', deaths: '1' },
  ],
  jhu: [
    { line: 5, date: `${month}-01`, recovered: '0' },
    { line: 6, date: `${month}-02`, recovered: '1' },
  ],
});

describe('deployed transformer handler (handler.ts)', () => {
  it('records the rejections in LEDGER_TABLE and sends the joined records to LOADER_QUEUE_URL', async () => {
    // Prepare
    dynamo.on(UpdateCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '2020_03', MessageId: 'm', MD5OfMessageBody: '' }] });

    // Act
    const response = await handler({ Records: [sqsRecordFactory(chunk('2020-03'))] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: LEDGER_TABLE,
      Key: { pk: `RUN#${RUN}`, sk: 'CHUNK#2020-03' },
      ExpressionAttributeValues: expect.objectContaining({
        ':transformed': 'TRANSFORMED',
        ':rejected': [expect.objectContaining({ source: 'nyt', line: 3, column: 'cases', value: 'ten' })],
      }),
    });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    const input = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(LOADER_QUEUE_URL);
    expect(input?.Entries).toHaveLength(1);
    const load = LoadChunkMessage.parse(JSON.parse(String(input?.Entries?.[0]?.MessageBody)));
    expect(load.records).toEqual([{ date: '2020-03-01', cases: 10, deaths: 1, recovered: 0 }]);
    expect(load.rejected).toHaveLength(1);
  });

  it('forwards a part of a counties chunk to LOADER_QUEUE_URL as it is, marking its chunk item transformed', async () => {
    // Prepare
    const part: GeoChunkMessage = {
      version: 1,
      runId: RUN,
      level: 'county',
      chunk: 'county/72/2021-03',
      part: 'county/72/2021-03#01-01',
      hash: 'f'.repeat(64),
      days: [{ date: '2021-03-01', hash: 'a'.repeat(64) }],
      baseline: true,
      records: [
        { geo: '72001', date: '2021-03-01', cases: 300, deaths: null, line: 2 },
        { geo: '72-unknown', date: '2021-03-01', cases: 5, deaths: 0, line: 3 },
      ],
    };
    dynamo.on(UpdateCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: 'x', MessageId: 'm', MD5OfMessageBody: '' }] });

    // Act
    const response = await handler({ Records: [sqsRecordFactory(part)] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `RUN#${RUN}`, sk: 'CHUNK#county/72/2021-03#01-01' },
      ExpressionAttributeValues: expect.objectContaining({ ':transformed': 'TRANSFORMED', ':rejected': [] }),
    });
    const input = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(LOADER_QUEUE_URL);
    expect(GeoChunkMessage.parse(JSON.parse(String(input?.Entries?.[0]?.MessageBody)))).toEqual(part);
    expect(input?.Entries?.[0]?.Id).toBe('county_72_2021_03_01_01');
  });

  it('retries a Failed SendMessageBatch entry and reports the record when it keeps failing', async () => {
    // Prepare: zero backoff delays.
    const random = jest.spyOn(Math, 'random').mockReturnValue(0);
    dynamo.on(UpdateCommand).resolves({});
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Failed: [{ Id: '2020_04', Code: 'InternalError', SenderFault: false }] });
    const failing = sqsRecordFactory(chunk('2020-04'));

    // Act
    const response = await handler({ Records: [failing] }, lambdaContext());
    random.mockRestore();

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 5);
    expect(dynamo).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: LEDGER_TABLE,
      // The failed attempt's cost drivers are added in the same write.
      UpdateExpression: expect.stringMatching(/^SET lastError = :error ADD errors :one(, #cost_\w+ :cost_\w+)*$/),
    });
  });
});
