import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { EventDetailType } from '@covid-etl/contracts';
import { lambdaContext, sqsRecordFactory } from '@covid-etl/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { completedEvent, RUN_ID } from './fixtures.js';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:covid-etl-dev-notifications';
const LEDGER_TABLE = 'covid-etl-dev-ledger';

const sns = mockClient(SNSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const savedEnv = { ...process.env };

type Handler = (event: unknown, context: unknown) => Promise<SQSBatchResponse>;
let handler: Handler;

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    ETL_ENVIRONMENT: 'dev',
    LEDGER_TABLE,
    TOPIC_ARN,
    LOG_LEVEL: 'silent',
  });
  delete process.env.ETL_FAULTS;
  ({ handler } = (await import('../src/handler.js')) as unknown as { handler: Handler });
});

afterAll(() => {
  process.env = savedEnv;
  sns.restore();
  dynamo.restore();
});

beforeEach(() => {
  sns.reset();
  dynamo.reset();
});

describe('deployed notifier handler (handler.ts)', () => {
  it('claims in the ledger table, publishes to the topic as MessageStructure json, then marks it sent', async () => {
    // Prepare
    dynamo.on(PutCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: 'sns-message-1' });

    // Act
    const response = await handler({ Records: [sqsRecordFactory(completedEvent())] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC_ARN,
      MessageStructure: 'json',
      Subject: '[covid-etl dev] Run 2026-11-25: 1 new, 3 updated',
    });
    const message = JSON.parse(String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message));
    expect(Object.keys(message).sort()).toEqual(['default', 'email', 'lambda']);
    expect(dynamo).toHaveReceivedNthCommandWith(1, PutCommand, {
      TableName: LEDGER_TABLE,
      Item: expect.objectContaining({ pk: `NOTIFY#${RUN_ID}`, sk: EventDetailType.RunCompleted, state: 'SENDING' }),
      ConditionExpression: expect.stringContaining('attribute_not_exists(pk)'),
    });
    expect(dynamo).toHaveReceivedNthCommandWith(2, PutCommand, {
      TableName: LEDGER_TABLE,
      Item: { pk: `NOTIFY#${RUN_ID}`, sk: EventDetailType.RunCompleted, state: 'SENT', messageId: 'sns-message-1' },
    });
  });

  it('publishes nothing when the ledger says the event was already notified', async () => {
    // Prepare
    const conditionFailed = new Error('The conditional request failed');
    conditionFailed.name = 'ConditionalCheckFailedException';
    dynamo.on(PutCommand).rejects(conditionFailed);
    dynamo
      .on(GetCommand)
      .resolves({ Item: { pk: `NOTIFY#${RUN_ID}`, sk: EventDetailType.RunCompleted, state: 'SENT' } });
    const record = sqsRecordFactory(completedEvent());

    // Act
    const response = await handler({ Records: [record] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('reports a failed publish as a batch item failure and does not mark it sent', async () => {
    // Prepare
    dynamo.on(PutCommand).resolves({});
    sns.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' }));
    const record = sqsRecordFactory(completedEvent());

    // Act
    const response = await handler({ Records: [record] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
  });
});
