import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CapturingPublisher, collect, type LocalTables, runItem, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  type DayVersion,
  dayRemoved,
  dayWritten,
  GeoSeriesStore,
  type GeoStoredDay,
  type LedgerRepository,
  planRevert,
  type RevertPlanProgress,
  RunFinalizer,
  SeriesRepository,
  silentLogger,
  summarizeRevisions,
  VERSIONS_BY_RUN_INDEX,
} from '../src/index.js';

let local: LocalTables;
let series: SeriesRepository;
let ledger: LedgerRepository;
let dataTable: string;

beforeAll(async () => {
  local = await startLocalTables();
});
afterAll(async () => {
  await local.close();
});
beforeEach(async () => {
  ({ series, ledger, dataTable } = await local.tables());
});

const R1 = 's-20261124T060000Z';
const R2 = 's-20261125T060000Z';
const t1 = new Date('2026-11-24T06:01:00.000Z');
const t2 = new Date('2026-11-25T06:01:00.000Z');
const day = (date: string, cases: number) => ({ date, cases, deaths: Math.floor(cases / 100), recovered: 0 });

const meta = (runId: string, now: Date) => ({ runId, runStartedAt: now.toISOString(), now });

describe('versions of the data table', () => {
  it('keys a version by its day and run: writing a change again, at another time, makes no second one', async () => {
    // Prepare
    const first = dayWritten(day('2020-03-01', 100), undefined, meta(R1, t1));
    const later = dayWritten(day('2020-03-01', 100), undefined, { ...meta(R1, t1), now: t2 });

    // Act: the same change written by two deliveries, then its version again from the stored day.
    await series.writeChanges([first]);
    await series.writeChanges([later]);
    const stored = (await series.getMonth('2020-03')).get('2020-03-01');
    if (!stored) throw new Error('not stored');
    await series.writeChanges([], [stored]);

    // Assess
    expect(await series.versions.history('2020-03-01')).toEqual([
      {
        date: '2020-03-01',
        runId: R1,
        at: t2.toISOString(),
        change: 'inserted',
        before: null,
        after: { cases: 100, deaths: 1, recovered: 0 },
      },
    ]);
  });

  it('still reads versions stored before their key was the run start time (keyed by updatedAt)', async () => {
    // Prepare: a day and its version as the previous loader wrote them (no runStartedAt).
    const { dataTable } = await local.tables();
    const old = new SeriesRepository(local.doc, dataTable);
    const item = {
      ...day('2020-03-01', 100),
      runId: R1,
      change: 'inserted',
      updatedAt: t1.toISOString(),
      before: null,
    };
    await local.doc.send(new PutCommand({ TableName: dataTable, Item: { pk: 'US', sk: '2020-03-01', ...item } }));
    await local.doc.send(
      new PutCommand({
        TableName: dataTable,
        Item: {
          pk: 'DAY#2020-03-01',
          sk: `${t1.toISOString()}#${R1}`,
          vrun: R1,
          vdate: '2020-03-01',
          date: '2020-03-01',
          runId: R1,
          at: t1.toISOString(),
          change: 'inserted',
          before: null,
          after: { cases: 100, deaths: 1, recovered: 0 },
        },
      }),
    );
    const stored = (await old.getMonth('2020-03')).get('2020-03-01');
    if (!stored) throw new Error('not stored');

    // Act: a newer run updates it; the old change's version is written again from its day.
    await old.writeChanges([dayWritten(day('2020-03-01', 150), stored, meta(R2, t2))], [stored]);

    // Assess
    expect((await old.versions.history('2020-03-01')).map((v) => [v.runId, v.change, v.after?.cases])).toEqual([
      [R1, 'inserted', 100],
      [R2, 'updated', 150],
    ]);
  });

  it("reads a day's history in the order of its changes, even when an earlier-started run changed it later", async () => {
    // Prepare: run 2 (started at t2) changes the day, then run 1 (started before, at t1: a
    // chunk replayed from its DLQ) changes it after that.
    const byRun2 = dayWritten(day('2020-03-01', 100), undefined, {
      runId: R2,
      runStartedAt: t2.toISOString(),
      now: t2,
    });
    const later = new Date(t2.getTime() + 60_000);

    // Act
    await series.writeChanges([byRun2]);
    await series.writeChanges([
      dayWritten(day('2020-03-01', 150), byRun2, { runId: R1, runStartedAt: t1.toISOString(), now: later }),
    ]);

    // Assess
    expect((await series.versions.history('2020-03-01')).map((v) => [v.runId, v.before?.runId ?? null])).toEqual([
      [R2, null],
      [R1, R2],
    ]);
  });

  it('keeps a removed day as a tombstone that reads of the series leave out', async () => {
    // Prepare
    const written = dayWritten(day('2020-03-01', 100), undefined, meta(R1, t1));
    await series.writeChanges([written]);

    // Act
    await series.writeChanges([dayRemoved(written, meta(R2, t2))]);

    // Assess
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
  /** Finishes R2, a run of one month whose chunk counted the day it revised (as the loader does). */
  async function finish(versions: ConstructorParameters<typeof RunFinalizer>[0]['versions']) {
    await ledger.createRun(runItem({ runId: R2 }));
    await ledger.recordDispatchPlan(R2, {
      sources: [],
      months: ['2020-03'],
      hashes: { '2020-03': 'h' },
      skipped: { months: 0, records: 0 },
    });
    await ledger.markDispatched(R2);
    await ledger.markChunkLoaded(R2, '2020-03', {
      counts: { inserted: 0, updated: 1, unchanged: 0 },
      rejected: [],
      dateRange: { from: '2020-03-01', to: '2020-03-01' },
    });
    const finalizer = new RunFinalizer({ ledger, events: new CapturingPublisher(), logger: silentLogger(), versions });
    await finalizer.finishIfComplete(R2, await ledger.recordChunkLoaded(R2, '2020-03'));
    return ledger.getRun(R2);
  }

  it("puts the run's revised days in its summary", async () => {
    // Prepare
    const stored = dayWritten(day('2020-03-01', 100), undefined, meta(R1, t1));
    await series.writeChanges([stored]);
    await series.writeChanges([dayWritten(day('2020-03-01', 150), stored, meta(R2, t2))]);

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
    let asked = 0;
    const run = await finish({
      changesOf: async () => {
        asked += 1;
        throw new Error('The table does not have the specified index: versionsByRun');
      },
    });

    // Assess
    expect(asked).toBe(1);
    expect(run?.status).toBe('SUCCEEDED');
    expect(run?.summary?.revisions).toBeUndefined();
  });
});

describe('versions of one series among the geographies', () => {
  const county = (
    geo: string,
    date: string,
    cases: number,
    before: GeoStoredDay['before'],
    runId = R2,
    at = t2,
  ): GeoStoredDay => ({
    geo,
    date,
    cases,
    deaths: null,
    runId,
    change: before ? 'updated' : 'inserted',
    updatedAt: at.toISOString(),
    before,
  });

  it("gives the nation's diff and time travel only the nation's days of a run that also loaded counties", async () => {
    // Prepare: run R2 changes one nation day and two days of Harris County (48201), whose
    // versions share the versionsByRun index (vdate `<date>#48201`).
    await series.writeChanges([dayWritten(day('2020-04-01', 100), undefined, meta(R2, t2))]);
    await new GeoSeriesStore(local.doc, dataTable).writeChanges([
      county('48201', '2020-04-01', 7, null),
      county('48201', '2020-04-02', 9, { cases: 8, deaths: null, runId: R1 }),
    ]);

    // Act
    const changes = await series.versions.changesOf(R2);
    const geoChanges = await series.versions.geoChangesOf(R2);

    // Assess
    expect(changes.map((c) => c.date)).toEqual(['2020-04-01']);
    expect(changes[0]?.after).toEqual({ cases: 100, deaths: 1, recovered: 0 });
    expect(geoChanges).toEqual([
      {
        geo: '48201',
        date: '2020-04-01',
        runId: R2,
        change: 'inserted',
        before: null,
        after: { cases: 7, deaths: null },
      },
      {
        geo: '48201',
        date: '2020-04-02',
        runId: R2,
        change: 'updated',
        before: { cases: 8, deaths: null, runId: R1 },
        after: { cases: 9, deaths: null },
      },
    ]);
  });

  it("keys the counties' versions apart on the index: the nation's Query of a run reads none of them (a county backfill has ~3.6 M)", async () => {
    // Prepare: R2 changes one nation day and 300 county days; one more county version as written
    // before the key existed (vrun = the bare run id).
    await series.writeChanges([dayWritten(day('2020-04-01', 100), undefined, meta(R2, t2))]);
    const dates = Array.from({ length: 300 }, (_, i) =>
      new Date(Date.UTC(2020, 3, 1) + i * 86_400_000).toISOString().slice(0, 10),
    );
    await new GeoSeriesStore(local.doc, dataTable).writeChanges(dates.map((date) => county('48201', date, 7, null)));
    await local.doc.send(
      new PutCommand({
        TableName: dataTable,
        Item: {
          pk: 'DAY#48113#2020-04-01',
          sk: `${t2.toISOString()}#${R2}`,
          vrun: R2,
          vdate: '2020-04-01#48113',
          geo: '48113',
          date: '2020-04-01',
          cases: 5,
          runId: R2,
          change: 'inserted',
          updatedAt: t2.toISOString(),
          before: null,
        },
      }),
    );

    // Act: the index partition the nation's changes are read from, and both readers.
    const nationPartition = await local.doc.send(
      new QueryCommand({
        TableName: dataTable,
        IndexName: VERSIONS_BY_RUN_INDEX,
        KeyConditionExpression: 'vrun = :run',
        ExpressionAttributeValues: { ':run': R2 },
      }),
    );
    const changes = await series.versions.changesOf(R2);
    const geoChanges = await series.versions.geoChangesOf(R2);

    // Assess: the nation's partition holds its day and the one legacy county version only.
    expect((nationPartition.Items ?? []).map((item) => item.vdate).sort()).toEqual(['2020-04-01', '2020-04-01#48113']);
    expect(changes.map((c) => c.date)).toEqual(['2020-04-01']);
    expect(geoChanges).toHaveLength(301);
    // A month's slice holds that month's days only, the legacy one included; the months add up.
    const april = await series.versions.geoChangesOfMonth(R2, '2020-04');
    expect(april.map((c) => `${c.geo} ${c.date}`).sort()).toEqual(
      ['48113 2020-04-01', ...dates.slice(0, 30).map((date) => `48201 ${date}`)].sort(),
    );
    const months = [...new Set(dates.map((date) => date.slice(0, 7)))];
    const perMonth = await Promise.all(months.map((month) => series.versions.geoChangesOfMonth(R2, month)));
    expect(perMonth.reduce((sum, slice) => sum + slice.length, 0)).toBe(301);
    expect(geoChanges.filter((c) => c.geo === '48113')).toEqual([
      expect.objectContaining({
        geo: '48113',
        date: '2020-04-01',
        change: 'inserted',
        after: { cases: 5, deaths: null },
      }),
    ]);
  });

  it('plans the states and counties a run changed as loader parts per (level, state, month): values before, days to remove', async () => {
    // Prepare: R2 changed one nation day, two Harris County days (one inserted, one updated,
    // in April), one in May, and one day of Texas (the state, updated; deaths reported).
    const geo = new GeoSeriesStore(local.doc, dataTable);
    await series.writeChanges([dayWritten(day('2020-04-01', 100), undefined, meta(R2, t2))]);
    await geo.writeChanges([
      county('48201', '2020-04-01', 7, null),
      county('48201', '2020-04-02', 9, { cases: 8, deaths: null, runId: R1 }),
      county('48201', '2020-05-01', 20, { cases: 19, deaths: null, runId: R1 }),
      { ...county('48', '2020-04-02', 900, { cases: 800, deaths: 10, runId: R1 }), deaths: 12 },
    ]);
    await ledger.createRun(runItem({ runId: R2, status: 'SUCCEEDED', startedAt: t2.toISOString() }));

    // Act
    const plan = await planRevert({ ledger, series, geoSeries: geo }, R2);

    // Assess: one part per (level, state, month), the revert's run id, no conflict.
    expect(plan.chunks).toEqual([expect.objectContaining({ month: '2020-04', records: [], removed: ['2020-04-01'] })]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.levels).toEqual({
      nation: { restored: 0, removed: 1 },
      state: { restored: 1, removed: 0 },
      county: { restored: 2, removed: 1 },
    });
    expect(plan.geoChangeCount).toBe(4);
    const parts = await collect(plan.geoPartMessages());
    expect(parts.map((part) => [part.part, part.runId, part.level])).toEqual([
      ['county/48/2020-04#01-02', plan.revertRunId, 'county'],
      ['state/48/2020-04#02-02', plan.revertRunId, 'state'],
      ['county/48/2020-05#01-01', plan.revertRunId, 'county'],
    ]);
    // The keys and hashes are those of the parts, in their order; a second reading gives the same parts.
    expect(plan.geoPartKeys).toEqual(parts.map((part) => ({ part: part.part, hash: part.hash })));
    expect(await collect(plan.geoPartMessages())).toEqual(parts);
    const [april, state, may] = parts;
    expect(april?.records).toEqual([{ geo: '48201', date: '2020-04-02', cases: 8, deaths: null, line: 1 }]);
    expect(april?.removed).toEqual([{ geo: '48201', date: '2020-04-01' }]);
    // Only the dates that keep a day get a hash; it is the revert's own, never the file's.
    expect(april?.days.map((d) => d.date)).toEqual(['2020-04-02']);
    expect(april?.baseline).toBe(true);
    expect(may?.records).toEqual([{ geo: '48201', date: '2020-05-01', cases: 19, deaths: null, line: 1 }]);
    expect(state?.records).toEqual([{ geo: '48', date: '2020-04-02', cases: 800, deaths: 10, line: 1 }]);
    const hashes = parts.flatMap((part) => part.days.map((d) => d.hash));
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it("reads a run's state and county versions a page, then a month, at a time: never all of them at once", async () => {
    // Prepare: R2 changed Harris County over three months.
    const geo = new GeoSeriesStore(local.doc, dataTable);
    const dates = Array.from({ length: 75 }, (_, i) =>
      new Date(Date.UTC(2020, 3, 1) + i * 86_400_000).toISOString().slice(0, 10),
    );
    await geo.writeChanges(dates.map((date) => county('48201', date, 7, null)));
    await ledger.createRun(runItem({ runId: R2, status: 'SUCCEEDED', startedAt: t2.toISOString() }));
    const versions = series.versions;
    const readAll = jest.spyOn(versions, 'geoChangesOf');
    const monthReads: number[] = [];
    const byMonth = versions.geoChangesOfMonth.bind(versions);
    const readMonth = jest.spyOn(versions, 'geoChangesOfMonth').mockImplementation(async (runId, month) => {
      const slice = await byMonth(runId, month);
      monthReads.push(slice.length);
      return slice;
    });

    // Act
    const progress: RevertPlanProgress[] = [];
    const plan = await planRevert({ ledger, series, geoSeries: geo }, R2, { onProgress: (p) => progress.push(p) });
    const parts = await collect(plan.geoPartMessages());

    // Assess: one read per month to plan and one to send; the largest holds one month. Progress
    // says the days read, then the months cut.
    expect(progress.at(0)).toEqual({ phase: 'read', days: 75 });
    expect(progress.slice(-3)).toEqual([
      { phase: 'cut', months: 1, of: 3 },
      { phase: 'cut', months: 2, of: 3 },
      { phase: 'cut', months: 3, of: 3 },
    ]);
    expect(readAll).not.toHaveBeenCalled();
    expect(monthReads).toEqual([30, 31, 14, 30, 31, 14]);
    expect(plan.geoChangeCount).toBe(75);
    expect(parts.flatMap((part) => part.removed ?? [])).toHaveLength(75);
    readAll.mockRestore();
    readMonth.mockRestore();
  });

  it("refuses to send a revert's parts when the run's versions changed since the plan", async () => {
    // Prepare: a plan of R2's Harris County day, then a version of R2 in another month appears.
    const geo = new GeoSeriesStore(local.doc, dataTable);
    await geo.writeChanges([county('48201', '2020-04-01', 7, null)]);
    await ledger.createRun(runItem({ runId: R2, status: 'SUCCEEDED', startedAt: t2.toISOString() }));
    const plan = await planRevert({ ledger, series, geoSeries: geo }, R2);
    await geo.writeChanges([county('48201', '2020-04-02', 8, null)]);

    // Act + Assess
    await expect(collect(plan.geoPartMessages())).rejects.toThrow(
      `Run ${R2}'s versions changed while it was being reverted (part county/48/2020-04#01-02): run etl revert again`,
    );
  });

  it('reports a state or county day a later run changed as a conflict, as for the nation', async () => {
    // Prepare: R2 updated a Harris County day, then R3 changed it again.
    const R3 = 's-20261126T060000Z';
    const t3 = new Date('2026-11-26T06:01:00.000Z');
    const geo = new GeoSeriesStore(local.doc, dataTable);
    await geo.writeChanges([county('48201', '2020-04-02', 9, { cases: 8, deaths: null, runId: R1 })]);
    await geo.writeChanges([county('48201', '2020-04-02', 10, { cases: 9, deaths: null, runId: R2 }, R3, t3)]);
    await ledger.createRun(runItem({ runId: R2, status: 'SUCCEEDED', startedAt: t2.toISOString() }));

    // Act
    const plan = await planRevert({ ledger, series, geoSeries: geo }, R2);

    // Assess
    expect(plan.conflicts).toEqual([{ geo: '48201', date: '2020-04-02', runId: R3 }]);
  });
});
