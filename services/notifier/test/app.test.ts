import { EventDetailType } from '@covid-etl/contracts';
import { lambdaContext, sqsRecordFactory } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createHandler, DEFAULT_LEASE_MS } from '../src/app.js';
import {
  capturedLogger,
  completedEvent,
  FakeClock,
  FakePublisher,
  failedEvent,
  InMemoryNotificationLedger,
  RUN_ID,
  runSummary,
} from './fixtures.js';

function setup() {
  const ledger = new InMemoryNotificationLedger();
  const publisher = new FakePublisher();
  const clock = new FakeClock();
  const { logger, lines } = capturedLogger();
  const handler = createHandler({ ledger, publisher, clock, logger }, { timeoutEarlyInMillis: 0 });
  const invoke = (...records: SQSRecord[]) => handler({ Records: records } satisfies SQSEvent, lambdaContext());
  return { ledger, publisher, clock, lines, invoke };
}

describe('notifier handler', () => {
  it('publishes one notification for a run outcome and records it in the ledger', async () => {
    // Prepare
    const { ledger, publisher, invoke } = setup();

    // Act
    const response = await invoke(sqsRecordFactory(completedEvent()));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]?.subject).toBe('[covid-etl dev] Run 2026-11-25: 1 new, 3 updated');
    expect(ledger.items.get(`${RUN_ID}|${EventDetailType.RunCompleted}`)).toEqual({
      state: 'SENT',
      messageId: 'message-1',
    });
  });

  it('publishes once when the same event arrives twice (two messages, two invocations)', async () => {
    // Prepare
    const { publisher, invoke, lines } = setup();
    const event = completedEvent();

    // Act
    const first = await invoke(sqsRecordFactory(event));
    const second = await invoke(sqsRecordFactory(event));

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(1);
    expect(lines().some((line) => String(line.msg).startsWith('Duplicate'))).toBe(true);
  });

  it('publishes once when the same event arrives twice in one batch; the copy is retried, not dropped', async () => {
    // Prepare
    const { publisher, invoke } = setup();
    const event = completedEvent();
    const copy = sqsRecordFactory(event, { messageId: 'copy' });

    // Act: the copy finds the first delivery holding the claim; its retry finds it sent.
    const response = await invoke(sqsRecordFactory(event), copy);
    const retry = await invoke(copy);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'copy' }] });
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(1);
  });

  it('publishes once per detail type of one run', async () => {
    // Prepare
    const { publisher, invoke } = setup();
    const failure = failedEvent('2 chunks are in the loader DLQ', runSummary({ status: 'INCOMPLETE' }));
    const completion = completedEvent();

    // Act
    const response = await invoke(sqsRecordFactory(failure), sqsRecordFactory(completion));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(publisher.published.map((notification) => notification.subject).sort()).toEqual([
      '[covid-etl dev] Run 2026-11-25 INCOMPLETE: 2 chunks are in the loader DLQ',
      '[covid-etl dev] Run 2026-11-25: 1 new, 3 updated',
    ]);
  });

  it('fails only the malformed records of a batch and says they go to the DLQ', async () => {
    // Prepare
    const { publisher, invoke, lines } = setup();
    const notJson = sqsRecordFactory('{"detail-type": "EtlRunCompleted", ');
    const wrongShape = sqsRecordFactory({
      'detail-type': EventDetailType.RunCompleted,
      source: 'covid-etl.pipeline',
      detail: { version: 1, summary: { runId: RUN_ID } },
    });
    const good = sqsRecordFactory(completedEvent());

    // Act
    const response = await invoke(notJson, good, wrongShape);

    // Assess
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: notJson.messageId }, { itemIdentifier: wrongShape.messageId }],
    });
    expect(publisher.published).toHaveLength(1);
    const errors = lines().filter((line) => line.level === 'error');
    expect(errors).toHaveLength(2);
    for (const error of errors) {
      expect(error.msg).toContain('Malformed notifier message');
      expect(error.msg).toContain('moves to the notifier DLQ after 5 receives');
      expect(error.error).toMatch(/^MalformedMessageError: the message body is not/);
    }
    expect(errors.find((line) => line.messageId === wrongShape.messageId)?.runId).toBe(RUN_ID);
    expect(errors.find((line) => line.messageId === notJson.messageId)?.runId).toBeNull();
  });

  it('reports a publish failure as a batch item failure; a delivery within the lease is retried, the one after it notifies', async () => {
    // Prepare
    const { ledger, publisher, clock, invoke, lines } = setup();
    const event = completedEvent();
    publisher.failNext();

    // Act
    const failedAttempt = await invoke(sqsRecordFactory(event, { messageId: 'm-1' }));
    clock.advance(DEFAULT_LEASE_MS / 2);
    const withinLease = await invoke(sqsRecordFactory(event, { messageId: 'm-2' }));
    clock.advance(DEFAULT_LEASE_MS);
    const afterLease = await invoke(sqsRecordFactory(event, { messageId: 'm-1' }));

    // Assess
    expect(failedAttempt).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(withinLease).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
    expect(afterLease).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(1);
    expect(ledger.items.get(`${RUN_ID}|${EventDetailType.RunCompleted}`)?.state).toBe('SENT');
    const failure = lines().find((line) => line.level === 'error');
    expect(failure?.error).toBe('ThrottledException: Rate exceeded');
    expect(failure?.msg).toContain('SQS redelivers the message');
  });

  it('writes JSON log lines that all carry the run id and never a stack', async () => {
    // Prepare
    const { publisher, invoke, lines } = setup();
    publisher.failNext();

    // Act
    await invoke(sqsRecordFactory(completedEvent()), sqsRecordFactory(failedEvent('boom')));

    // Assess
    const logged = lines();
    expect(logged.length).toBeGreaterThanOrEqual(2);
    for (const line of logged) {
      expect(line.runId).toBe(RUN_ID);
      expect(line.service).toBe('notifier');
      expect(JSON.stringify(line)).not.toMatch(/\n\s+at /);
    }
  });

  it('succeeds on an empty batch', async () => {
    // Prepare
    const { publisher, invoke } = setup();

    // Act
    const response = await invoke();

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(0);
  });
});
