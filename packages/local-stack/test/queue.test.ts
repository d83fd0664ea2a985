import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QUEUES } from '@covid-etl/contracts';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  createQueueWithDeadLetterQueue,
  LocalQueue,
  MAX_MESSAGE_BYTES,
  ManualClock,
  QueueRequestError,
  QueueStateError,
} from '../src/index.js';

let stateDir: string;
let clock: ManualClock;

beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'local-queue-'));
  clock = new ManualClock();
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

function queuePair(maxReceiveCount = 3) {
  const deadLetterQueue = new LocalQueue({ name: 'work-dlq', stateDir, clock });
  const queue = new LocalQueue({
    name: 'work',
    stateDir,
    clock,
    visibilityTimeoutSeconds: 180,
    timeScale: 0.005,
    redrive: { deadLetterQueue, maxReceiveCount },
  });
  return { queue, deadLetterQueue };
}

describe('LocalQueue: visibility and receive counts', () => {
  it('hides a received message for the scaled visibility timeout, then redelivers it with a higher receive count', () => {
    // Prepare
    const { queue } = queuePair();
    const { MessageId } = queue.send('{"month":"2020-03"}');

    // Act
    const [first] = queue.receive({ maxMessages: 10 });
    clock.advance(899); // 180 s x 0.005 = 900 ms
    const whileHidden = queue.receive({ maxMessages: 10 });
    const countsWhileHidden = [queue.approximateNumberOfMessages, queue.approximateNumberOfMessagesNotVisible];
    clock.advance(1);
    const [second] = queue.receive({ maxMessages: 10 });

    // Assess
    expect(first?.messageId).toBe(MessageId);
    expect(first?.approximateReceiveCount).toBe(1);
    expect(whileHidden).toEqual([]);
    expect(countsWhileHidden).toEqual([0, 1]);
    expect(second?.messageId).toBe(MessageId);
    expect(second?.approximateReceiveCount).toBe(2);
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    expect(second?.approximateFirstReceiveTimestamp).toBe(first?.approximateFirstReceiveTimestamp);
    expect(queue.timeScale).toBe(0.005);
    expect(queue.scaledMs(180)).toBe(900);
  });

  it('deletes only with the latest receipt handle', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('a');
    const [first] = queue.receive();
    clock.advance(900);
    const [second] = queue.receive();

    // Act
    const withOldHandle = queue.deleteMessage(first?.receiptHandle ?? '');
    const withLatestHandle = queue.deleteMessage(second?.receiptHandle ?? '');

    // Assess
    expect(withOldHandle).toBe(false);
    expect(withLatestHandle).toBe(true);
    expect(queue.size).toBe(0);
  });

  it('changes the visibility of an in-flight message only', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('a');
    const [received] = queue.receive();
    const handle = received?.receiptHandle ?? '';

    // Act
    const madeVisible = queue.changeVisibility(handle, 0);
    const again = queue.changeVisibility(handle, 10);

    // Assess
    expect(madeVisible).toBe(true);
    expect(again).toBe(false);
    expect(queue.approximateNumberOfMessages).toBe(1);
    expect(() => queue.changeVisibility(handle, 43_201)).toThrow(QueueRequestError);
  });
  it('keeps a held message invisible past its timeout, and restarts the timeout on release', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('slow');
    const [received] = queue.receive();
    const handle = received?.receiptHandle ?? '';

    // Act
    queue.hold(handle);
    clock.advance(5_000);
    const whileHeld = queue.receive();
    queue.release(handle);
    const justReleased = queue.receive();
    clock.advance(900);
    const afterTimeout = queue.receive();

    // Assess
    expect(whileHeld).toEqual([]);
    expect(justReleased).toEqual([]);
    expect(afterTimeout.map((m) => m.approximateReceiveCount)).toEqual([2]);
  });
});

describe('LocalQueue: redrive to the dead-letter queue', () => {
  it('moves a message to the DLQ on the receive after maxReceiveCount receives, keeping its id and sent time', () => {
    // Prepare
    const { queue, deadLetterQueue } = queuePair(3);
    const { MessageId } = queue.send('poison');
    const deliveries: number[] = [];

    // Act
    for (let i = 0; i < 5; i += 1) {
      const [message] = queue.receive({ maxMessages: 10 });
      if (message) deliveries.push(message.approximateReceiveCount);
      clock.advance(900);
    }

    // Assess
    expect(deliveries).toEqual([1, 2, 3]);
    expect(queue.size).toBe(0);
    const [parked] = deadLetterQueue.peek();
    expect(parked?.messageId).toBe(MessageId);
    expect(parked?.body).toBe('poison');
    expect(parked?.sentTimestamp).toBeLessThan(parked?.enqueuedTimestamp ?? 0);
    expect(parked?.deadLetterQueueSourceArn).toBe(queue.arn);
    expect(queue.stats.movedToDeadLetterQueue).toBe(1);
  });

  it('builds a queue and its DLQ from the project queue settings', () => {
    // Prepare
    const settings = QUEUES.loader;

    // Act
    const { queue, deadLetterQueue } = createQueueWithDeadLetterQueue({
      name: 'covid-etl-local-loader',
      settings,
      stateDir,
      timeScale: 0.01,
    });

    // Assess
    expect(deadLetterQueue.name).toBe('covid-etl-local-loader-dlq');
    expect(queue.redrive?.maxReceiveCount).toBe(settings.maxReceiveCount);
    expect(queue.redrive?.deadLetterQueue).toBe(deadLetterQueue);
    expect(queue.scaledMs(queue.visibilityTimeoutSeconds)).toBe(3_600);
    expect(deadLetterQueue.messageRetentionSeconds).toBe(settings.dlqMessageRetentionSeconds);
  });
});

describe('LocalQueue: persistence', () => {
  it('keeps messages, receive counts and visibility across two instances on the same folder', () => {
    // Prepare
    const first = queuePair();
    first.queue.send('kept-1', { runId: { DataType: 'String', StringValue: 'm-1' } });
    first.queue.send('kept-2');
    first.queue.receive();
    first.deadLetterQueue.send('parked');

    // Act
    const second = queuePair();

    // Assess
    expect(second.queue.peek().map((m) => [m.body, m.approximateReceiveCount])).toEqual([
      ['kept-1', 1],
      ['kept-2', 0],
    ]);
    expect(second.queue.peek()[0]?.messageAttributes).toEqual({ runId: { DataType: 'String', StringValue: 'm-1' } });
    expect(second.queue.approximateNumberOfMessagesNotVisible).toBe(1);
    expect(second.deadLetterQueue.peek().map((m) => m.body)).toEqual(['parked']);
    const file = JSON.parse(readFileSync(path.join(stateDir, 'queues', 'work.json'), 'utf8'));
    expect(file.messages).toHaveLength(2);
  });

  it('writes a redrive to the DLQ to both state files, so another instance does not park it again', () => {
    // Prepare: one message received up to maxReceiveCount, then visible again.
    const first = queuePair(2);
    first.queue.send('poison');
    first.queue.receive();
    clock.advance(1_000);
    first.queue.receive();
    clock.advance(1_000);

    // Act: the receive that redrives is the only change to the source queue.
    const received = first.queue.receive();
    const second = queuePair(2);

    // Assess
    expect(received).toEqual([]);
    expect(second.queue.peek()).toEqual([]);
    expect(second.deadLetterQueue.peek().map((m) => m.body)).toEqual(['poison']);
  });

  it('refuses a corrupt state file instead of dropping its messages', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('a');
    writeFileSync(queue.statePath ?? '', '{ not json');

    // Act
    const reopen = () => new LocalQueue({ name: 'work', stateDir });

    // Assess
    expect(reopen).toThrow(QueueStateError);
    expect(reopen).toThrow(/not valid JSON/);
  });
});

describe('LocalQueue: moving messages (StartMessageMoveTask)', () => {
  it('moves DLQ messages back as new messages: new ids, new sent time, receive count 0', () => {
    // Prepare
    const { queue, deadLetterQueue } = queuePair(1);
    const { MessageId } = queue.send('retry me');
    queue.receive();
    clock.advance(900);
    queue.receive(); // moves it to the DLQ
    clock.advance(5_000);

    // Act
    const { moved } = deadLetterQueue.moveMessagesTo(queue);

    // Assess
    expect(moved).toBe(1);
    expect(deadLetterQueue.size).toBe(0);
    const [redriven] = queue.peek();
    expect(redriven?.body).toBe('retry me');
    expect(redriven?.messageId).not.toBe(MessageId);
    expect(redriven?.approximateReceiveCount).toBe(0);
    expect(redriven?.sentTimestamp).toBe(clock.now());
  });
});

describe('LocalQueue: SQS request validation', () => {
  it('refuses a message over 256 KiB and accepts one at the limit', () => {
    // Prepare
    const { queue } = queuePair();

    // Act
    const tooLong = () => queue.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
    const atLimit = queue.send('x'.repeat(MAX_MESSAGE_BYTES));

    // Assess
    expect(tooLong).toThrow(/shorter than 262144 bytes/);
    expect(atLimit.MessageId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('validates SendMessageBatch like SQS', () => {
    // Prepare
    const { queue } = queuePair();
    const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, MessageBody: `m${i}` }));

    // Act
    const result = queue.sendBatch([
      { Id: 'ok', MessageBody: 'fine' },
      { Id: 'bad', MessageBody: 'nul \u0000 inside' },
      { Id: 'empty', MessageBody: '' },
    ]);

    // Assess
    expect(result.Successful.map((s) => s.Id)).toEqual(['ok']);
    expect(result.Failed.map((f) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ['bad', 'InvalidMessageContents', true],
      ['empty', 'MissingParameter', true],
    ]);
    expect(() => queue.sendBatch([])).toThrow(
      expect.objectContaining({ code: 'AWS.SimpleQueueService.EmptyBatchRequest' }),
    );
    expect(() => queue.sendBatch(entries(11))).toThrow(
      expect.objectContaining({ code: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest' }),
    );
    expect(() => queue.sendBatch([...entries(1), ...entries(1)])).toThrow(
      expect.objectContaining({ code: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct' }),
    );
    expect(() => queue.sendBatch([{ Id: 'no spaces', MessageBody: 'x' }])).toThrow(
      expect.objectContaining({ code: 'AWS.SimpleQueueService.InvalidBatchEntryId' }),
    );
    expect(() =>
      queue.sendBatch([
        { Id: 'a', MessageBody: 'x'.repeat(200_000) },
        { Id: 'b', MessageBody: 'x'.repeat(100_000) },
      ]),
    ).toThrow(expect.objectContaining({ code: 'AWS.SimpleQueueService.BatchRequestTooLong' }));
    expect(queue.size).toBe(1);
    expect(() => queue.receive({ maxMessages: 11 })).toThrow(QueueRequestError);
  });

  it('reports age of the oldest message and purges', () => {
    // Prepare
    const { queue } = queuePair();
    queue.send('a');
    clock.advance(1_500);
    queue.send('b');

    // Act
    const age = queue.ageOfOldestMessageMs;
    const purged = queue.purge();

    // Assess
    expect(age).toBe(1_500);
    expect(purged).toBe(2);
    expect(queue.ageOfOldestMessageMs).toBe(0);
    expect(new LocalQueue({ name: 'work', stateDir }).size).toBe(0);
  });

  it('drops messages past the retention period (not scaled)', () => {
    // Prepare
    const queue = new LocalQueue({ name: 'short', clock, messageRetentionSeconds: 60, timeScale: 0.001 });
    queue.send('old');

    // Act
    clock.advance(59_999);
    const beforeExpiry = queue.peek().length;
    clock.advance(1);
    const afterExpiry = queue.peek().length;

    // Assess
    expect(beforeExpiry).toBe(1);
    expect(afterExpiry).toBe(0);
  });
});
