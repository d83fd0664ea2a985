import type { LoadChunkMessage, RejectedRow, SeriesRecord } from '@covid-etl/contracts';
import {
  type LedgerRepository,
  PermanentError,
  RunFinalizer,
  type SeriesRepository,
  silentLogger,
} from '@covid-etl/platform';
import { lambdaContext, sqsRecordFactory } from '@covid-etl/testing';
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
let events: CapturingPublisher;
let clock: TestClock;

const R1 = 's-20261124T060000Z';
const R2 = 's-20261125T060000Z';
const HASH_1 = '1'.repeat(64);
const HASH_2 = '2'.repeat(64);

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  ({ ledger, series } = await local.tables());
  events = new CapturingPublisher();
  clock = new TestClock();
});

function deps(overrides: Partial<LoaderDeps> = {}): LoaderDeps {
  const logger = silentLogger();
  return {
    ledger,
    series,
    finalizer: new RunFinalizer({ ledger, events, logger, clock }),
    clock,
    logger,
    ...overrides,
  };
}

/** The days of `month` (`count` of them) with cumulative values growing from `base`. */
function days(month: string, count: number, base = 100): SeriesRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    date: `${month}-${String(i + 1).padStart(2, '0')}`,
    cases: base + i * 10,
    deaths: base / 10 + i,
    recovered: 0,
  }));
}

function message(runId: string, month: string, records: SeriesRecord[], extra: Partial<LoadChunkMessage> = {}) {
  return { version: 1, runId, month, hash: HASH_1, records, rejected: [], ...extra } satisfies LoadChunkMessage;
}

/** A dispatched RUNNING run whose chunks for `months` wait for the loader. */
async function dispatchedRun(runId: string, months: string[]) {
  await ledger.createRun(runItem({ runId, startedAt: clock.now().toISOString() }));
  await ledger.recordDispatchPlan(runId, {
    sources: [],
    months,
    hashes: Object.fromEntries(months.map((month) => [month, HASH_1])),
    skipped: { months: 0, records: 0 },
  });
  await ledger.markDispatched(runId);
  for (const month of months) await ledger.markChunkTransformed(runId, month, []);
}

/**
 * Wraps `series.writeBatch` so that every BatchWriteItem request after the first `okBatches`
 * throws, like a dying Lambda (25 items a request: a day and its version are 2).
 */
function crashingSeries(okBatches: number) {
  let calls = 0;
  let armed = true;
  const inFlight: Promise<unknown>[] = [];
  const original = series.writeBatch.bind(series);
  const crashing = Object.create(series) as SeriesRepository;
  crashing.writeBatch = (...args) => {
    calls += 1;
    if (armed && calls > okBatches) return Promise.reject(new Error('Lambda died mid-chunk'));
    const write = original(...args);
    inFlight.push(write);
    return write;
  };
  return {
    series: crashing,
    /** Waits for the writes that were already on the wire when the "crash" happened. */
    settled: () => Promise.allSettled(inFlight),
    disarm: () => {
      armed = false;
    },
  };
}

const completedEvents = () => events.published.filter((event) => event.detailType === 'EtlRunCompleted');

describe('loadMonthChunk', () => {
  it('inserts a new month, counts the inserts and finishes the run with one EtlRunCompleted', async () => {
    // Prepare
    await dispatchedRun(R1, ['2020-03']);

    // Act
    await loadMonthChunk(message(R1, '2020-03', days('2020-03', 31)), deps());

    // Assess
    expect(await series.query()).toHaveLength(31);
    expect(await ledger.getChunk(R1, '2020-03')).toMatchObject({
      stage: 'LOADED',
      counts: { inserted: 31, updated: 0, unchanged: 0 },
      dateRange: { from: '2020-03-01', to: '2020-03-31' },
    });
    expect(await ledger.getMonthState('2020-03')).toEqual({ month: '2020-03', hash: HASH_1, records: 31, runId: R1 });
    expect((await ledger.getRun(R1))?.status).toBe('SUCCEEDED');
    expect(events.published).toHaveLength(1);
    expect(completedEvents()[0]?.detail).toMatchObject({
      summary: { runId: R1, status: 'SUCCEEDED', counts: { inserted: 31, updated: 0, unchanged: 0, rejected: 0 } },
    });
  });

  it('succeeds for a loaded chunk even when PutEvents keeps failing: publishing is retried on its own', async () => {
    // Prepare
    await dispatchedRun(R1, ['2020-03']);
    events.failNext = 100;

    // Act: the last chunk finishes the run while the bus is down; SQS redelivers nothing.
    const load = loadMonthChunk(message(R1, '2020-03', days('2020-03', 31)), deps());

    // Assess
    await expect(load).resolves.toBeUndefined();
    expect(await ledger.getChunk(R1, '2020-03')).toMatchObject({ stage: 'LOADED' });
    expect(await ledger.getRun(R1)).toMatchObject({ status: 'SUCCEEDED', event: { state: 'PUBLISHING' } });
    expect(events.published).toEqual([]);
  });

  it('counts a redelivered chunk once and does not double the run totals', async () => {
    // Prepare
    await dispatchedRun(R1, ['2020-03', '2020-04']);
    const march = message(R1, '2020-03', days('2020-03', 31));

    // Act: delivered twice in a row, then twice at the same time, then the last chunk.
    await loadMonthChunk(march, deps());
    await loadMonthChunk(march, deps());
    await Promise.all([loadMonthChunk(march, deps()), loadMonthChunk(march, deps())]);
    await loadMonthChunk(message(R1, '2020-04', days('2020-04', 30)), deps());
    await loadMonthChunk(march, deps());

    // Assess
    expect((await ledger.getChunk(R1, '2020-03'))?.counts).toEqual({ inserted: 31, updated: 0, unchanged: 0 });
    expect(completedEvents()).toHaveLength(1);
    expect(completedEvents()[0]?.detail).toMatchObject({
      summary: { counts: { inserted: 61, updated: 0, unchanged: 0, rejected: 0 }, chunks: { expected: 2, loaded: 2 } },
    });
    expect(await series.query()).toHaveLength(61);
  });

  it('counts concurrent duplicate deliveries of a new chunk exactly', async () => {
    // Prepare: two deliveries that both read the month before either wrote.
    await dispatchedRun(R1, ['2020-03', '2020-04']);
    const march = message(R1, '2020-03', days('2020-03', 31));

    // Act
    await Promise.all([loadMonthChunk(march, deps()), loadMonthChunk(march, deps())]);

    // Assess
    expect((await ledger.getChunk(R1, '2020-03'))?.counts).toEqual({ inserted: 31, updated: 0, unchanged: 0 });
    expect((await series.query()).every((record) => record.runId === R1 && record.change === 'inserted')).toBe(true);
  });

  it('counts the updates, inserts and unchanged days of a revised month exactly', async () => {
    // Prepare: run 1 loaded 20 days; run 2 revises days 3 and 7 and adds days 21 to 25.
    await dispatchedRun(R1, ['2020-03']);
    await loadMonthChunk(message(R1, '2020-03', days('2020-03', 20)), deps());
    const revised = days('2020-03', 25).map((record, i) =>
      i === 2 || i === 6 ? { ...record, cases: record.cases + 1 } : record,
    );
    await dispatchedRun(R2, ['2020-03']);

    // Act
    await loadMonthChunk(message(R2, '2020-03', revised, { hash: HASH_2 }), deps());

    // Assess
    expect((await ledger.getChunk(R2, '2020-03'))?.counts).toEqual({ inserted: 5, updated: 2, unchanged: 18 });
    const stored = await series.getMonth('2020-03');
    expect(stored.get('2020-03-03')).toMatchObject({ cases: 121, runId: R2, change: 'updated' });
    expect(stored.get('2020-03-04')).toMatchObject({ cases: 130, runId: R1, change: 'inserted' });
    expect(stored.get('2020-03-25')).toMatchObject({ runId: R2, change: 'inserted' });
    expect(completedEvents().at(-1)?.detail).toMatchObject({
      summary: { runId: R2, counts: { inserted: 5, updated: 2, unchanged: 18 } },
    });
  });

  it('gives exact counts when the loader dies halfway through a new chunk and it is redelivered', async () => {
    // Prepare
    await dispatchedRun(R1, ['2020-03']);
    const march = message(R1, '2020-03', days('2020-03', 31));
    const crash = crashingSeries(1);

    // Act
    await expect(loadMonthChunk(march, deps({ series: crash.series }))).rejects.toThrow('Lambda died mid-chunk');
    await crash.settled();
    const halfDone = (await series.query()).length;
    crash.disarm();
    await loadMonthChunk(march, deps({ series: crash.series }));

    // Assess
    expect(halfDone).toBe(13);
    expect((await ledger.getChunk(R1, '2020-03'))?.counts).toEqual({ inserted: 31, updated: 0, unchanged: 0 });
    expect(await series.query()).toHaveLength(31);
    expect(completedEvents()).toHaveLength(1);
    expect(completedEvents()[0]?.detail).toMatchObject({ summary: { counts: { inserted: 31, updated: 0 } } });
  });

  it('gives exact counts when the loader dies halfway through a revised chunk and it is redelivered', async () => {
    // Prepare: run 2 changes every one of 30 days and adds one.
    await dispatchedRun(R1, ['2020-04']);
    await loadMonthChunk(message(R1, '2020-04', days('2020-04', 29)), deps());
    await dispatchedRun(R2, ['2020-04']);
    const revised = message(R2, '2020-04', days('2020-04', 30, 500), { hash: HASH_2 });
    const crash = crashingSeries(1);

    // Act
    await expect(loadMonthChunk(revised, deps({ series: crash.series }))).rejects.toThrow('Lambda died mid-chunk');
    await crash.settled();
    crash.disarm();
    await loadMonthChunk(revised, deps({ series: crash.series }));
    await loadMonthChunk(revised, deps({ series: crash.series }));

    // Assess
    expect((await ledger.getChunk(R2, '2020-04'))?.counts).toEqual({ inserted: 1, updated: 29, unchanged: 0 });
    expect((await series.query()).every((record) => record.runId === R2)).toBe(true);
    expect(completedEvents().filter((event) => JSON.stringify(event.detail).includes(R2))).toHaveLength(1);
  });

  it('gives exact counts when the loader dies after its writes and month state, before marking the chunk', async () => {
    // Prepare: every write and the month state land, then marking the chunk loaded fails once.
    await dispatchedRun(R1, ['2020-03']);
    const march = message(R1, '2020-03', days('2020-03', 31));
    const flaky = Object.create(ledger) as LedgerRepository;
    let failures = 1;
    flaky.markChunkLoaded = async (...args) => {
      if (failures-- > 0) throw new Error('Lambda died before marking the chunk');
      return ledger.markChunkLoaded(...args);
    };

    // Act
    await expect(loadMonthChunk(march, deps({ ledger: flaky }))).rejects.toThrow('before marking the chunk');
    const stateAfterCrash = await ledger.getMonthState('2020-03');
    await loadMonthChunk(march, deps({ ledger: flaky }));

    // Assess: the month state of this very run does not make the redelivery skip the month.
    expect(stateAfterCrash?.runId).toBe(R1);
    expect((await ledger.getChunk(R1, '2020-03'))?.counts).toEqual({ inserted: 31, updated: 0, unchanged: 0 });
    expect(completedEvents()[0]?.detail).toMatchObject({ summary: { counts: { inserted: 31, unchanged: 0 } } });
  });

  it('finishes the run exactly once when the loader dies between the chunk mark and the run count', async () => {
    // Prepare: the chunk is marked loaded, then the run's count fails once (the Lambda died).
    await dispatchedRun(R1, ['2020-03', '2020-04']);
    await loadMonthChunk(message(R1, '2020-03', days('2020-03', 31)), deps());
    const dying = Object.create(ledger) as LedgerRepository;
    let failures = 1;
    dying.recordChunksLoaded = async (...args) => {
      if (failures-- > 0) throw new Error('Lambda died before counting the chunk on its run');
      return ledger.recordChunksLoaded(...args);
    };
    const april = message(R1, '2020-04', days('2020-04', 30));

    // Act
    await expect(loadMonthChunk(april, deps({ ledger: dying }))).rejects.toThrow('before counting');
    const afterCrash = await ledger.getRun(R1);
    await loadMonthChunk(april, deps({ ledger: dying }));
    await loadMonthChunk(april, deps({ ledger: dying }));

    // Assess: the redelivery found the chunk loaded, counted it on the run once, finished the run.
    expect(afterCrash?.status).toBe('RUNNING');
    expect((await ledger.getChunk(R1, '2020-04'))?.stage).toBe('LOADED');
    expect([...((await ledger.getRun(R1))?.loaded ?? [])].sort()).toEqual(['2020-03', '2020-04']);
    expect(completedEvents()).toHaveLength(1);
    expect(completedEvents()[0]?.detail).toMatchObject({
      summary: { status: 'SUCCEEDED', counts: { inserted: 61, updated: 0, unchanged: 0 }, chunks: { loaded: 2 } },
    });
  });

  it('finishes the run when the loader died after counting the last chunk, before finishing the run', async () => {
    // Prepare: the last chunk is counted on its run, then the finish fails once.
    await dispatchedRun(R1, ['2020-03']);
    const march = message(R1, '2020-03', days('2020-03', 31));
    const dying = new RunFinalizer({ ledger, events, logger: silentLogger(), clock });
    dying.finishIfComplete = async () => {
      throw new Error('Lambda died before finishing the run');
    };

    // Act
    await expect(loadMonthChunk(march, deps({ finalizer: dying }))).rejects.toThrow('before finishing');
    await loadMonthChunk(march, deps());

    // Assess
    expect((await ledger.getRun(R1))?.status).toBe('SUCCEEDED');
    expect(completedEvents()).toHaveLength(1);
  });

  it('keeps a second run off a month another run is loading, until that load is done', async () => {
    // Prepare: run 1 loaded March; run 1's redelivery and run 2 revise it at the same time.
    await dispatchedRun(R1, ['2020-03']);
    await dispatchedRun(R2, ['2020-03']);
    await ledger.leaseMonth('2020-03', R1, { now: clock.now().getTime(), until: clock.now().getTime() + 60_000 });

    // Act
    const blocked = loadMonthChunk(message(R2, '2020-03', days('2020-03', 31, 500), { hash: HASH_2 }), deps());
    await expect(blocked).rejects.toThrow('Month 2020-03 is being loaded by another run');
    const writesWhileBlocked = await series.query();
    await loadMonthChunk(message(R1, '2020-03', days('2020-03', 31)), deps());
    await loadMonthChunk(message(R2, '2020-03', days('2020-03', 31, 500), { hash: HASH_2 }), deps());

    // Assess: nothing of run 2 was written while run 1 held the month; then it updated every day.
    expect(writesWhileBlocked).toEqual([]);
    expect((await ledger.getChunk(R2, '2020-03'))?.counts).toEqual({ inserted: 0, updated: 31, unchanged: 0 });
    expect((await series.getMonth('2020-03')).get('2020-03-01')?.before).toMatchObject({ runId: R1, cases: 100 });
  });

  it("takes a crashed run's month lease once it has run out", async () => {
    // Prepare: run 1 took the lease and died.
    await dispatchedRun(R2, ['2020-03']);
    await ledger.leaseMonth('2020-03', R1, { now: clock.now().getTime(), until: clock.now().getTime() + 60_000 });

    // Act
    clock.advance(60_001);
    await loadMonthChunk(message(R2, '2020-03', days('2020-03', 31)), deps());

    // Assess
    expect((await ledger.getRun(R2))?.status).toBe('SUCCEEDED');
  });

  it('skips a month whose hash equals its last successful load without writing', async () => {
    // Prepare
    await dispatchedRun(R1, ['2020-03']);
    await loadMonthChunk(message(R1, '2020-03', days('2020-03', 31)), deps());
    await dispatchedRun(R2, ['2020-03']);
    const write = jest.spyOn(series, 'writeChanges');
    const read = jest.spyOn(series, 'getDays');

    // Act
    await loadMonthChunk(message(R2, '2020-03', days('2020-03', 31)), deps());

    // Assess
    expect(write).not.toHaveBeenCalled();
    expect(read).not.toHaveBeenCalled();
    expect((await ledger.getChunk(R2, '2020-03'))?.counts).toEqual({ inserted: 0, updated: 0, unchanged: 31 });
    expect((await series.query()).every((record) => record.runId === R1)).toBe(true);
    expect((await ledger.getRun(R2))?.status).toBe('SUCCEEDED');
  });

  it('finishes the run once with one event when two loaders finish the last two chunks at the same time', async () => {
    // Prepare
    await dispatchedRun(R1, ['2020-03', '2020-04', '2020-05']);
    await loadMonthChunk(message(R1, '2020-03', days('2020-03', 31)), deps());

    // Act: two independent workers (each its own finalizer) on the last two chunks.
    await Promise.all([
      loadMonthChunk(message(R1, '2020-04', days('2020-04', 30)), deps()),
      loadMonthChunk(message(R1, '2020-05', days('2020-05', 31)), deps()),
    ]);

    // Assess
    expect(events.published).toHaveLength(1);
    expect(events.published[0]).toMatchObject({
      detailType: 'EtlRunCompleted',
      detail: {
        version: 1,
        summary: {
          status: 'SUCCEEDED',
          counts: { inserted: 92, updated: 0, unchanged: 0, rejected: 0 },
          chunks: { expected: 3, loaded: 3 },
          dateRange: { from: '2020-03-01', to: '2020-05-31' },
        },
      },
    });
    expect((await ledger.getRun(R1))?.event?.state).toBe('PUBLISHED');
  });

  it('ends the run PARTIAL when rows were rejected, and does not remember the month as loaded', async () => {
    // Prepare
    await dispatchedRun(R1, ['2020-03']);
    const rejected: RejectedRow[] = [
      { source: 'nyt', line: 12, column: 'cases', value: '-5', reason: 'cases "-5" is negative' },
    ];

    // Act
    await loadMonthChunk(message(R1, '2020-03', days('2020-03', 30), { rejected }), deps());

    // Assess
    expect((await ledger.getRun(R1))?.status).toBe('PARTIAL');
    expect(await ledger.getMonthState('2020-03')).toBeUndefined();
    expect(completedEvents()).toHaveLength(1);
    expect(completedEvents()[0]?.detail).toMatchObject({
      summary: { status: 'PARTIAL', counts: { inserted: 30, rejected: 1 }, rejectedRows: rejected },
    });
  });

  it('refuses a chunk of a run the ledger does not know', async () => {
    // Act
    const loading = loadMonthChunk(message(R1, '2020-03', days('2020-03', 1)), deps());

    // Assess
    await expect(loading).rejects.toThrow(PermanentError);
    await expect(loading).rejects.toThrow(`Run ${R1} is not in the ledger`);
    expect(await series.query()).toEqual([]);
  });
});

describe('loader handler (createHandler)', () => {
  it('reads and writes the months of one invocation together: one Query, shared batch writes', async () => {
    // Prepare: 5 months of 30/31 days; the same chunk delivered twice in the batch.
    const months = ['2020-03', '2020-04', '2020-05', '2020-06', '2020-07'];
    await dispatchedRun(R1, months);
    const handler = createHandler(deps(), { timeoutEarlyInMillis: 0 });
    const records = months.map((month) => sqsRecordFactory(message(R1, month, days(month, 30))));
    const counter = countRequests(local.doc);

    // Act
    const response = await handler(
      { Records: [...records, sqsRecordFactory(message(R1, '2020-04', days('2020-04', 30)))] },
      lambdaContext(),
    );
    counter.stop();

    // Assess: 150 days and their versions are 300 items, 12 requests of 25; one Query reads the months.
    expect(response).toEqual({ batchItemFailures: [] });
    const data = Object.keys(counter.requests).find((table) => table.startsWith('data-')) as string;
    expect(counter.requests[data]).toEqual({ Query: 1, BatchWriteItem: 12 });
    expect(await series.query()).toHaveLength(150);
    expect(completedEvents()[0]?.detail).toMatchObject({ summary: { counts: { inserted: 150, unchanged: 0 } } });
  });

  it('loads the good records of a batch and reports only the failing one, recording its error', async () => {
    // Prepare
    await dispatchedRun(R1, ['2020-03', '2020-04']);
    const handler = createHandler(deps(), { timeoutEarlyInMillis: 0 });
    const good = sqsRecordFactory(message(R1, '2020-03', days('2020-03', 31)));
    const unknownRun = sqsRecordFactory(message('s-20200101T000000Z', '2020-04', days('2020-04', 30)));
    const notJson = sqsRecordFactory('not json');

    // Act
    const response = await handler({ Records: [good, unknownRun, notJson] }, lambdaContext());

    // Assess
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [unknownRun.messageId, notJson.messageId].sort(),
    );
    expect((await ledger.getChunk(R1, '2020-03'))?.stage).toBe('LOADED');
    expect(await series.query()).toHaveLength(31);
  });
});
