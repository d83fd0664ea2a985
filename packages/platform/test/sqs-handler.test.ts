import { lambdaContext, sqsRecordFactory } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import * as z from 'zod/mini';
import { createSqsHandler, type LedgerRepository, PermanentError, processBatch, silentLogger } from '../src/index.js';

const Message = z.object({
  runId: z.string().check(z.startsWith('s-')),
  month: z.string().check(z.regex(/^\d{4}-\d{2}$/)),
  fail: z.boolean(),
});
type Message = z.infer<typeof Message>;
type ChunkError = Parameters<LedgerRepository['recordChunkError']>[2];

/** A ledger that only remembers the chunk errors it is told about. */
function recordingLedger(options: { failing?: boolean } = {}) {
  const errors: Array<{ runId: string; month: string; error: ChunkError }> = [];
  const ledger = {
    async recordChunkError(runId: string, month: string, error: ChunkError) {
      if (options.failing) throw new Error('DynamoDB is down');
      errors.push({ runId, month, error });
    },
    async getChunk(runId: string, month: string) {
      return { runId, month, stage: 'TRANSFORMED' };
    },
  } as unknown as LedgerRepository;
  return { ledger, errors };
}

function handlerWith(ledger: LedgerRepository, processed: Message[]) {
  return createSqsHandler({
    schema: Message,
    stage: 'load',
    ledger,
    logger: silentLogger(),
    timeoutEarlyInMillis: 0,
    process: async (message) => {
      if (message.fail) throw new Error(`cannot load ${message.month}`);
      processed.push(message);
    },
  });
}

const ok = (month: string) => ({ runId: 's-20261125T060000Z', month, fail: false });

describe('createSqsHandler', () => {
  it('answers an empty batchItemFailures list when every record succeeds', async () => {
    // Prepare
    const { ledger, errors } = recordingLedger();
    const processed: Message[] = [];
    const records = [sqsRecordFactory(ok('2020-03')), sqsRecordFactory(ok('2020-04'))];

    // Act
    const response = await handlerWith(ledger, processed)({ Records: records }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(processed.map((message) => message.month)).toEqual(['2020-03', '2020-04']);
    expect(errors).toEqual([]);
  });

  it('reports only the failed record and records its error on the chunk', async () => {
    // Prepare
    const { ledger, errors } = recordingLedger();
    const processed: Message[] = [];
    const failing = sqsRecordFactory(
      { ...ok('2020-04'), fail: true },
      { attributes: { ...sqsRecordFactory('').attributes, ApproximateReceiveCount: '3' } },
    );
    const records = [sqsRecordFactory(ok('2020-03')), failing, sqsRecordFactory(ok('2020-05'))];

    // Act
    const response = await handlerWith(ledger, processed)({ Records: records }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
    expect(processed.map((message) => message.month)).toEqual(['2020-03', '2020-05']);
    expect(errors).toEqual([
      {
        runId: 's-20261125T060000Z',
        month: '2020-04',
        error: { stage: 'load', message: 'Error: cannot load 2020-04', at: expect.any(String), receiveCount: 3 },
      },
    ]);
  });

  it('fails a record that is not JSON or breaks the contract, and processes the others', async () => {
    // Prepare
    const { ledger, errors } = recordingLedger();
    const processed: Message[] = [];
    const notJson = sqsRecordFactory('{"runId": "s-2026', {});
    const wrongShape = sqsRecordFactory({ runId: 'x', month: '2020-13', fail: false });
    const records = [notJson, sqsRecordFactory(ok('2020-03')), wrongShape];

    // Act
    const response = await handlerWith(ledger, processed)({ Records: records }, lambdaContext());

    // Assess
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: notJson.messageId }, { itemIdentifier: wrongShape.messageId }],
    });
    expect(processed.map((message) => message.month)).toEqual(['2020-03']);
    // Without a readable run id and month there is no chunk to record the error on.
    expect(errors).toEqual([]);
  });

  it('still reports the failure when the error cannot be recorded in the ledger', async () => {
    // Prepare
    const { ledger } = recordingLedger({ failing: true });
    const failing = sqsRecordFactory({ ...ok('2020-04'), fail: true });

    // Act
    const response = await handlerWith(ledger, [])({ Records: [failing] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
  });

  it('runs beforeProcess inside the error handling of each record', async () => {
    // Prepare
    const { ledger, errors } = recordingLedger();
    const processed: Message[] = [];
    const first = sqsRecordFactory(ok('2020-03'));
    const handler = createSqsHandler({
      schema: Message,
      stage: 'transform',
      ledger,
      logger: silentLogger(),
      timeoutEarlyInMillis: 0,
      process: async (message) => {
        processed.push(message);
      },
      beforeProcess: (_message, record) => {
        if (record.messageId === first.messageId) throw new Error('injected fault'); // like InjectedFaultError
      },
    });

    // Act
    const response = await handler({ Records: [first, sqsRecordFactory(ok('2020-04'))] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: first.messageId }] });
    expect(processed.map((message) => message.month)).toEqual(['2020-04']);
    expect(errors[0]?.error).toMatchObject({ stage: 'transform', message: 'Error: injected fault' });
  });
});

describe('processBatch', () => {
  it('lists exactly the rejected records by messageId, and nothing when all succeed', async () => {
    // Prepare
    const records = ['a', 'b', 'c'].map((body) => sqsRecordFactory(body));
    const failing = new Set([records[0]?.messageId, records[2]?.messageId]);

    // Act
    const partial = await processBatch({ Records: records }, async (record) => {
      if (failing.has(record.messageId)) throw new Error(`bad ${record.body}`);
    });
    const full = await processBatch({ Records: records }, async () => undefined);

    // Assess
    expect(partial).toEqual({
      batchItemFailures: [{ itemIdentifier: records[0]?.messageId }, { itemIdentifier: records[2]?.messageId }],
    });
    expect(partial.batchItemFailures.every((failure) => failure.itemIdentifier.length > 0)).toBe(true);
    expect(full).toEqual({ batchItemFailures: [] });
  });
});

describe('createSqsHandler and PermanentError', () => {
  function permanentHandler(ledger: LedgerRepository) {
    return createSqsHandler({
      schema: Message,
      stage: 'load',
      ledger,
      logger: silentLogger(),
      timeoutEarlyInMillis: 0,
      process: async (message) => {
        if (message.fail) throw new PermanentError(`Run ${message.runId} is not in the ledger`);
      },
    });
  }

  it('records a permanent failure on its chunk with its reason and acknowledges the record', async () => {
    // Prepare
    const { ledger, errors } = recordingLedger();
    const record = sqsRecordFactory({ ...ok('2020-04'), fail: true });

    // Act
    const response = await permanentHandler(ledger)({ Records: [record] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(errors).toEqual([
      {
        runId: 's-20261125T060000Z',
        month: '2020-04',
        error: expect.objectContaining({
          stage: 'load',
          message: 'PermanentError: Run s-20261125T060000Z is not in the ledger',
        }),
      },
    ]);
  });

  it('retries a permanent failure whose reason could not be recorded', async () => {
    // Prepare
    const { ledger } = recordingLedger({ failing: true });
    const record = sqsRecordFactory({ ...ok('2020-04'), fail: true });

    // Act
    const response = await permanentHandler(ledger)({ Records: [record] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
  });
});
