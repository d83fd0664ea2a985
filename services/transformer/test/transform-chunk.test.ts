import { LoadChunkMessage, type TransformChunkMessage } from '@covid-etl/contracts';
import type { LedgerRepository } from '@covid-etl/platform';
import { buildRunSummary, silentLogger } from '@covid-etl/platform';
import { lambdaContext, sqsRecordFactory } from '@covid-etl/testing';
import { CapturingSender, type LocalTables, runItem, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createHandler } from '../src/app.js';
import { transformMonthChunk } from '../src/use-cases/transform-chunk.js';

const RUN = 's-20261125T060000Z';
const HASH = 'd'.repeat(64);

let local: LocalTables;
let ledger: LedgerRepository;

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  ({ ledger } = await local.tables());
  await ledger.createRun(runItem({ runId: RUN }));
  await ledger.recordDispatchPlan(RUN, {
    sources: [],
    months: ['2020-03', '2020-04', '2020-05'],
    hashes: { '2020-03': HASH, '2020-04': HASH, '2020-05': HASH },
    skipped: { months: 0, records: 0 },
  });
});

function chunk(month: string, overrides: Partial<TransformChunkMessage> = {}): TransformChunkMessage {
  return {
    version: 1,
    runId: RUN,
    month,
    hash: HASH,
    nyt: [
      { line: 2, date: `${month}-01`, cases: '10', deaths: '1' },
      { line: 3, date: `${month}-02`, cases: '12', deaths: '1' },
      { line: 4, date: `${month}-03`, cases: '15', deaths: '2' },
    ],
    jhu: [
      { line: 20, date: `${month}-01`, recovered: '0' },
      { line: 21, date: `${month}-02`, recovered: '3' },
      { line: 22, date: `${month}-03`, recovered: '4' },
    ],
    ...overrides,
  };
}

describe('transformMonthChunk', () => {
  it('drops a chunk of an abandoned run: nothing recorded, nothing sent', async () => {
    // Prepare
    const run = runItem({ runId: RUN });
    await ledger.finishRun(RUN, {
      status: 'ABANDONED',
      summary: buildRunSummary(run, [], { status: 'ABANDONED', now: new Date() }),
      detailType: 'EtlRunFailed',
      leaseUntil: 0,
    });
    const sender = new CapturingSender();

    // Act
    await transformMonthChunk(chunk('2020-03'), { ledger, loaderQueue: sender, logger: silentLogger() });

    // Assess
    expect(sender.sent).toEqual([]);
    expect((await ledger.getChunk(RUN, '2020-03'))?.stage).toBe('SENT');
  });

  it('sends one LoadChunkMessage with the records joined on date', async () => {
    // Prepare
    const loaderQueue = new CapturingSender();

    // Act
    await transformMonthChunk(chunk('2020-03'), { ledger, loaderQueue, logger: silentLogger() });

    // Assess
    expect(loaderQueue.sent).toHaveLength(1);
    expect(loaderQueue.sent[0]?.id).toBe('2020_03');
    const load = LoadChunkMessage.parse(JSON.parse(loaderQueue.sent[0]?.body ?? ''));
    expect(load).toEqual({
      version: 1,
      runId: RUN,
      month: '2020-03',
      hash: HASH,
      records: [
        { date: '2020-03-01', cases: 10, deaths: 1, recovered: 0 },
        { date: '2020-03-02', cases: 12, deaths: 1, recovered: 3 },
        { date: '2020-03-03', cases: 15, deaths: 2, recovered: 4 },
      ],
      rejected: [],
    });
    expect(await ledger.getChunk(RUN, '2020-03')).toMatchObject({ stage: 'TRANSFORMED', rejected: [] });
  });

  it('records the rejected rows with line and reason on the chunk, and sends the rest', async () => {
    // Prepare
    const loaderQueue = new CapturingSender();
    const base = chunk('2020-04');
    const message = chunk('2020-04', {
      nyt: [...base.nyt.slice(0, 2), { line: 4, date: '2020-04-03', cases: '-15', deaths: '2' }],
      jhu: [
        ...base.jhu.slice(0, 2),
        { line: 22, date: '2020-04-03', recovered: '4' },
        { line: 23, date: '2020-04-31', recovered: '5' },
      ],
    });

    // Act
    await transformMonthChunk(message, { ledger, loaderQueue, logger: silentLogger() });
    await transformMonthChunk(message, { ledger, loaderQueue, logger: silentLogger() });

    // Assess
    const stored = await ledger.getChunk(RUN, '2020-04');
    expect(stored?.stage).toBe('TRANSFORMED');
    expect(stored?.rejected).toEqual([
      { source: 'nyt', line: 4, column: 'cases', value: '-15', reason: expect.stringContaining('negative') },
      {
        source: 'jhu',
        line: 23,
        column: 'Date',
        value: '2020-04-31',
        reason: expect.stringContaining('does not exist'),
      },
    ]);
    const load = LoadChunkMessage.parse(JSON.parse(loaderQueue.sent[0]?.body ?? ''));
    expect(load.records.map((record) => record.date)).toEqual(['2020-04-01', '2020-04-02']);
    expect(load.rejected).toEqual(stored?.rejected);
    expect(loaderQueue.sent[1]?.body).toBe(loaderQueue.sent[0]?.body);
  });
});

describe('transformer handler (createHandler)', () => {
  it('reports exactly the malformed record of a batch of 3 and transforms the other two', async () => {
    // Prepare
    const loaderQueue = new CapturingSender();
    const handler = createHandler({ ledger, loaderQueue, logger: silentLogger() }, { timeoutEarlyInMillis: 0 });
    const malformed = sqsRecordFactory({ ...chunk('2020-04'), hash: 'not-a-hash' });
    const records = [sqsRecordFactory(chunk('2020-03')), malformed, sqsRecordFactory(chunk('2020-05'))];

    // Act
    const response = await handler({ Records: records }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: malformed.messageId }] });
    const months = loaderQueue.sent.map((message) => LoadChunkMessage.parse(JSON.parse(message.body)).month);
    expect(months.sort()).toEqual(['2020-03', '2020-05']);
    expect((await ledger.getChunk(RUN, '2020-04'))?.stage).toBe('SENT');
  });

  it('reports a record whose send fails and remembers the error on its chunk', async () => {
    // Prepare
    const loaderQueue = new CapturingSender((message) => message.body.includes('"month":"2020-05"'));
    const handler = createHandler({ ledger, loaderQueue, logger: silentLogger() }, { timeoutEarlyInMillis: 0 });
    const failing = sqsRecordFactory(chunk('2020-05'));

    // Act
    const response = await handler({ Records: [sqsRecordFactory(chunk('2020-03')), failing] }, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
    expect(await ledger.getChunk(RUN, '2020-05')).toMatchObject({
      errors: 1,
      lastError: {
        stage: 'transform',
        message: 'Error: SendMessageBatch still failing after retries',
        receiveCount: 1,
      },
    });
  });

  it('reads the run once for the chunks of one invocation, and again in the next invocation', async () => {
    // Prepare
    const loaderQueue = new CapturingSender();
    const getRun = jest.spyOn(ledger, 'getRun');
    const handler = createHandler({ ledger, loaderQueue, logger: silentLogger() }, { timeoutEarlyInMillis: 0 });
    const batch = () => ['2020-03', '2020-04', '2020-05'].map((month) => sqsRecordFactory(chunk(month)));

    // Act
    const first = await handler({ Records: batch() }, lambdaContext());
    const readsInFirst = getRun.mock.calls.length;
    await ledger.finishRun(RUN, {
      status: 'ABANDONED',
      summary: buildRunSummary(runItem({ runId: RUN }), [], { status: 'ABANDONED', now: new Date() }),
      detailType: 'EtlRunFailed',
      leaseUntil: 0,
    });
    const second = await handler({ Records: batch() }, lambdaContext());

    // Assess: one read per invocation, and the second invocation sees the run abandoned.
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(readsInFirst).toBe(1);
    expect(getRun.mock.calls.map(([runId]) => runId)).toEqual([RUN, RUN]);
    expect(loaderQueue.sent).toHaveLength(3);
  });
});
