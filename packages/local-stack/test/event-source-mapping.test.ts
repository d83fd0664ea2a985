import { beforeEach, describe, expect, it } from '@jest/globals';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  EventSourceMapping,
  interpretBatchResponse,
  LambdaCrashError,
  LocalQueue,
  ManualClock,
  type SqsLambdaHandler,
  sleep,
} from '../src/index.js';

let clock: ManualClock;
let queue: LocalQueue;
let dlq: LocalQueue;

beforeEach(() => {
  clock = new ManualClock();
  dlq = new LocalQueue({ name: 'orders-dlq', clock });
  queue = new LocalQueue({
    name: 'orders',
    clock,
    visibilityTimeoutSeconds: 180,
    timeScale: 0.01,
    redrive: { deadLetterQueue: dlq, maxReceiveCount: 5 },
  });
});

function mapping(handler: SqsLambdaHandler, extra: { batchSize?: number; reportBatchItemFailures?: boolean } = {}) {
  return new EventSourceMapping({
    queue,
    handler,
    settings: { batchSize: extra.batchSize ?? 5, maximumBatchingWindowSeconds: 0, maximumConcurrency: 2 },
    functionName: 'orders-consumer',
    ...(extra.reportBatchItemFailures !== undefined ? { reportBatchItemFailures: extra.reportBatchItemFailures } : {}),
  });
}

function sendAll(bodies: string[]): string[] {
  return bodies.map((body) => queue.send(body).MessageId);
}

/** Ids of the messages still in the queue, visible or not. */
function remainingIds(): string[] {
  return queue.peek().map((m) => m.messageId);
}

describe('EventSourceMapping: the event Lambda receives', () => {
  it('builds a real-shaped SQSEvent and Lambda context', async () => {
    // Prepare
    const [id] = sendAll(['{"month":"2020-03"}']);
    queue.send('second', { runId: { DataType: 'String', StringValue: 's-20261125T000000Z' } });
    let seen: SQSEvent | undefined;
    let functionName = '';
    const esm = mapping(async (event, context) => {
      seen = event;
      functionName = context.functionName;
      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(29_000);
    });

    // Act
    const result = await esm.pollOnce();

    // Assess
    expect(result.outcome).toBe('success');
    expect(functionName).toBe('orders-consumer');
    const [record, second] = seen?.Records ?? [];
    expect(record).toMatchObject({
      messageId: id,
      body: '{"month":"2020-03"}',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:orders',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(clock.now().getTime()),
        ApproximateFirstReceiveTimestamp: String(clock.now().getTime()),
      },
      md5OfBody: 'b2c1941ecf6d7478efcb26039e3d07cf',
    });
    expect(record?.receiptHandle).toEqual(expect.any(String));
    expect(second?.messageAttributes).toEqual({
      runId: { dataType: 'String', stringValue: 's-20261125T000000Z', stringListValues: [], binaryListValues: [] },
    });
    expect(queue.size).toBe(0);
  });

  it('receives at most batchSize messages per invocation, over several receives when above 10', async () => {
    // Prepare
    sendAll(Array.from({ length: 12 }, (_, i) => `m${i}`));
    const sizes: number[] = [];
    const small = mapping(async (event) => {
      sizes.push(event.Records.length);
    });
    const large = mapping(
      async (event) => {
        sizes.push(event.Records.length);
      },
      { batchSize: 100 },
    );

    // Act
    await small.pollOnce();
    await large.pollOnce();

    // Assess
    expect(sizes).toEqual([5, 7]);
    expect(queue.size).toBe(0);
  });
});

describe('EventSourceMapping: onPollEnd', () => {
  it('calls its listeners after each poll, once the invocation answered and its messages are deleted', async () => {
    // Prepare
    sendAll(['a', 'b']);
    const seen: [number, number][] = [];
    const esm = mapping(async () => {});
    const stop = esm.onPollEnd(() => seen.push([esm.runningInvocations, queue.size]));

    // Act: a poll with messages, an empty one, then one after the listener is removed.
    await esm.pollOnce();
    await esm.pollOnce();
    stop();
    await esm.pollOnce();

    // Assess
    expect(seen).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('counts no invocation while a poll waits for messages, and stop() ends that wait at once', async () => {
    // Prepare: a batching window of 600 s (6 s at this time scale; jest gives the test 5 s).
    const esm = new EventSourceMapping({
      queue,
      handler: async () => {},
      settings: { batchSize: 5, maximumBatchingWindowSeconds: 600, maximumConcurrency: 1 },
    });
    esm.start();
    await sleep(20);

    // Act
    const runningWhileWaiting = esm.runningInvocations;
    await esm.stop();

    // Assess
    expect(runningWhileWaiting).toBe(0);
    expect(esm.isRunning).toBe(false);
  });
});

describe('EventSourceMapping: batch responses as Lambda reads them', () => {
  it('deletes only the messages that did not fail, and redelivers the failed ones after the visibility timeout', async () => {
    // Prepare
    const ids = sendAll(['a', 'b', 'c', 'd', 'e']);
    const failing = [ids[1], ids[3]] as string[];
    const esm = mapping(
      async (): Promise<SQSBatchResponse> => ({
        batchItemFailures: failing.map((itemIdentifier) => ({ itemIdentifier })),
      }),
    );
    const redelivered: SQSEvent[] = [];
    const retry = mapping(async (event) => {
      redelivered.push(event);
    });

    // Act
    const result = await esm.pollOnce();
    const tooEarly = await retry.pollOnce();
    clock.advance(1_800);
    await retry.pollOnce();

    // Assess
    expect(result.outcome).toBe('partial-failure');
    expect(result.deleted).toEqual([ids[0], ids[2], ids[4]]);
    expect(result.retained).toEqual(failing);
    expect(tooEarly.outcome).toBe('empty');
    expect(redelivered[0]?.Records.map((r) => [r.messageId, r.attributes.ApproximateReceiveCount])).toEqual([
      [failing[0], '2'],
      [failing[1], '2'],
    ]);
    expect(queue.size).toBe(0);
  });

  it.each([
    ['an empty batchItemFailures list', { batchItemFailures: [] }],
    ['null', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['batchItemFailures: null', { batchItemFailures: null }],
  ])('treats %s as full success', async (_label, response) => {
    // Prepare
    sendAll(['a', 'b']);
    const esm = mapping(async () => response);

    // Act
    const result = await esm.pollOnce();

    // Assess
    expect(result.outcome).toBe('success');
    expect(result.deleted).toHaveLength(2);
    expect(queue.size).toBe(0);
  });

  it.each([
    ['an unknown itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] })],
    ['an empty itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
    ['a null itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: null }] })],
    ['a misspelt key', (ids: string[]) => ({ batchItemFailures: [{ itemIdentifer: ids[0] }] })],
  ])('fails the whole batch for %s', async (_label, respond) => {
    // Prepare
    const ids = sendAll(['a', 'b', 'c']);
    const esm = mapping(async () => respond(ids));

    // Act
    const result = await esm.pollOnce();

    // Assess
    expect(result.outcome).toBe('invalid-response');
    expect(result.deleted).toEqual([]);
    expect(remainingIds()).toEqual(ids);
    expect(queue.approximateNumberOfMessagesNotVisible).toBe(3);
  });

  it.each([
    ['batchItemFailures is not an array', { batchItemFailures: 'a' }],
    ['an entry is not an object', { batchItemFailures: ['a'] }],
    ['the response is a string', 'OK'],
    ['the response is the array of Promise.allSettled', [{ status: 'fulfilled', value: undefined }]],
  ])('fails the whole batch for a malformed response: %s', async (_label, response) => {
    // Prepare
    const ids = sendAll(['a', 'b']);
    const esm = mapping(async () => response);

    // Act
    const result = await esm.pollOnce();

    // Assess
    expect(result.outcome).toBe('invalid-response');
    expect(result.reason).toEqual(expect.any(String));
    expect(remainingIds()).toEqual(ids);
  });

  it.each([
    ['a thrown error', new Error('boom')],
    ['a simulated crash', new LambdaCrashError('crash mid batch')],
  ])('keeps the whole batch after %s, and redelivers it after the visibility timeout', async (_label, failure) => {
    // Prepare
    const ids = sendAll(['a', 'b', 'c']);
    const esm = mapping(async () => {
      throw failure;
    });
    const counts: string[] = [];
    const retry = mapping(async (event) => {
      counts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
    });

    // Act
    const result = await esm.pollOnce();
    clock.advance(1_800);
    await retry.pollOnce();

    // Assess
    expect(result.outcome).toBe('handler-error');
    expect(result.error).toBe(failure);
    expect(result.retained).toEqual(ids);
    expect(counts).toEqual(['2', '2', '2']);
    expect(queue.size).toBe(0);
  });

  it('ignores batchItemFailures when ReportBatchItemFailures is off: every message is deleted', async () => {
    // Prepare
    const ids = sendAll(['a', 'b']);
    const esm = mapping(async () => ({ batchItemFailures: [{ itemIdentifier: ids[0] }] }), {
      reportBatchItemFailures: false,
    });

    // Act
    const result = await esm.pollOnce();

    // Assess
    expect(result.outcome).toBe('success');
    expect(result.deleted).toEqual(ids);
    expect(queue.size).toBe(0);
  });

  it('moves a message that keeps failing to the DLQ after maxReceiveCount deliveries', async () => {
    // Prepare
    const [id] = sendAll(['poison']);
    let deliveries = 0;
    const esm = mapping(async (event) => {
      deliveries += 1;
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    });

    // Act
    for (let i = 0; i < 7; i += 1) {
      await esm.pollOnce();
      clock.advance(1_800);
    }

    // Assess
    expect(deliveries).toBe(5);
    expect(queue.size).toBe(0);
    expect(dlq.peek().map((m) => [m.messageId, m.approximateReceiveCount])).toEqual([[id, 5]]);
  });
});

describe('interpretBatchResponse', () => {
  it('reads responses as the Lambda SQS event source mapping does', () => {
    // Prepare
    const ids = ['m1', 'm2'];

    // Act
    const verdicts = {
      duplicate: interpretBatchResponse(
        { batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm1' }] },
        ids,
        true,
      ),
      numberId: interpretBatchResponse({ batchItemFailures: [{ itemIdentifier: 1 }] }, ids, true),
      flagOff: interpretBatchResponse('garbage', ids, false),
    };

    // Assess
    expect(verdicts.duplicate).toEqual({ kind: 'partial-failure', failedIds: new Set(['m1']) });
    expect(verdicts.numberId.kind).toBe('invalid-response');
    expect(verdicts.flagOff).toEqual({ kind: 'success' });
  });
});
