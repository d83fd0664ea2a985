import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QUEUES } from '@covid-etl/contracts';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  createQueueWithDeadLetterQueue,
  type DrainProgress,
  DrainTimeoutError,
  drain,
  EventSourceMapping,
  LambdaCrashError,
  LocalQueue,
  sleep,
} from '../src/index.js';

// 180 s x 0.0005 = 90 ms: redeliveries and redrive to the DLQ happen for real, quickly.
const TIME_SCALE = 0.0005;
let stateDir: string;

beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'local-drain-'));
});

afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

function transformerQueues(name = 'covid-etl-local-transformer') {
  return createQueueWithDeadLetterQueue({ name, settings: QUEUES.transformer, stateDir, timeScale: TIME_SCALE });
}

describe('drain', () => {
  it('waits out visibility timeouts: a fail-first handler ends with every message processed once and nothing in the DLQ', async () => {
    // Prepare
    const { queue, deadLetterQueue } = transformerQueues();
    const bodies = Array.from({ length: 12 }, (_, i) => `chunk-${i}`);
    for (const body of bodies) queue.send(body);
    const processed: string[] = [];
    const mapping = new EventSourceMapping({
      queue,
      settings: QUEUES.transformer,
      handler: async (event: SQSEvent) => {
        if (event.Records.some((r) => r.attributes.ApproximateReceiveCount === '1')) {
          throw new LambdaCrashError('fail-first');
        }
        processed.push(...event.Records.map((r) => r.body));
      },
    });
    const progress: DrainProgress[] = [];

    // Act
    const result = await drain([mapping], {
      timeoutMs: 10_000,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 10,
    });

    // Assess
    expect(processed.sort()).toEqual([...bodies].sort());
    expect(queue.size).toBe(0);
    expect(deadLetterQueue.size).toBe(0);
    expect(result.queues).toEqual([
      {
        queue: 'covid-etl-local-transformer',
        visible: 0,
        inFlight: 0,
        runningInvocations: 0,
        deadLetterQueue: { name: 'covid-etl-local-transformer-dlq', messages: 0 },
      },
    ]);
    expect(result.invocations).toBeGreaterThanOrEqual(6);
    expect(progress.length).toBeGreaterThan(1);
    expect(mapping.isRunning).toBe(false);
  });

  it('parks messages that keep failing in the DLQ after maxReceiveCount deliveries and processes the others', async () => {
    // Prepare
    const { queue, deadLetterQueue } = transformerQueues();
    for (const body of ['good-1', 'poison-1', 'good-2', 'poison-2', 'good-3']) queue.send(body);
    const processed: string[] = [];
    const deliveries = new Map<string, number>();
    const mapping = new EventSourceMapping({
      queue,
      settings: QUEUES.transformer,
      handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        const batchItemFailures = [];
        for (const record of event.Records) {
          deliveries.set(record.body, (deliveries.get(record.body) ?? 0) + 1);
          if (record.body.startsWith('poison')) batchItemFailures.push({ itemIdentifier: record.messageId });
          else processed.push(record.body);
        }
        return { batchItemFailures };
      },
    });

    // Act
    const result = await drain([mapping], { timeoutMs: 10_000 });

    // Assess
    expect(processed.sort()).toEqual(['good-1', 'good-2', 'good-3']);
    expect(deliveries.get('poison-1')).toBe(QUEUES.transformer.maxReceiveCount);
    expect(deliveries.get('poison-2')).toBe(QUEUES.transformer.maxReceiveCount);
    expect(deadLetterQueue.peek().map((m) => [m.body, m.approximateReceiveCount])).toEqual([
      ['poison-1', 5],
      ['poison-2', 5],
    ]);
    expect(result.queues[0]?.deadLetterQueue?.messages).toBe(2);
    // The DLQ is on disk: a later command sees the parked messages.
    expect(new LocalQueue({ name: 'covid-etl-local-transformer-dlq', stateDir }).size).toBe(2);
  });

  it('drains a chain of queues: messages a handler sends downstream are processed before it returns', async () => {
    // Prepare
    const upstream = transformerQueues('up');
    const downstream = transformerQueues('down');
    for (let i = 0; i < 7; i += 1) upstream.queue.send(`m${i}`);
    const arrived: string[] = [];
    const first = new EventSourceMapping({
      queue: upstream.queue,
      settings: QUEUES.transformer,
      handler: async (event: SQSEvent) => {
        await sleep(5);
        downstream.queue.sendBatch(
          event.Records.map((r, i) => ({ Id: `e${i}`, MessageBody: `${r.body}-transformed` })),
        );
      },
    });
    const second = new EventSourceMapping({
      queue: downstream.queue,
      settings: QUEUES.loader,
      handler: async (event: SQSEvent) => {
        arrived.push(...event.Records.map((r) => r.body));
      },
    });

    // Act
    await drain([first, second], { timeoutMs: 10_000 });

    // Assess
    expect(arrived.sort()).toEqual(Array.from({ length: 7 }, (_, i) => `m${i}-transformed`));
    expect(upstream.queue.size + downstream.queue.size).toBe(0);
  });

  it('looks at the queues when a poll ends, not only at its interval: a drain with a one-minute interval ends at once', async () => {
    // Prepare: a chain of two queues, so the drain must see an invocation end to know it is done.
    const upstream = transformerQueues('up');
    const downstream = transformerQueues('down');
    for (let i = 0; i < 3; i += 1) upstream.queue.send(`m${i}`);
    const arrived: string[] = [];
    const first = new EventSourceMapping({
      queue: upstream.queue,
      settings: QUEUES.transformer,
      handler: async (event: SQSEvent) => {
        downstream.queue.sendBatch(event.Records.map((r, i) => ({ Id: `e${i}`, MessageBody: r.body })));
      },
    });
    const second = new EventSourceMapping({
      queue: downstream.queue,
      settings: QUEUES.loader,
      handler: async (event: SQSEvent) => {
        arrived.push(...event.Records.map((r) => r.body));
      },
    });
    const started = Date.now();

    // Act: jest gives a test 5 s; a drain that waited for its next look would take 60.
    await drain([first, second], { timeoutMs: 120_000, pollIntervalMs: 60_000, idleMs: 0 });

    // Assess
    expect(arrived.sort()).toEqual(['m0', 'm1', 'm2']);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('never ends while a message waits out its visibility timeout, even when the timeout runs out as it looks', async () => {
    // Prepare: a clock that moves on 1 ms at every read, and a message received once (a failed
    // delivery) that becomes visible again after `offset` more reads. Whichever read the timeout
    // runs out at, the message is redelivered and processed before the drain ends.
    const endedWith: number[] = [];
    for (let offset = 1; offset <= 40; offset += 1) {
      let now = 1_000_000;
      const { queue } = createQueueWithDeadLetterQueue({
        name: `retried-${offset}`,
        settings: QUEUES.notifier,
        stateDir,
        timeScale: TIME_SCALE,
        clock: { now: () => new Date(now++) },
      });
      queue.send('outcome');
      queue.receive();
      now = queue.peek()[0]?.visibleAt ?? Number.NaN;
      now -= offset;
      const mapping = new EventSourceMapping({ queue, settings: QUEUES.notifier, handler: async () => {} });

      // Act
      await drain([mapping], { timeoutMs: 10_000, idleMs: 0 });
      endedWith.push(queue.size);
    }

    // Assess
    expect(endedWith).toEqual(Array.from({ length: 40 }, () => 0));
  });

  it('runs at most maximumConcurrency batches at once', async () => {
    // Prepare
    const { queue } = transformerQueues();
    for (let i = 0; i < 12; i += 1) queue.send(`m${i}`);
    let running = 0;
    let peak = 0;
    const mapping = new EventSourceMapping({
      queue,
      settings: { ...QUEUES.transformer, batchSize: 1, maximumConcurrency: 3 },
      handler: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(15);
        running -= 1;
      },
    });

    // Act
    await drain([mapping], { timeoutMs: 10_000 });

    // Assess
    expect(peak).toBe(3);
    expect(mapping.stats.invocations).toBe(12);
  });

  it('never redelivers a message while its own invocation still runs, even past the scaled visibility timeout', async () => {
    // Prepare
    const { queue } = transformerQueues();
    queue.send('slow');
    const receiveCounts: string[] = [];
    const mapping = new EventSourceMapping({
      queue,
      settings: QUEUES.transformer,
      handler: async (event: SQSEvent) => {
        receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
        await sleep(4 * queue.scaledMs(QUEUES.transformer.visibilityTimeoutSeconds));
      },
    });

    // Act
    await drain([mapping], { timeoutMs: 10_000 });

    // Assess
    expect(receiveCounts).toEqual(['1']);
  });

  it('times out with a clear message listing what is left', async () => {
    // Prepare
    const queue = new LocalQueue({ name: 'stuck', visibilityTimeoutSeconds: 180, timeScale: TIME_SCALE });
    queue.send('never done');
    const mapping = new EventSourceMapping({
      queue,
      settings: { batchSize: 1, maximumConcurrency: 2 },
      handler: async () => {
        throw new Error('always failing, and no DLQ');
      },
    });

    // Act
    const attempt = drain([mapping], { timeoutMs: 300 });

    // Assess
    await expect(attempt).rejects.toThrow(DrainTimeoutError);
    await expect(attempt).rejects.toThrow(
      /did not drain within 300 ms \(stuck: \d visible, \d in flight, \d running\)/,
    );
    expect(mapping.isRunning).toBe(false);
    expect(queue.size).toBe(1);
  });

  it('with a stall timeout, runs past the total time while messages keep moving, and stops once nothing moves', async () => {
    // Prepare: 12 messages of ~40 ms each (~0.5 s in all), a stall timeout of 300 ms.
    const queue = new LocalQueue({ name: 'slow-but-moving', visibilityTimeoutSeconds: 180, timeScale: 1 });
    for (let i = 0; i < 12; i += 1) queue.send(`m${i}`);
    const slow = new EventSourceMapping({
      queue,
      settings: { batchSize: 1, maximumConcurrency: 1 },
      handler: async () => {
        await sleep(40);
      },
    });
    const stuckQueue = new LocalQueue({ name: 'hanging', visibilityTimeoutSeconds: 180, timeScale: 1 });
    stuckQueue.send('never ends');
    const hanging = new EventSourceMapping({
      queue: stuckQueue,
      settings: { batchSize: 1, maximumConcurrency: 1 },
      handler: () => new Promise(() => undefined),
    });

    // Act
    const started = performance.now();
    await drain([slow], { timeoutMs: 60_000, stallTimeoutMs: 300 });
    const drainedMs = performance.now() - started;
    const attempt = drain([hanging], { timeoutMs: 60_000, stallTimeoutMs: 300 });

    // Assess
    expect(queue.size).toBe(0);
    expect(slow.stats.invocations).toBe(12);
    expect(drainedMs).toBeGreaterThan(300);
    await expect(attempt).rejects.toThrow(/made no progress for 300 ms \(hanging: 0 visible, 1 in flight, 1 running\)/);
  });
});
