/**
 * What a run costs in DynamoDB requests: the loader's ledger requests and items read per chunk
 * must not grow with the run's chunks (completion is counted on the run item, never by listing
 * every chunk after every chunk), and a full load must write many days per data-table request.
 */
import { createReadStream } from 'node:fs';
import { type LoadChunkMessage, QUEUES, type SeriesRecord } from '@covid-etl/contracts';
import { transformSources } from '@covid-etl/core';
import { type LedgerRepository, RunFinalizer, type SeriesRepository, silentLogger } from '@covid-etl/platform';
import { lambdaContext, sharedDataAvailable, snapshotPath, sqsRecordFactory } from '@covid-etl/testing';
import {
  CapturingPublisher,
  countRequests,
  type LocalTables,
  runItem,
  startLocalTables,
  TestClock,
} from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createHandler, type LoaderDeps } from '../src/app.js';
import { loadMonthChunk } from '../src/use-cases/load-chunk.js';

let local: LocalTables;
let ledger: LedgerRepository;
let series: SeriesRepository;
let tables: { dataTable: string; ledgerTable: string };
let events: CapturingPublisher;
const clock = new TestClock();
const RUN = 's-20261125T060000Z';

beforeAll(async () => {
  local = await startLocalTables();
});
afterAll(async () => {
  await local.close();
});
beforeEach(async () => {
  const fresh = await local.tables();
  ({ ledger, series } = fresh);
  tables = fresh;
  events = new CapturingPublisher();
});

function deps(): LoaderDeps {
  const logger = silentLogger();
  return { ledger, series, finalizer: new RunFinalizer({ ledger, events, logger, clock }), clock, logger };
}

/** `count` consecutive months from 2000-01. */
const monthsFrom2000 = (count: number) =>
  Array.from({ length: count }, (_, i) => `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`);

async function dispatchedRun(months: string[], hashes: Record<string, string>) {
  await ledger.createRun(runItem({ runId: RUN, startedAt: clock.now().toISOString() }));
  await ledger.recordDispatchPlan(RUN, { sources: [], months, hashes, skipped: { months: 0, records: 0 } });
  await ledger.markDispatched(RUN);
  for (const month of months) await ledger.markChunkTransformed(RUN, month, []);
}

/** Loads a run of `chunks` one-day chunks one by one; the ledger requests and items read per chunk. */
async function ledgerCostPerChunk(chunks: number) {
  ({ ledger, series, ...tables } = await local.tables());
  const months = monthsFrom2000(chunks);
  await dispatchedRun(months, Object.fromEntries(months.map((month) => [month, 'a'.repeat(64)])));
  const counter = countRequests(local.doc);
  try {
    for (const month of months) {
      const record: SeriesRecord = { date: `${month}-01`, cases: 1, deaths: 0, recovered: 0 };
      await loadMonthChunk(
        { version: 1, runId: RUN, month, hash: 'a'.repeat(64), records: [record], rejected: [] },
        deps(),
      );
    }
    return {
      requests: counter.total(tables.ledgerTable) / chunks,
      itemsRead: (counter.itemsRead[tables.ledgerTable] ?? 0) / chunks,
    };
  } finally {
    counter.stop();
  }
}

describe('DynamoDB requests of a run', () => {
  it('keeps the ledger requests and items read per chunk flat from 14 to 112 chunks', async () => {
    // Act
    const small = await ledgerCostPerChunk(14);
    const large = await ledgerCostPerChunk(112);

    // Assess: per chunk, a handful of requests and items, whatever the run's size.
    process.stdout.write(
      `ledger per chunk: 14 chunks ${small.requests.toFixed(2)} requests, ${small.itemsRead.toFixed(2)} items read; ` +
        `112 chunks ${large.requests.toFixed(2)} requests, ${large.itemsRead.toFixed(2)} items read\n`,
    );
    expect((await ledger.getRun(RUN))?.status).toBe('SUCCEEDED');
    expect(large.requests).toBeLessThanOrEqual(small.requests);
    expect(large.itemsRead).toBeLessThanOrEqual(small.itemsRead);
    expect(large.itemsRead).toBeLessThan(5);
  }, 120_000);

  it('reads the run and the chunk items once per invocation, and counts its chunks on the run in one request', async () => {
    // Prepare: 10 one-day month chunks of one run, one loader batch (the queue's batch size).
    const months = monthsFrom2000(QUEUES.loader.batchSize);
    await dispatchedRun(months, Object.fromEntries(months.map((month) => [month, 'a'.repeat(64)])));
    const handler = createHandler(deps(), { timeoutEarlyInMillis: 0 });
    const records = months.map((month) =>
      sqsRecordFactory({
        version: 1,
        runId: RUN,
        month,
        hash: 'a'.repeat(64),
        records: [{ date: `${month}-01`, cases: 1, deaths: 0, recovered: 0 }],
        rejected: [],
      } satisfies LoadChunkMessage),
    );
    const getRun = jest.spyOn(ledger, 'getRun');
    const countOnRun = jest.spyOn(ledger, 'recordChunksLoaded');
    const putStates = jest.spyOn(ledger, 'putMonthStates');
    const counter = countRequests(local.doc);

    // Act
    const response = await handler({ Records: records }, lambdaContext());
    counter.stop();

    // Assess: one GetItem of the run item and one BatchGetItem of the 10 chunk items (one
    // GetItem each before), one BatchWriteItem of the 10 month states (one PutItem each
    // before), one update of the run item for the 10 months (one each before).
    expect(response).toEqual({ batchItemFailures: [] });
    const run = await ledger.getRun(RUN);
    expect(run?.status).toBe('SUCCEEDED');
    expect(run?.summary?.counts.inserted).toBe(10);
    expect(getRun.mock.calls.length - 1 /* the read above */).toBe(1);
    expect(counter.requests[tables.ledgerTable]).toMatchObject({ GetItem: 1, BatchGetItem: 1, BatchWriteItem: 1 });
    expect(counter.requests[tables.ledgerTable]?.PutItem).toBeUndefined();
    expect(putStates).toHaveBeenCalledTimes(1);
    expect((putStates.mock.calls[0]?.[0] ?? []).map((state) => state.month).sort()).toEqual(months);
    expect(countOnRun).toHaveBeenCalledTimes(1);
    expect([...(countOnRun.mock.calls[0]?.[1] ?? [])].sort()).toEqual(months);
  });

  const itReal = sharedDataAvailable() ? it : it.skip;
  itReal('loads the real national snapshot (420 days) at no more than 0.1 data-table requests per day', async () => {
    // Prepare: the months of the real snapshots as the transformer sends them, in batches of the
    // loader queue's batch size.
    const { chunks, records } = await transformSources(
      createReadStream(snapshotPath('nytFinal')),
      createReadStream(snapshotPath('jhuFinal')),
    );
    const byMonth = new Map<string, SeriesRecord[]>();
    for (const record of records) {
      const month = record.date.slice(0, 7);
      byMonth.set(month, [...(byMonth.get(month) ?? []), record]);
    }
    const messages: LoadChunkMessage[] = chunks.map((chunk) => ({
      version: 1,
      runId: RUN,
      month: chunk.month,
      hash: chunk.hash,
      records: byMonth.get(chunk.month) ?? [],
      rejected: [],
    }));
    await dispatchedRun(
      messages.map((m) => m.month),
      Object.fromEntries(messages.map((m) => [m.month, m.hash])),
    );
    const handler = createHandler(deps(), { timeoutEarlyInMillis: 0 });
    const counter = countRequests(local.doc);

    // Act
    for (let i = 0; i < messages.length; i += QUEUES.loader.batchSize) {
      const batch = messages.slice(i, i + QUEUES.loader.batchSize).map((m) => sqsRecordFactory(m));
      const response = await handler({ Records: batch }, lambdaContext());
      expect(response).toEqual({ batchItemFailures: [] });
    }
    counter.stop();

    // Assess
    const run = await ledger.getRun(RUN);
    const changed = run?.summary?.counts.inserted ?? 0;
    const perDay = counter.total(tables.dataTable) / changed;
    process.stdout.write(
      `full load of the real snapshot: ${changed} days in ${messages.length} chunks, ` +
        `${counter.total(tables.dataTable)} data-table requests ${JSON.stringify(counter.requests[tables.dataTable])} ` +
        `= ${perDay.toFixed(3)} per changed day; ledger ${counter.total(tables.ledgerTable)} requests, ` +
        `${counter.itemsRead[tables.ledgerTable] ?? 0} items read\n`,
    );
    expect(run?.status).toBe('SUCCEEDED');
    expect(changed).toBe(420);
    expect(await series.query()).toHaveLength(420);
    expect(perDay).toBeLessThanOrEqual(0.1);
  });
});
