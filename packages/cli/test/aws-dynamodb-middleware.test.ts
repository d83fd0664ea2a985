import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from '@jest/globals';
import { AwsOperatorBackend } from '../src/ops/aws-backend.js';
import { operatorConfig } from './ops-helpers/fake-sqs.js';

/**
 * The AWS backend's DynamoDB calls go through `callAws` as SDK middleware. aws-sdk-client-mock
 * replaces `send` and so skips middleware: these tests answer at the HTTP layer instead, with a
 * request handler that plays back DynamoDB responses.
 */
interface Reply {
  status: number;
  body: unknown;
  errorType?: string;
}

function backendAnswering(replies: Reply[]) {
  const targets: string[] = [];
  const requestHandler = {
    handle: async (request: { headers: Record<string, string> }) => {
      targets.push(request.headers['x-amz-target'] ?? '');
      const reply = replies.shift() ?? { status: 200, body: { Items: [] } };
      return {
        response: {
          statusCode: reply.status,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            ...(reply.errorType ? { 'x-amzn-errortype': reply.errorType } : {}),
          },
          body: Readable.from([Buffer.from(JSON.stringify(reply.body))]),
        },
      };
    },
  };
  const dynamodb = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler,
  });
  const backend = new AwsOperatorBackend(
    operatorConfig('dev'),
    {
      sqs: new SQSClient({ region: 'us-east-1' }),
      lambda: new LambdaClient({ region: 'us-east-1' }),
      doc: DynamoDBDocumentClient.from(dynamodb),
    },
    'terraform output',
    { sleep: async () => undefined, baseDelayMs: 1 },
  );
  return { backend, targets };
}

describe('AwsOperatorBackend DynamoDB calls', () => {
  it('name the action, the table and the index when access is denied', async () => {
    // Prepare
    const { backend, targets } = backendAnswering([
      {
        status: 400,
        errorType: 'AccessDeniedException',
        body: { __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException', message: 'not authorized' },
      },
    ]);
    const table = operatorConfig('dev').tables.ledger;

    // Act
    const listing = backend.listRuns(5);

    // Assess
    await expect(listing).rejects.toThrow(
      new RegExp(`^Access denied: dynamodb:Query on DynamoDB table ${table} index byStartedAt`),
    );
    expect(targets).toEqual(['DynamoDB_20120810.Query']);
  });

  it('retry a throttled read with the backend policy and then answer', async () => {
    // Prepare
    const { backend, targets } = backendAnswering([
      {
        status: 400,
        errorType: 'ProvisionedThroughputExceededException',
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'slow down',
        },
      },
      { status: 200, body: {} },
    ]);

    // Act
    const run = await backend.ledger.getRun('m-20261125T110000Z-aaaaaa');

    // Assess
    expect(run).toBeUndefined();
    expect(targets).toEqual(['DynamoDB_20120810.GetItem', 'DynamoDB_20120810.GetItem']);
  });
});
