import type { GeoLevelPlan, SourceIdentity } from '@covid-etl/contracts';
import {
  CapturingPublisher,
  countRequests,
  type LocalTables,
  runItem,
  SHA_A,
  SHA_B,
  startLocalTables,
  TestClock,
} from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DynamoGeoLedger, type LedgerRepository, RunFinalizer, silentLogger } from '../src/index.js';

let local: LocalTables;
let ledger: LedgerRepository;
let geoLedger: DynamoGeoLedger;
let events: CapturingPublisher;
let clock: TestClock;
const LEASE_MS = 60_000;
const RUN = 's-20261125T060000Z';
const sources: SourceIdentity[] = [
  { id: 'nyt', url: 'https://example.org/us.csv', urlKey: 'k-nyt', sha256: SHA_A, bytes: 10, etag: '"n1"' },
  { id: 'jhu', url: 'https://example.org/jhu.csv', urlKey: 'k-jhu', sha256: SHA_B, bytes: 20 },
];
const finalizer = () => new RunFinalizer({ ledger, events, logger: silentLogger(), clock, eventLeaseMs: LEASE_MS });

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  let ledgerTable: string;
  ({ ledger, ledgerTable } = await local.tables());
  geoLedger = new DynamoGeoLedger(local.doc, ledgerTable);
  events = new CapturingPublisher();
  clock = new TestClock(new Date('2026-11-25T06:10:00.000Z'));
});

/** A dispatched run of `months`, the ones in `loaded` loaded (with `rejectedIn` having a rejected row). */
async function dispatchedRun(months: string[], loaded: string[], rejectedIn: string[] = []) {
  await ledger.createRun(runItem({ runId: RUN, sources }));
  await ledger.recordDispatchPlan(RUN, {
    sources,
    months,
    hashes: Object.fromEntries(months.map((month) => [month, SHA_A])),
    skipped: { months: 1, records: 30 },
  });
  await ledger.markDispatched(RUN);
  for (const month of loaded) {
    await ledger.markChunkLoaded(RUN, month, {
      counts: { inserted: 10, updated: 2, unchanged: 1 },
      rejected: rejectedIn.includes(month) ? [{ source: 'jhu', line: 3, reason: 'Recovered is empty' }] : [],
      dateRange: { from: `${month}-01`, to: `${month}-13` },
    });
    await ledger.recordChunkLoaded(RUN, month);
  }
}

describe('RunFinalizer.finishIfComplete', () => {
  it('does nothing while a chunk is not loaded', async () => {
    // Prepare
    await dispatchedRun(['2020-03', '2020-04'], ['2020-03']);

    // Act
    const status = await finalizer().finishIfComplete(RUN);

    // Assess
    expect(status).toBeUndefined();
    expect((await ledger.getRun(RUN))?.status).toBe('RUNNING');
    expect(events.published).toEqual([]);
  });

  it('does nothing before the fetcher marked the dispatch complete', async () => {
    // Prepare
    await ledger.createRun(runItem({ runId: RUN }));
    await ledger.recordDispatchPlan(RUN, { sources, months: [], hashes: {}, skipped: { months: 0, records: 0 } });

    // Act
    const status = await finalizer().finishIfComplete(RUN);

    // Assess
    expect(status).toBeUndefined();
    expect(events.published).toEqual([]);
  });

  it('lets exactly one of several concurrent workers finish the run and publish', async () => {
    // Prepare
    await dispatchedRun(['2020-03', '2020-04'], ['2020-03', '2020-04']);
    const workers = Array.from({ length: 4 }, finalizer);

    // Act
    const results = await Promise.all(workers.map((worker) => worker.finishIfComplete(RUN)));

    // Assess
    expect(results.filter((status) => status === 'SUCCEEDED')).toHaveLength(1);
    expect(results.filter((status) => status === undefined)).toHaveLength(3);
    expect(events.published).toHaveLength(1);
    const [event] = events.published;
    expect(event?.detailType).toBe('EtlRunCompleted');
    expect(event?.detail).toMatchObject({
      version: 1,
      summary: {
        runId: RUN,
        status: 'SUCCEEDED',
        counts: { inserted: 20, updated: 4, unchanged: 32, rejected: 0 },
        chunks: { expected: 2, loaded: 2, skipped: 1 },
        dateRange: { from: '2020-03-01', to: '2020-04-13' },
      },
    });
    expect((await ledger.getRun(RUN))?.event?.state).toBe('PUBLISHED');
  });

  it('writes the source baselines on SUCCEEDED', async () => {
    // Prepare
    await dispatchedRun(['2020-03'], ['2020-03']);

    // Act
    await finalizer().finishIfComplete(RUN);

    // Assess
    expect(await ledger.getSourceBaseline('nyt', 'k-nyt')).toMatchObject({ etag: '"n1"', sha256: SHA_A, runId: RUN });
    expect(await ledger.getSourceBaseline('jhu', 'k-jhu')).toMatchObject({ sha256: SHA_B, runId: RUN });
  });

  it('ends PARTIAL when a chunk has rejected rows, and keeps the old baselines', async () => {
    // Prepare
    await dispatchedRun(['2020-03', '2020-04'], ['2020-03', '2020-04'], ['2020-04']);

    // Act
    const status = await finalizer().finishIfComplete(RUN);

    // Assess
    expect(status).toBe('PARTIAL');
    expect(events.published.map((event) => event.detailType)).toEqual(['EtlRunCompleted']);
    expect(events.published[0]?.detail).toMatchObject({ summary: { status: 'PARTIAL', counts: { rejected: 1 } } });
    expect(await ledger.listSourceBaselines()).toEqual([]);
  });
});

/** What the fetcher records for the states level: `rejected` rows of the states file, none of them sent. */
function statesPlan(rejected: number): GeoLevelPlan {
  return {
    source: 'states',
    chunks: 2,
    changedChunks: 1,
    parts: 1,
    days: 3,
    records: 165,
    skippedDays: 5,
    skippedRecords: 275,
    rejected,
  };
}

describe('RunFinalizer: rows rejected by the states and counties files', () => {
  it('ends PARTIAL, naming the level and file, when only the states file had rejected rows', async () => {
    // Prepare: the nation's months loaded cleanly; the states file had 2 rejected rows.
    const part = 'state/06/2020-04#01-03';
    await dispatchedRun(['2020-03', part], ['2020-03', part]);
    await geoLedger.recordGeoPlan(RUN, { state: statesPlan(2) });

    // Act
    const status = await finalizer().finishIfComplete(RUN);

    // Assess
    expect(status).toBe('PARTIAL');
    expect((await ledger.getRun(RUN))?.status).toBe('PARTIAL');
    const summary = (await ledger.getRun(RUN))?.summary;
    expect(summary?.rejections).toEqual([{ level: 'state', source: 'states', rows: 2 }]);
    expect(summary?.counts.rejected).toBe(2);
    expect(summary?.levels?.state).toMatchObject({ rejected: 2 });
    expect(summary?.levels?.nation).toMatchObject({ rejected: 0 });
    expect(events.published.map((event) => event.detailType)).toEqual(['EtlRunCompleted']);
    expect(events.published[0]?.detail).toMatchObject({ summary: { status: 'PARTIAL' } });
    expect(await ledger.listSourceBaselines()).toEqual([]);
  });

  it('counts the nation and the states apart when both rejected rows', async () => {
    // Prepare
    const part = 'state/06/2020-04#01-03';
    await dispatchedRun(['2020-03', part], ['2020-03', part], ['2020-03']);
    await geoLedger.recordGeoPlan(RUN, { state: statesPlan(3) });

    // Act
    await finalizer().finishIfComplete(RUN);

    // Assess
    const summary = (await ledger.getRun(RUN))?.summary;
    expect(summary?.status).toBe('PARTIAL');
    expect(summary?.rejections).toEqual([
      { level: 'nation', source: 'jhu', rows: 1 },
      { level: 'state', source: 'states', rows: 3 },
    ]);
    expect(summary?.counts.rejected).toBe(4);
  });

  it('ends a run with nothing to send PARTIAL when its counties file had rejected rows (the unchanged path)', async () => {
    // Prepare: nothing planned (every day unchanged), but 1 row of the rolling counties file rejected.
    await dispatchedRun([], []);
    await geoLedger.recordGeoPlan(RUN, { county: { ...statesPlan(1), source: 'counties-recent' } });
    const run = await ledger.getRun(RUN);

    // Act
    const status = await finalizer().complete(run as NonNullable<typeof run>);

    // Assess
    expect(status).toBe('PARTIAL');
    expect((await ledger.getRun(RUN))?.summary?.rejections).toEqual([
      { level: 'county', source: 'counties-recent', rows: 1 },
    ]);
  });

  it('never ends SUCCEEDED a run with rejected rows, even when a caller asks for SUCCEEDED', async () => {
    // Prepare
    await dispatchedRun([], []);
    await geoLedger.recordGeoPlan(RUN, { state: statesPlan(1) });
    const run = await ledger.getRun(RUN);

    // Act
    const won = await finalizer().finish(run as NonNullable<typeof run>, 'SUCCEEDED');

    // Assess
    expect(won).toBe(true);
    expect((await ledger.getRun(RUN))?.status).toBe('PARTIAL');
    expect(await ledger.listSourceBaselines()).toEqual([]);
  });

  it('lets the watchdog finish PARTIAL a stalled run whose chunks are all loaded and whose states had rejections', async () => {
    // Prepare: every chunk loaded, the run item never completed (a crash before the count).
    const part = 'state/06/2020-04#01-03';
    await dispatchedRun(['2020-03', part], ['2020-03', part]);
    await geoLedger.recordGeoPlan(RUN, { state: statesPlan(1) });
    const run = await ledger.getRun(RUN);

    // Act
    const status = await finalizer().finishIfAllLoaded(run as NonNullable<typeof run>, await ledger.listChunks(RUN));

    // Assess
    expect(status).toBe('PARTIAL');
  });

  it('still ends SUCCEEDED a run with states and no rejected row', async () => {
    // Prepare
    const part = 'state/06/2020-04#01-03';
    await dispatchedRun(['2020-03', part], ['2020-03', part]);
    await geoLedger.recordGeoPlan(RUN, { state: statesPlan(0) });

    // Act
    const status = await finalizer().finishIfComplete(RUN);

    // Assess
    expect(status).toBe('SUCCEEDED');
    expect((await ledger.getRun(RUN))?.summary?.rejections).toBeUndefined();
  });
});

describe('RunFinalizer.finishIfComplete after a re-plan', () => {
  it('waits for the chunks a new plan put back to SENT, even if their months were counted before', async () => {
    // Prepare: both months loaded and counted, then the fetcher re-plans the run (a retry).
    await dispatchedRun(['2020-03', '2020-04'], ['2020-03', '2020-04']);
    await ledger.recordDispatchPlan(RUN, {
      sources,
      months: ['2020-03', '2020-04'],
      hashes: { '2020-03': SHA_A, '2020-04': SHA_A },
      skipped: { months: 0, records: 0 },
    });

    // Act: stale counts of both months (old deliveries) land after the re-plan, before the
    // chunks are loaded again; then the new deliveries load them (already counted: they read the run).
    await ledger.recordChunkLoaded(RUN, '2020-03');
    const before = await finalizer().finishIfComplete(RUN, await ledger.recordChunkLoaded(RUN, '2020-04'));
    for (const month of ['2020-03', '2020-04']) {
      await ledger.markChunkLoaded(RUN, month, {
        counts: { inserted: 1, updated: 0, unchanged: 0 },
        rejected: [],
        dateRange: null,
      });
    }
    const recount = await ledger.recordChunkLoaded(RUN, '2020-04');
    const after = await finalizer().finishIfComplete(RUN, recount);

    // Assess
    expect(before).toBeUndefined();
    expect(recount).toBeUndefined();
    expect(after).toBe('SUCCEEDED');
    expect(events.published[0]?.detail).toMatchObject({ summary: { counts: { inserted: 2 } } });
  });

  it('reads the run once and no chunk while some planned month is not counted', async () => {
    // Prepare
    await dispatchedRun(['2020-03', '2020-04'], ['2020-03']);
    const counter = countRequests(local.doc);

    // Act
    const status = await finalizer().finishIfComplete(RUN);
    counter.stop();

    // Assess
    expect(status).toBeUndefined();
    expect(Object.values(counter.requests).map((byOperation) => byOperation)).toEqual([{ GetItem: 1 }]);
  });
});

describe('RunFinalizer.finish', () => {
  it('publishes EtlRunFailed with the reason for FAILED and writes no baseline', async () => {
    // Prepare
    await dispatchedRun(['2020-03'], []);
    const run = await ledger.getRun(RUN);

    // Act
    const won = await finalizer().finish(run as NonNullable<typeof run>, 'FAILED', {
      reason: 'nyt: HTTP 404',
      stage: 'fetch',
    });
    const again = await finalizer().finish(run as NonNullable<typeof run>, 'FAILED', { reason: 'again' });

    // Assess
    expect([won, again]).toEqual([true, false]);
    expect(events.published).toEqual([
      {
        detailType: 'EtlRunFailed',
        detail: expect.objectContaining({
          version: 1,
          reason: 'nyt: HTTP 404',
          summary: expect.objectContaining({
            status: 'FAILED',
            failure: { reason: 'nyt: HTTP 404', stage: 'fetch' },
            pendingChunks: [{ month: '2020-03', stage: 'transform' }],
          }),
        }),
      },
    ]);
    expect(await ledger.listSourceBaselines()).toEqual([]);
  });
});

describe('RunFinalizer.republishOrphanedEvent', () => {
  it('publishes again an event whose publisher died, once its lease ran out, and only once', async () => {
    // Prepare: the winner's PutEvents fails after the run is finished: the run is finished
    // all the same, and the caller is not failed.
    await dispatchedRun(['2020-03'], ['2020-03']);
    events.failNext = 1;
    await expect(finalizer().finishIfComplete(RUN)).resolves.toBe('SUCCEEDED');
    const orphaned = await ledger.getRun(RUN);

    // Act
    const duringLease = await finalizer().republishOrphanedEvent(orphaned as NonNullable<typeof orphaned>);
    const redelivered = await finalizer().finishIfComplete(RUN);
    clock.advance(LEASE_MS + 1);
    const afterLease = await Promise.all([
      finalizer().republishOrphanedEvent(orphaned as NonNullable<typeof orphaned>),
      finalizer().republishOrphanedEvent(orphaned as NonNullable<typeof orphaned>),
    ]);
    const published = await ledger.getRun(RUN);
    const later = await finalizer().republishOrphanedEvent(published as NonNullable<typeof published>);

    // Assess
    expect(orphaned?.status).toBe('SUCCEEDED');
    expect(orphaned?.event?.state).toBe('PUBLISHING');
    expect(duringLease).toBe(false);
    expect(redelivered).toBeUndefined();
    expect(afterLease.filter(Boolean)).toHaveLength(1);
    expect(later).toBe(false);
    expect(events.published).toHaveLength(1);
    expect(events.published[0]).toMatchObject({ detailType: 'EtlRunCompleted', detail: { summary: { runId: RUN } } });
    expect(published?.event?.state).toBe('PUBLISHED');
  });
});

describe('RunFinalizer: a bus that keeps failing', () => {
  it('finishes the run once and publishes its event on a later try, after every failed one', async () => {
    // Prepare
    await dispatchedRun(['2020-03'], ['2020-03']);
    events.failNext = 3;

    // Act: the loader finishes the run; two later retries fail too; the fourth try publishes.
    const finished = await finalizer().finishIfComplete(RUN);
    const tries: boolean[] = [];
    for (let i = 0; i < 3; i += 1) {
      clock.advance(LEASE_MS + 1);
      const run = await ledger.getRun(RUN);
      tries.push(await finalizer().republishOrphanedEvent(run as NonNullable<typeof run>));
    }

    // Assess
    expect(finished).toBe('SUCCEEDED');
    expect(tries).toEqual([false, false, true]);
    expect(events.published).toHaveLength(1);
    expect((await ledger.getRun(RUN))?.event?.state).toBe('PUBLISHED');
  });
});

describe('RunFinalizer.abandon', () => {
  it('closes an INCOMPLETE run as ABANDONED with one EtlRunFailed, and only once', async () => {
    // Prepare: a run the watchdog reported INCOMPLETE.
    await dispatchedRun(['2020-03', '2020-04'], ['2020-03']);
    const run = await ledger.getRun(RUN);
    await finalizer().finish(run as NonNullable<typeof run>, 'INCOMPLETE', { reason: 'stalled', stage: 'stalled' });
    events.published.length = 0;

    // Act
    const first = await finalizer().abandon(RUN, 'the source was withdrawn');
    const again = await finalizer().abandon(RUN, 'twice');
    await finalizer().finishIfComplete(RUN);

    // Assess
    expect(first.outcome).toBe('abandoned');
    expect(again.outcome).toBe('already');
    expect(await ledger.getRun(RUN)).toMatchObject({
      status: 'ABANDONED',
      failure: { reason: 'abandoned by an operator: the source was withdrawn', stage: 'abandoned' },
    });
    expect(events.published).toEqual([
      {
        detailType: 'EtlRunFailed',
        detail: expect.objectContaining({
          reason: 'abandoned by an operator: the source was withdrawn',
          summary: expect.objectContaining({ status: 'ABANDONED' }),
        }),
      },
    ]);
  });

  it('leaves a SUCCEEDED run alone and an unknown one unknown', async () => {
    // Prepare
    await dispatchedRun(['2020-03'], ['2020-03']);
    await finalizer().finishIfComplete(RUN);

    // Act
    const done = await finalizer().abandon(RUN, 'x');
    const unknown = await finalizer().abandon('m-20261125T060000Z-000000', 'x');

    // Assess
    expect(done.outcome).toBe('finished');
    expect(unknown.outcome).toBe('unknown');
    expect((await ledger.getRun(RUN))?.status).toBe('SUCCEEDED');
  });
});

describe('RunFinalizer reads only what a summary needs', () => {
  /** A `versions` port that counts its reads and has no revised day. */
  function countingVersions() {
    const calls: string[] = [];
    const changesOf = async (runId: string) => {
      calls.push(runId);
      return [];
    };
    return { calls, changesOf };
  }

  it('completes a run that sent nothing without listing its chunks, and puts its baselines in one request', async () => {
    // Prepare: sources unchanged, so the fetcher records an empty plan and marks the run dispatched in one write.
    await ledger.createRun(runItem({ runId: RUN, sources }));
    const run = await ledger.recordNothingToSend(RUN, sources, { dynamoWriteRequests: 2 });
    const versions = countingVersions();
    const counter = countRequests(local.doc);

    // Act
    const status = await new RunFinalizer({ ledger, events, logger: silentLogger(), clock, versions }).complete(run);
    counter.stop();

    // Assess
    expect(run).toMatchObject({ runId: RUN, dispatch: 'SENT', months: [], skipped: { months: 0, records: 0 } });
    expect(run.costs?.dynamoWriteRequests).toBe(2);
    expect(status).toBe('SUCCEEDED');
    expect(versions.calls).toEqual([]);
    // The status change, the baselines of both sources, the event's mark: no Query, no GetItem.
    expect(Object.values(counter.requests)).toEqual([{ UpdateItem: 2, BatchWriteItem: 1 }]);
    expect((await ledger.getSourceBaseline('jhu', 'k-jhu'))?.runId).toBe(RUN);
    expect(events.published[0]?.detail).toMatchObject({ summary: { status: 'SUCCEEDED', chunks: { expected: 0 } } });
  });

  it('reads the versions of a completed run only when it updated a day', async () => {
    // Prepare: two runs of one loaded month, one that inserted days only and one that also updated some.
    const finish = async (runId: string, updated: number) => {
      await ledger.createRun(runItem({ runId, sources }));
      await ledger.recordDispatchPlan(runId, {
        sources,
        months: ['2020-03'],
        hashes: { '2020-03': SHA_A },
        skipped: { months: 0, records: 0 },
      });
      await ledger.markDispatched(runId);
      await ledger.markChunkLoaded(runId, '2020-03', {
        counts: { inserted: 10, updated, unchanged: 0 },
        rejected: [],
        dateRange: { from: '2020-03-01', to: '2020-03-10' },
      });
      const versions = countingVersions();
      const finalizer = new RunFinalizer({ ledger, events, logger: silentLogger(), clock, versions });
      const status = await finalizer.finishIfComplete(runId, await ledger.recordChunkLoaded(runId, '2020-03'));
      return { status, reads: versions.calls };
    };

    // Act
    const inserted = await finish('s-20261125T060000Z', 0);
    const revised = await finish('s-20261126T060000Z', 3);

    // Assess
    expect(inserted).toEqual({ status: 'SUCCEEDED', reads: [] });
    expect(revised).toEqual({ status: 'SUCCEEDED', reads: ['s-20261126T060000Z'] });
  });
});
