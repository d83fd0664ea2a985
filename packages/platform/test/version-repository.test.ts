import { CapturingPublisher, type LocalTables, runItem, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  type DayVersion,
  type LedgerRepository,
  RunFinalizer,
  type SeriesRepository,
  silentLogger,
  summarizeRevisions,
} from '../src/index.js';

let local: LocalTables;
let series: SeriesRepository;
let ledger: LedgerRepository;

beforeAll(async () => {
  local = await startLocalTables();
});
afterAll(async () => {
  await local.close();
});
beforeEach(async () => {
  ({ series, ledger } = await local.tables());
});

const R1 = 's-20261124T060000Z';
const R2 = 's-20261125T060000Z';
const t1 = new Date('2026-11-24T06:01:00.000Z');
const t2 = new Date('2026-11-25T06:01:00.000Z');
const day = (date: string, cases: number) => ({ date, cases, deaths: Math.floor(cases / 100), recovered: 0 });

describe('versions of the data table', () => {
  it('writes the version of a day again identically: one item per change, whatever the retries', async () => {
    // Prepare
    const written = await series.write(day('2020-03-01', 100), undefined, { runId: R1, now: t1 });
    if (!written) throw new Error('not written');

    // Act
    await series.recordVersion(written);
    await series.recordVersion(written);
    const [stored] = await series.query();
    if (!stored) throw new Error('not stored');
    await series.recordVersion(stored);

    // Assess
    expect(await series.versions.history('2020-03-01')).toEqual([
      {
        date: '2020-03-01',
        runId: R1,
        at: t1.toISOString(),
        change: 'inserted',
        before: null,
        after: { cases: 100, deaths: 1, recovered: 0 },
      },
    ]);
  });

  it('keeps a removed day as a tombstone that reads of the series leave out', async () => {
    // Prepare
    const written = await series.write(day('2020-03-01', 100), undefined, { runId: R1, now: t1 });
    if (!written) throw new Error('not written');

    // Act
    const removed = await series.remove(written, { runId: R2, now: t2 });
    const again = await series.remove(written, { runId: R2, now: t2 });
    if (removed) await series.recordVersion(removed);

    // Assess
    expect(again).toBeUndefined();
    expect(await series.query()).toEqual([]);
    expect((await series.getMonth('2020-03')).get('2020-03-01')).toMatchObject({ removed: true, runId: R2 });
    expect(await series.versions.changesOf(R2)).toEqual([
      expect.objectContaining({
        change: 'deleted',
        before: { cases: 100, deaths: 1, recovered: 0, runId: R1 },
        after: null,
      }),
    ]);
  });
});

describe('summarizeRevisions', () => {
  const version = (date: string, before: [number, number, number], after: [number, number, number]): DayVersion => ({
    date,
    runId: R2,
    at: t2.toISOString(),
    change: 'updated',
    before: { cases: before[0], deaths: before[1], recovered: before[2], runId: R1 },
    after: { cases: after[0], deaths: after[1], recovered: after[2] },
  });

  it('counts the revised days, spans them and lists the 5 largest changes (inserts are not revisions)', () => {
    // Prepare
    const versions: DayVersion[] = [
      ...Array.from({ length: 8 }, (_, i) => version(`2020-04-0${i + 1}`, [100, 10, 0], [100 + i, 10, 0])),
      version('2020-04-16', [1_000_000, 34_621, 0], [1_000_001, 36_773, 0]),
      { ...version('2020-06-30', [0, 0, 0], [5, 5, 5]), change: 'inserted', before: null },
      version('2020-03-01', [1, 0, 0], [2, 0, 0]),
    ];

    // Act
    const summary = summarizeRevisions(versions);

    // Assess
    expect(summary).toEqual({
      days: 10,
      from: '2020-03-01',
      to: '2020-04-16',
      largest: [
        { date: '2020-04-16', field: 'deaths', before: 34_621, after: 36_773 },
        { date: '2020-04-08', field: 'cases', before: 100, after: 107 },
        { date: '2020-04-07', field: 'cases', before: 100, after: 106 },
        { date: '2020-04-06', field: 'cases', before: 100, after: 105 },
        { date: '2020-04-05', field: 'cases', before: 100, after: 104 },
      ],
    });
    expect(summarizeRevisions([])).toBeUndefined();
  });
});

describe('RunFinalizer with versions', () => {
  async function finish(versions: ConstructorParameters<typeof RunFinalizer>[0]['versions']) {
    await ledger.createRun(runItem({ runId: R2, dispatch: 'SENT' }));
    const finalizer = new RunFinalizer({ ledger, events: new CapturingPublisher(), logger: silentLogger(), versions });
    await finalizer.finishIfComplete(R2);
    return ledger.getRun(R2);
  }

  it("puts the run's revised days in its summary", async () => {
    // Prepare
    const stored = await series.write(day('2020-03-01', 100), undefined, { runId: R1, now: t1 });
    const updated = await series.write(day('2020-03-01', 150), stored, { runId: R2, now: t2 });
    if (updated) await series.recordVersion(updated);

    // Act
    const run = await finish(series.versions);

    // Assess
    expect(run?.summary?.revisions).toEqual({
      days: 1,
      from: '2020-03-01',
      to: '2020-03-01',
      largest: [{ date: '2020-03-01', field: 'cases', before: 100, after: 150 }],
    });
  });

  it('still finishes the run, without revised days, when the versions cannot be read', async () => {
    // Act
    const run = await finish({
      changesOf: async () => {
        throw new Error('The table does not have the specified index: versionsByRun');
      },
    });

    // Assess
    expect(run?.status).toBe('SUCCEEDED');
    expect(run?.summary?.revisions).toBeUndefined();
  });
});
