import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AwsOperatorBackend } from '../../src/ops/aws-backend.js';
import type { OperatorConfig } from '../../src/ops/config.js';

/** The AWS backend on fresh SDK clients (mocked by the test with aws-sdk-client-mock), retrying at once. */
export function testAwsBackend(config: OperatorConfig, now?: () => number): AwsOperatorBackend {
  const region = config.region;
  return new AwsOperatorBackend(
    config,
    {
      sqs: new SQSClient({ region }),
      lambda: new LambdaClient({ region }),
      doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region })),
    },
    'terraform output',
    { sleep: async () => undefined, baseDelayMs: 1 },
    now,
  );
}
