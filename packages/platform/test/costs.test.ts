import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from '@jest/globals';
import { CostMeter, meterAwsClient, recordCosts, takeCostsForWrite, withCostMeter } from '../src/costs.js';

/** A real SDK client whose requests never leave the process: a build-step middleware answers them. */
function offline<C extends SQSClient | EventBridgeClient>(client: C, output: Record<string, unknown>): C {
  (client.middlewareStack as { add: (m: unknown, o: unknown) => void }).add(
    () => async () => ({ output: { ...output, $metadata: { attempts: 2 } }, response: {} }),
    { step: 'build', name: 'answerOffline' },
  );
  return meterAwsClient(client);
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('cost meter', () => {
  it('meters SDK commands into the meter of the async context that sent them, attempts included, refused entries not', async () => {
    // Prepare
    const sqs = offline(new SQSClient({ region: 'us-east-1', credentials }), {
      Successful: [],
      Failed: [{ Id: 'm0', SenderFault: false, Code: 'InternalError' }],
    });
    const bus = offline(new EventBridgeClient({ region: 'us-east-1', credentials }), { FailedEntryCount: 1 });
    const a = new CostMeter();
    const b = new CostMeter();
    const send = (n: number) =>
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q',
          Entries: Array.from({ length: n }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })),
        }),
      );

    // Act: two records of one batch, concurrently.
    await Promise.all([
      withCostMeter(async () => {
        await send(10);
        await bus.send(new PutEventsCommand({ Entries: [{ Detail: '{}' }, { Detail: '{}' }] }));
      }, a),
      withCostMeter(() => send(3), b),
    ]);
    await send(1); // outside any meter: counted nowhere

    // Assess
    expect(a.peek()).toMatchObject({ sqsMessagesSent: 9, sqsSendRequests: 2, eventsPut: 1 });
    expect(b.peek()).toMatchObject({ sqsMessagesSent: 2, sqsSendRequests: 2, eventsPut: 0 });
  });

  it('takeForWrite counts the write that records the costs, and what follows it, once', async () => {
    // Prepare
    const meter = new CostMeter();

    // Act
    const taken = await withCostMeter(async () => {
      recordCosts({ dynamoReadRequests: 3, bytesDownloaded: 100 });
      const costs = takeCostsForWrite({ sqsMessagesSent: 1 });
      // The middleware then sees the write and the send: they net out.
      recordCosts({ dynamoWriteRequests: 1, sqsMessagesSent: 1 });
      return costs;
    }, meter);

    // Assess
    expect(taken).toMatchObject({
      dynamoReadRequests: 3,
      bytesDownloaded: 100,
      dynamoWriteRequests: 1,
      sqsMessagesSent: 1,
    });
    expect(Object.values(meter.peek()).every((value) => value === 0)).toBe(true);
    expect(takeCostsForWrite()).toBeUndefined();
  });
});
