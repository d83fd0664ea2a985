import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TransformChunkMessage } from '@covid-etl/contracts';
import { dateRange, jhuCsv, lambdaContext, nytCsv } from '@covid-etl/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

const LEDGER_TABLE = 'covid-etl-dev-ledger';
const TRANSFORMER_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/covid-etl-dev-transformer';
const NYT_URL = 'https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv';
const JHU_URL = 'https://raw.githubusercontent.com/datasets/covid-19/main/data/time-series-19-covid-combined.csv';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const savedEnv = { ...process.env };
const savedFetch = globalThis.fetch;

/** 2020-03-01 to 2021-04-04: 14 months, so the chunks need two SendMessageBatch calls. */
const days = dateRange('2020-03-01', 400);
const bodies: Record<string, string> = {
  [NYT_URL]: nytCsv(days.map((date, i) => ({ date, cases: 10 * i, deaths: i }))),
  [JHU_URL]: jhuCsv(days.map((date) => ({ date, recovered: 0 }))),
};
const fetched: string[] = [];

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
let handler: Handler;

beforeAll(async () => {
  // No network: the sources are answered in memory (HttpSourceDownloader takes the global fetch).
  globalThis.fetch = (async (url: string | URL) => {
    fetched.push(String(url));
    const body = bodies[String(url)];
    return body === undefined
      ? new Response('not found', { status: 404 })
      : new Response(body, { status: 200, headers: { etag: `"${body.length}"` } });
  }) as typeof fetch;
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    ETL_ENVIRONMENT: 'dev',
    LEDGER_TABLE,
    DATA_TABLE: 'covid-etl-dev-data',
    TRANSFORMER_QUEUE_URL,
    EVENT_BUS_NAME: 'covid-etl-dev',
    NYT_URL,
    JHU_URL,
    // The national series only: the states and counties are tested in geo-sources.test.ts.
    GEO_LEVELS: 'nation',
    LOG_LEVEL: 'silent',
  });
  delete process.env.ETL_FAULTS;
  // No DNS either: the URL policy resolves the sources' hosts to a public address.
  jest.unstable_mockModule('node:dns/promises', () => ({
    lookup: async () => [{ address: '185.199.108.133', family: 4 }],
  }));
  ({ handler } = (await import('../src/handler.js')) as unknown as { handler: Handler });
});

afterAll(() => {
  globalThis.fetch = savedFetch;
  process.env = savedEnv;
  dynamo.restore();
  sqs.restore();
});

beforeEach(() => {
  dynamo.reset();
  sqs.reset();
  fetched.length = 0;
});

describe('deployed fetcher handler (handler.ts)', () => {
  it('writes the run and its plan to LEDGER_TABLE, then sends the chunks to TRANSFORMER_QUEUE_URL in batches of 10', async () => {
    // Prepare: record the order of the calls across both clients.
    const order: string[] = [];
    dynamo.on(PutCommand).callsFake(() => {
      order.push('create run');
      return {};
    });
    dynamo.on(QueryCommand).resolves({ Items: [] });
    dynamo.on(BatchWriteCommand).callsFake(() => {
      order.push('chunk items');
      return { UnprocessedItems: {} };
    });
    dynamo.on(UpdateCommand).callsFake((input: { UpdateExpression?: string }) => {
      order.push(input.UpdateExpression?.includes('dispatch') ? 'mark dispatched' : 'plan');
      return {};
    });
    dynamo.on(GetCommand).resolves({});
    dynamo.on(BatchGetCommand).resolves({ Responses: {} });
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => {
      order.push('send');
      return {
        Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: entry.Id, MD5OfMessageBody: '' })),
      };
    });

    // Act
    const result = await handler({ trigger: 'schedule', scheduledTime: '2026-11-25T06:00:00Z' }, lambdaContext());

    // Assess
    expect(result).toEqual({ runId: 's-20261125T060000Z', joined: false, status: 'RUNNING', chunks: 14 });
    // Both sources at once: in either order.
    expect([...fetched].sort()).toEqual([NYT_URL, JHU_URL].sort());
    expect(order).toEqual(['create run', 'plan', 'chunk items', 'send', 'send', 'mark dispatched']);
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      TableName: LEDGER_TABLE,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: expect.objectContaining({ pk: 'RUN#s-20261125T060000Z', status: 'RUNNING', trigger: 'schedule' }),
    });
    const batches = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(batches.map((batch) => batch.Entries?.length)).toEqual([10, 4]);
    expect(batches.every((batch) => batch.QueueUrl === TRANSFORMER_QUEUE_URL)).toBe(true);
    const messages = batches.flatMap((batch) =>
      (batch.Entries ?? []).map((entry) => TransformChunkMessage.parse(JSON.parse(String(entry.MessageBody)))),
    );
    expect(messages.map((message) => message.month)).toEqual([
      ...['03', '04', '05', '06', '07', '08', '09', '10', '11', '12'].map((month) => `2020-${month}`),
      '2021-01',
      '2021-02',
      '2021-03',
      '2021-04',
    ]);
    expect(messages.reduce((sum, message) => sum + message.nyt.length, 0)).toBe(400);
  });

  it('refuses an invalid input with a PermanentError that says what is wrong, touching nothing', async () => {
    // Act
    const invoking = handler({ trigger: 'nightly', scheduledTime: 'yesterday' }, lambdaContext());

    // Assess
    await expect(invoking).rejects.toMatchObject({
      name: 'PermanentError',
      message: expect.stringMatching(/^Invalid fetcher input: trigger: .*; scheduledTime: /),
    });
    expect(dynamo.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('refuses a plain http source URL in a deployed environment before recording a run', async () => {
    // Act
    const invoking = handler({ trigger: 'manual', sources: { nyt: 'http://example.org/us.csv' } }, lambdaContext());

    // Assess
    await expect(invoking).rejects.toMatchObject({
      name: 'SourceUrlRefusedError',
      message: 'nyt URL "http://example.org/us.csv" is refused in the dev environment: only https:// URLs are accepted',
    });
    expect(dynamo.calls()).toHaveLength(0);
    expect(fetched).toEqual([]);
  });
});
