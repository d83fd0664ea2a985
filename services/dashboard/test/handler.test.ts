import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { lambdaContext } from '@covid-etl/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { SeriesResponse, StatusResponse } from '../src/api-types.js';
import { urlEvent } from './fixtures.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const savedEnv = { ...process.env };

const complete = {
  ETL_ENVIRONMENT: 'dev',
  DATA_TABLE: 'covid-etl-dev-data',
  LEDGER_TABLE: 'covid-etl-dev-ledger',
};

type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2 & { body: string }>;
let handler: Handler;

beforeAll(async () => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent', ...complete });
  ({ handler } = (await import('../src/handler.js')) as unknown as { handler: Handler });
});

beforeEach(() => {
  dynamo.reset();
});

afterAll(() => {
  process.env = savedEnv;
  dynamo.restore();
});

describe('deployed dashboard handler (handler.ts)', () => {
  it('reads the series from DATA_TABLE with a Query on pk = US, never a Scan', async () => {
    // Prepare
    dynamo.on(QueryCommand, { TableName: complete.DATA_TABLE }).resolves({
      Items: [
        {
          pk: 'US',
          sk: '2020-12-13',
          cases: 16368898,
          deaths: 299338,
          recovered: 6298082,
          runId: 'r',
          change: 'inserted',
          updatedAt: '2026-11-25T00:00:00Z',
        },
        {
          pk: 'US',
          sk: '2020-12-14',
          cases: 16569783,
          deaths: 301016,
          recovered: 0,
          runId: 'r',
          change: 'inserted',
          updatedAt: '2026-11-25T00:00:00Z',
        },
      ],
    });
    // No completed run: no revised days to mark.
    dynamo.on(QueryCommand, { TableName: complete.LEDGER_TABLE }).resolves({ Items: [] });

    // Act
    const result = await handler(urlEvent('/api/series', { query: { from: '2020-12-01' } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    const body = JSON.parse(result.body) as SeriesResponse;
    expect(body.series.map((p) => [p.date, p.cases, p.recovered, p.newCases])).toEqual([
      ['2020-12-13', 16368898, 6298082, null],
      ['2020-12-14', 16569783, null, 200885],
    ]);
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      TableName: complete.DATA_TABLE,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: expect.objectContaining({ ':pk': 'US' }),
    });
    expect(dynamo).not.toHaveReceivedCommand(ScanCommand);
  });

  it('reads the latest runs from LEDGER_TABLE through its byStartedAt index, newest first', async () => {
    // Prepare
    dynamo.on(QueryCommand, { TableName: complete.DATA_TABLE }).resolves({ Items: [] });
    dynamo.on(QueryCommand, { TableName: complete.LEDGER_TABLE }).resolves({
      Items: [
        {
          pk: 'RUN#s-20261125T000000Z',
          sk: 'RUN',
          runId: 's-20261125T000000Z',
          status: 'RUNNING',
          trigger: 'schedule',
          startedAt: '2026-11-25T00:00:01.000Z',
        },
      ],
    });

    // Act
    const result = await handler(urlEvent('/api/status'), lambdaContext());

    // Assess
    const body = JSON.parse(result.body) as StatusResponse;
    expect(body.environment).toBe('dev');
    expect(body.latestRun).toMatchObject({
      runId: 's-20261125T000000Z',
      status: 'RUNNING',
      finishedAt: null,
      counts: null,
    });
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      TableName: complete.LEDGER_TABLE,
      IndexName: 'byStartedAt',
      ScanIndexForward: false,
      Limit: 50,
    });
    expect(dynamo).not.toHaveReceivedCommand(ScanCommand);
  });

  it('reads a county, the catalogue and a state’s counties from DATA_TABLE with Queries only (its role allows nothing else)', async () => {
    // Prepare
    dynamo.on(QueryCommand, { TableName: complete.DATA_TABLE }).resolves({ Items: [] });
    dynamo
      .on(QueryCommand, { TableName: complete.DATA_TABLE, ExpressionAttributeValues: { ':pk': '48201' } }, false)
      .resolves({ Items: [{ pk: '48201', sk: '2021-03-01', cases: 5, deaths: 1, runId: 'r' }] });

    // Act
    const county = await handler(urlEvent('/api/series', { query: { geo: '48201' } }), lambdaContext());
    const geos = await handler(urlEvent('/api/geos'), lambdaContext());
    const counties = await handler(urlEvent('/api/counties', { query: { state: '48' } }), lambdaContext());

    // Assess
    expect([county.statusCode, geos.statusCode, counties.statusCode]).toEqual([200, 200, 200]);
    expect((JSON.parse(county.body) as SeriesResponse).series.map((p) => [p.date, p.cases, p.deaths])).toEqual([
      ['2021-03-01', 5, 1],
    ]);
    const partitions = dynamo
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input.ExpressionAttributeValues?.[':pk']);
    expect(partitions.sort()).toEqual(['48201', 'COUNTIES#48', 'GEOS', 'GEOS', 'GEOS']);
    expect(dynamo.calls().every((call) => call.args[0] instanceof QueryCommand)).toBe(true);
  });

  it('serves the page and the front-end built into the bundle (src/generated/web-assets.js)', async () => {
    // Prepare
    const { WEB_ASSETS } = await import('../src/generated/web-assets.js');

    // Act
    const page = await handler(urlEvent('/'), lambdaContext());
    const script = await handler(urlEvent('/assets/app.js'), lambdaContext());

    // Assess
    expect(page.body).toContain(`/assets/app.js?v=${WEB_ASSETS.version}`);
    expect(script.body).toBe(WEB_ASSETS.js);
    expect(script.body).toContain('Chart.js');
    expect(dynamo).not.toHaveReceivedAnyCommand();
  });
});
