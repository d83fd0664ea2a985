import type { LoadChunkMessage, SeriesRecord } from '@covid-etl/contracts';
import { type LedgerRepository, RunFinalizer, type SeriesRepository, silentLogger } from '@covid-etl/platform';
import {
  CapturingPublisher,
  type LocalTables,
  runItem,
  startLocalTables,
  TestClock,
} from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { LoaderDeps } from '../src/app.js';
import { loadMonthChunk } from '../src/use-cases/load-chunk.js';

let local: LocalTables;
let ledger: LedgerRepository;
let series: SeriesRepository;
let clock: TestClock;

const R1 = 's-20261124T060000Z';
const R2 = 's-20261125T060000Z';
const REVERT = 'r-20261125T060000Z-abcdef';
const HASHES: Record<string, string> = { [R1]: '1'.repeat(64), [R2]: '2'.repeat(64), [REVERT]: '3'.repeat(64) };

beforeAll(async () => {
  local = await startLocalTables();
});
afterAll(async () => {
  await local.close();
});
beforeEach(async () => {
  ({ ledger, series } = await local.tables());
  clock = new TestClock();
});

function deps(overrides: Partial<LoaderDeps> = {}): LoaderDeps {
  const logger = silentLogger();
  return {
    ledger,
    series,
    finalizer: new RunFinalizer({ ledger, events: new CapturingPublisher(), logger, clock, versions: series.versions }),
    clock,
    logger,
    ...overrides,
  };
}

const day = (date: string, cases: number): SeriesRecord => ({ date, cases, deaths: cases / 10, recovered: 0 });

function message(runId: string, records: SeriesRecord[], extra: Partial<LoadChunkMessage> = {}): LoadChunkMessage {
  return {
    version: 1,
    runId,
    month: '2020-03',
    hash: HASHES[runId] ?? 'e'.repeat(64),
    records,
    rejected: [],
    ...extra,
  };
}

async function dispatchedRun(runId: string) {
  await ledger.createRun(runItem({ runId, startedAt: clock.now().toISOString() }));
  await ledger.recordDispatchPlan(runId, {
    sources: [],
    months: ['2020-03'],
    hashes: { '2020-03': 'f'.repeat(64) },
    skipped: { months: 0, records: 0 },
  });
  await ledger.markDispatched(runId);
}

/**
 * A series whose BatchWriteItem requests die (throw) after the first `ok` ones, until disarmed.
 * A day's items go day, version, day, version…, 25 to a request: with `ok` = 1, 13 days are
 * written and the 13th without its version.
 */
function dying(ok: number) {
  let calls = 0;
  let armed = true;
  const wrapped = Object.create(series) as SeriesRepository;
  const original = series.writeBatch.bind(series);
  wrapped.writeBatch = (...args) => {
    calls += 1;
    if (armed && calls > ok) return Promise.reject(new Error('Lambda died'));
    return original(...args);
  };
  return {
    series: wrapped,
    disarm: () => {
      armed = false;
    },
  };
}

/** Run 1 loads the 31 days of March; a minute later run 2 is dispatched: its chunk revises every day. */
async function marchRevisedByRun2(): Promise<LoadChunkMessage> {
  await dispatchedRun(R1);
  const first = Array.from({ length: 31 }, (_, i) => day(`2020-03-${String(i + 1).padStart(2, '0')}`, 100 + i));
  await loadMonthChunk(message(R1, first), deps());
  clock.advance(60_000);
  await dispatchedRun(R2);
  return message(
    R2,
    first.map((record) => ({ ...record, cases: record.cases + 1000 })),
  );
}

describe('version items written by the loader', () => {
  it('keeps one version per change: inserts have no before, updates the values they replaced', async () => {
    // Prepare
    await dispatchedRun(R1);
    await loadMonthChunk(message(R1, [day('2020-03-01', 10), day('2020-03-02', 20)]), deps());
    clock.advance(60_000);
    await dispatchedRun(R2);

    // Act: run 2 revises the 2nd only.
    await loadMonthChunk(message(R2, [day('2020-03-01', 10), day('2020-03-02', 25)]), deps());

    // Assess
    expect(await series.versions.history('2020-03-01')).toEqual([
      expect.objectContaining({
        runId: R1,
        change: 'inserted',
        before: null,
        after: { cases: 10, deaths: 1, recovered: 0 },
      }),
    ]);
    expect(await series.versions.history('2020-03-02')).toEqual([
      expect.objectContaining({ runId: R1, change: 'inserted', before: null }),
      expect.objectContaining({
        runId: R2,
        change: 'updated',
        before: { cases: 20, deaths: 2, recovered: 0, runId: R1 },
        after: { cases: 25, deaths: 2.5, recovered: 0 },
      }),
    ]);
    expect((await series.versions.changesOf(R2)).map((v) => v.date)).toEqual(['2020-03-02']);
    expect((await series.versions.changesOf(R1)).map((v) => v.date)).toEqual(['2020-03-01', '2020-03-02']);
    // The run's summary (event, email, Slack) names the day it revised.
    expect((await ledger.getRun(R2))?.summary?.revisions).toEqual({
      days: 1,
      from: '2020-03-02',
      to: '2020-03-02',
      largest: [{ date: '2020-03-02', field: 'cases', before: 20, after: 25 }],
    });
    expect((await ledger.getRun(R1))?.summary?.revisions).toBeUndefined();
  });

  it('writes the missing version, and only one, when the loader dies between a day and its version', async () => {
    // Prepare: the second request dies, so the 13th day is written without its version.
    await dispatchedRun(R1);
    const march = message(
      R1,
      Array.from({ length: 31 }, (_, i) => day(`2020-03-${String(i + 1).padStart(2, '0')}`, 100 + i)),
    );
    const crash = dying(1);

    // Act
    await expect(loadMonthChunk(march, deps({ series: crash.series }))).rejects.toThrow('Lambda died');
    const versionsAfterCrash = (await series.versions.changesOf(R1)).length;
    const daysAfterCrash = (await series.query()).length;
    crash.disarm();
    await loadMonthChunk(march, deps({ series: crash.series }));
    await loadMonthChunk(march, deps({ series: crash.series }));

    // Assess
    expect([daysAfterCrash, versionsAfterCrash]).toEqual([13, 12]);
    expect(await series.versions.changesOf(R1)).toHaveLength(31);
    for (let i = 1; i <= 31; i += 1) {
      expect(await series.versions.history(`2020-03-${String(i).padStart(2, '0')}`)).toHaveLength(1);
    }
    expect((await ledger.getChunk(R1, '2020-03'))?.counts).toEqual({ inserted: 31, updated: 0, unchanged: 0 });
  });

  it('never makes a second version when a revised chunk dies mid-way and is redelivered', async () => {
    // Prepare
    const revised = await marchRevisedByRun2();
    const crash = dying(1);

    // Act
    await expect(loadMonthChunk(revised, deps({ series: crash.series }))).rejects.toThrow('Lambda died');
    clock.advance(1000);
    crash.disarm();
    await loadMonthChunk(revised, deps({ series: crash.series }));
    await loadMonthChunk(revised, deps({ series: crash.series }));

    // Assess
    expect(await series.versions.changesOf(R2)).toHaveLength(31);
    for (const date of ['2020-03-01', '2020-03-13', '2020-03-31']) {
      expect((await series.versions.history(date)).map((v) => v.runId)).toEqual([R1, R2]);
    }
    expect((await ledger.getChunk(R2, '2020-03'))?.counts).toEqual({ inserted: 0, updated: 31, unchanged: 0 });
  });

  it('makes exactly one version per change when two deliveries of a chunk load it at the same time', async () => {
    // Prepare: run 2 revises run 1's month; two deliveries of its chunk, on workers whose clocks differ.
    const revised = await marchRevisedByRun2();
    const later = new TestClock(new Date(clock.now().getTime() + 1_000));

    // Act
    await Promise.all([loadMonthChunk(revised, deps()), loadMonthChunk(revised, deps({ clock: later }))]);

    // Assess
    expect(await series.versions.changesOf(R2)).toHaveLength(31);
    for (let i = 1; i <= 31; i += 1) {
      const history = await series.versions.history(`2020-03-${String(i).padStart(2, '0')}`);
      expect(history.map((v) => [v.runId, v.change])).toEqual([
        [R1, 'inserted'],
        [R2, 'updated'],
      ]);
    }
    expect((await ledger.getChunk(R2, '2020-03'))?.counts).toEqual({ inserted: 0, updated: 31, unchanged: 0 });
  });

  it('removes days of a revert as tombstones with a version, counted as deleted once', async () => {
    // Prepare
    await dispatchedRun(R1);
    await loadMonthChunk(message(R1, [day('2020-03-01', 10), day('2020-03-02', 20)]), deps());
    clock.advance(60_000);
    await dispatchedRun(REVERT);
    const revert = message(REVERT, [], { removed: ['2020-03-02'] });

    // Act: delivered twice.
    await loadMonthChunk(revert, deps());
    await loadMonthChunk(revert, deps());

    // Assess
    expect((await series.query()).map((record) => record.date)).toEqual(['2020-03-01']);
    expect(await series.versions.history('2020-03-02')).toEqual([
      expect.objectContaining({ runId: R1, change: 'inserted' }),
      expect.objectContaining({
        runId: REVERT,
        change: 'deleted',
        before: { cases: 20, deaths: 2, recovered: 0, runId: R1 },
        after: null,
      }),
    ]);
    expect((await ledger.getChunk(REVERT, '2020-03'))?.counts).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 0,
      deleted: 1,
    });
    expect((await ledger.getRun(REVERT))?.summary?.counts).toMatchObject({ deleted: 1 });
  });

  it('inserts a day again after its removal, as an insert', async () => {
    // Prepare
    await dispatchedRun(R1);
    await loadMonthChunk(message(R1, [day('2020-03-02', 20)]), deps());
    clock.advance(60_000);
    await dispatchedRun(REVERT);
    await loadMonthChunk(message(REVERT, [], { removed: ['2020-03-02'] }), deps());
    clock.advance(60_000);
    await dispatchedRun(R2);

    // Act
    await loadMonthChunk(message(R2, [day('2020-03-02', 20)]), deps());

    // Assess
    expect(await series.query()).toEqual([expect.objectContaining({ date: '2020-03-02', cases: 20, runId: R2 })]);
    expect((await ledger.getChunk(R2, '2020-03'))?.counts).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    expect((await series.versions.history('2020-03-02')).map((v) => v.change)).toEqual([
      'inserted',
      'deleted',
      'inserted',
    ]);
  });
});
