import { randomUUID } from 'node:crypto';
import { lambdaContext as localLambdaContext } from '@covid-etl/local-stack';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

/** A Lambda `Context` good enough for handlers under test (never times out early). */
export function lambdaContext(overrides: Partial<Context> = {}): Context {
  return {
    ...localLambdaContext({ functionName: 'test-function' }),
    getRemainingTimeInMillis: () => 60_000,
    ...overrides,
  };
}

/** An SQS record carrying `body` (objects are JSON-encoded), as Lambda delivers it. */
export function sqsRecordFactory(body: unknown, overrides: Partial<SQSRecord> = {}): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'TEST',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test-queue',
    awsRegion: 'us-east-1',
    ...overrides,
  };
}

/** An SQS event of one record per body. */
export function sqsEvent(bodies: unknown[]): SQSEvent {
  return { Records: bodies.map((body) => sqsRecordFactory(body)) };
}
