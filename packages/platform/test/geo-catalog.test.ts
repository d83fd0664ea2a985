import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { isGeoId, versionPartitionKey } from '@covid-etl/contracts';
import { countRequests, type LocalTables, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  countiesPartitionKey,
  GEOS_PARTITION,
  GeoCatalogRepository,
  type GeoDayOf,
  GeoSeriesReader,
} from '../src/index.js';

let local: LocalTables;
let catalog: GeoCatalogRepository;
let reader: GeoSeriesReader;
let dataTable: string;

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  ({ dataTable } = await local.tables());
  catalog = new GeoCatalogRepository(local.doc, dataTable);
  reader = new GeoSeriesReader(local.doc, dataTable);
});

const date = (i: number) => new Date(Date.UTC(2021, 2, 1 + i)).toISOString().slice(0, 10);
/** A county growing by `step` cases and `step / 10` deaths a day from day 0. */
const county = (geo: string, step: number, from: number, to: number): GeoDayOf[] =>
  Array.from({ length: to - from + 1 }, (_, k) => {
    const i = from + k;
    return { geo, date: date(i), cases: 100 + step * i, deaths: Math.floor((step * i) / 10) };
  });
const TEXAS = Array.from({ length: 30 }, (_, i) => `48${String(2 * i + 1).padStart(3, '0')}`);

/** The 7-day average of new values on the last of `days` (all consecutive), computed independently. */
const average = (days: number[]) => {
  const daily = days.slice(1).map((value, i) => value - (days[i] as number));
  const last7 = daily.slice(-7);
  return Math.round((last7.reduce((a, b) => a + b, 0) / 7) * 10) / 10;
};

/** Stores day items as the loader writes them (pk = geo id, sk = date; deaths absent when not reported). */
async function storeDays(days: readonly GeoDayOf[]): Promise<void> {
  for (const day of days) {
    await local.doc.send(
      new PutCommand({
        TableName: dataTable,
        Item: {
          pk: day.geo,
          sk: day.date,
          cases: day.cases,
          ...(day.deaths === null ? {} : { deaths: day.deaths }),
          runId: 'r',
        },
      }),
    );
  }
}

describe('partition keys', () => {
  it('cannot collide with a geography id or a version partition', () => {
    // Act
    const keys = [GEOS_PARTITION, countiesPartitionKey('48'), countiesPartitionKey('02')];

    // Assess
    expect(keys).toEqual(['GEOS', 'COUNTIES#48', 'COUNTIES#02']);
    expect(keys.map(isGeoId)).toEqual([false, false, false]);
    expect(keys.some((key) => key.startsWith('DAY#'))).toBe(false);
    expect(versionPartitionKey('48201', '2021-03-01').startsWith('COUNTIES')).toBe(false);
    expect(() => countiesPartitionKey('48201')).toThrow('"48201" is not a state FIPS code such as 48');
  });
});

describe('GeoCatalogRepository.applyLoaded', () => {
  it('builds the catalogue and the county summaries of a backfill from the records in hand alone', async () => {
    // Prepare
    const records = [
      ...TEXAS.flatMap((geo, i) => county(geo, i + 1, 0, 9)),
      { geo: '48', date: date(9), cases: 5000, deaths: 50 },
      ...county('48-unknown', 2, 5, 9),
    ];

    // Act
    const counts = await catalog.applyLoaded({ records, names: new Map([['48001', 'Anderson']]) });

    // Assess
    expect(counts).toEqual({ partitionQueries: 2, seriesQueries: 1, itemsWritten: 63, batchRequests: 3 });
    const geos = await catalog.listGeos();
    expect(geos.map((geo) => geo.id)).toEqual(['48', '48-unknown', ...TEXAS]);
    expect(geos[2]).toEqual({
      id: '48001',
      name: 'Anderson',
      level: 'county',
      state: '48',
      firstDate: '2021-03-01',
      lastDate: '2021-03-10',
      cases: 109,
      deaths: 0,
    });
    expect(geos[0]).toMatchObject({ name: 'Texas', level: 'state', cases: 5000, deaths: 50 });
    expect(geos[1]).toMatchObject({ name: 'Unknown, Texas', firstDate: '2021-03-06' });
    const summaries = await catalog.listCounties('48');
    const harris = summaries.find((summary) => summary.id === TEXAS[29]);
    const cases = county(TEXAS[29] as string, 30, 2, 9);
    expect(harris).toMatchObject({
      date: '2021-03-10',
      cases: 370,
      deaths: 27,
      newCases7d: average(cases.map((day) => day.cases)),
      newDeaths7d: average(cases.map((day) => day.deaths as number)),
    });
    // The Unknown county started within the last 8 days: no 7-day average yet.
    expect(summaries.find((summary) => summary.id === '48-unknown')).toMatchObject({ newCases7d: null });
  });

  it('adds a daily day to every county without a Query per county, and a redelivery writes nothing', async () => {
    // Prepare
    await catalog.applyLoaded({ records: TEXAS.flatMap((geo, i) => county(geo, i + 1, 0, 9)) });
    const daily = TEXAS.map((geo, i) => ({ geo, date: date(10), cases: 100 + (i + 1) * 10 + 1_000, deaths: 99 }));

    // Act
    const first = await catalog.applyLoaded({ records: daily });
    const again = await catalog.applyLoaded({ records: daily });

    // Assess
    expect(first).toEqual({ partitionQueries: 2, seriesQueries: 0, itemsWritten: 60, batchRequests: 3 });
    expect(again).toEqual({ partitionQueries: 2, seriesQueries: 0, itemsWritten: 0, batchRequests: 0 });
    const summary = (await catalog.listCounties('48')).find((s) => s.id === TEXAS[0]);
    const cases = [...county(TEXAS[0] as string, 1, 3, 9).map((day) => day.cases), 1_110];
    expect(summary).toMatchObject({ date: '2021-03-11', cases: 1_110, newCases7d: average(cases) });
    expect(summary?.window.map((day) => day.date)).toEqual([3, 4, 5, 6, 7, 8, 9, 10].map(date));
  });

  it("reads only a state's own catalogue item for the state's days, not those of its counties", async () => {
    // Prepare: 30 Texas counties in the catalogue.
    await catalog.applyLoaded({ records: TEXAS.flatMap((geo, i) => county(geo, i + 1, 0, 9)) });
    const texas = [
      { geo: '48', date: date(9), cases: 9_000, deaths: 90 },
      { geo: '48', date: date(10), cases: 10_000, deaths: 100 },
    ];
    const counter = countRequests(local.doc);

    // Act: the state's days, then one more (its item now there).
    const first = await catalog.applyLoaded({ records: texas.slice(0, 1) });
    const second = await catalog.applyLoaded({ records: texas.slice(1) });
    counter.stop();

    // Assess: one Query each, returning nothing and then the state's item alone.
    expect([first.partitionQueries, second.partitionQueries]).toEqual([1, 1]);
    expect(counter.itemsRead[dataTable]).toBe(1);
    const geos = await catalog.listGeos();
    expect(geos.filter((geo) => geo.level === 'county')).toHaveLength(30);
    expect(geos.find((geo) => geo.id === '48')).toMatchObject({
      firstDate: date(9),
      lastDate: date(10),
      cases: 10_000,
      deaths: 100,
    });
  });

  it('reads a county series (8 days) only when the records, the known days and the window miss a day', async () => {
    // Prepare: the table holds 10 days, the summary does not exist yet, the part brings the last day only.
    const stored = county('06037', 50, 0, 9);
    await storeDays(stored);
    const last = stored.at(-1) as GeoDayOf;

    // Act
    const queried = await catalog.applyLoaded({ records: [last] });
    const known = await catalog.applyLoaded({ records: county('06001', 5, 9, 9), known: county('06001', 5, 2, 8) });

    // Assess
    expect(queried.seriesQueries).toBe(1);
    expect(known.seriesQueries).toBe(0);
    const summaries = await catalog.listCounties('06');
    expect(summaries.map((s) => [s.id, s.newCases7d])).toEqual([
      ['06001', 5],
      ['06037', 50],
    ]);
  });

  it('follows a revert: a county whose last days were removed gets its earlier latest values, one left empty leaves', async () => {
    // Prepare: two counties of Los Angeles' state loaded for 12 days; then a revert removes
    // 06037's last 3 days (tombstones) and every day of 06001.
    const la = county('06037', 50, 0, 11);
    const alameda = county('06001', 5, 0, 11);
    await storeDays([...la, ...alameda]);
    await catalog.applyLoaded({ records: [...la, ...alameda] });
    const removed = [...la.slice(9), ...alameda].map(({ geo, date }) => ({ geo, date }));
    for (const day of removed) {
      await local.doc.send(
        new PutCommand({
          TableName: dataTable,
          Item: { pk: day.geo, sk: day.date, cases: 1, runId: 'r2', change: 'deleted', removed: true },
        }),
      );
    }

    // Act
    await catalog.applyLoaded({ records: [], removed });

    // Assess: the catalogue and the county table hold 06037 as of its day 8, and no 06001.
    const entry = await catalog.getGeo('06037');
    expect(entry).toMatchObject({ lastDate: date(8), cases: 100 + 50 * 8, firstDate: date(0) });
    expect(await catalog.getGeo('06001')).toBeUndefined();
    const summaries = await catalog.listCounties('06');
    expect(summaries.map((s) => [s.id, s.date, s.cases, s.newCases7d])).toEqual([['06037', date(8), 500, 50]]);
  });

  it('keeps unreported deaths unreported, and leaves the summary alone for a revision older than its window', async () => {
    // Prepare
    const municipio = county('72001', 3, 0, 9).map((day) => ({ ...day, deaths: null }));
    await catalog.applyLoaded({ records: municipio });

    // Act
    const revised = await catalog.applyLoaded({
      records: [{ geo: '72001', date: '2021-02-20', cases: 1, deaths: null }],
    });

    // Assess
    expect(revised).toEqual({ partitionQueries: 2, seriesQueries: 0, itemsWritten: 1, batchRequests: 1 });
    expect(await catalog.getGeo('72001')).toMatchObject({
      firstDate: '2021-02-20',
      lastDate: '2021-03-10',
      deaths: null,
    });
    expect((await catalog.listCounties('72'))[0]).toMatchObject({
      cases: 127,
      deaths: null,
      newCases7d: 3,
      newDeaths7d: null,
    });
    expect(await catalog.getGeo('72003')).toBeUndefined();
  });

  it('lists the nation (no state) and a state, in key order', async () => {
    // Act
    await catalog.applyLoaded({
      records: [
        { geo: '06', date: date(0), cases: 10, deaths: 1 },
        { geo: 'US', date: date(0), cases: 100, deaths: 5, recovered: 7 },
      ],
    });

    // Assess
    expect((await catalog.listGeos()).map((geo) => [geo.id, geo.name, geo.state])).toEqual([
      ['06', 'California', '06'],
      ['US', 'United States', null],
    ]);
  });
});

describe('GeoCatalogRepository.loadedDatesByState', () => {
  it("gives each state's first and last loaded dates of one level: the state's own, or the span of its counties and special areas", async () => {
    // Prepare: Texas loaded days 1..5 as a state; its counties days 2..3 and 0..7 (Unknown 4..9);
    // California's county days 0..2; the nation days 0..20.
    await catalog.applyLoaded({
      records: [
        ...county('48', 1, 1, 5),
        ...county('48001', 1, 2, 3),
        ...county('48003', 1, 0, 7),
        ...county('48-unknown', 1, 4, 9),
        ...county('06037', 1, 0, 2),
        ...county('US', 1, 0, 20),
      ],
    });

    // Act
    const states = await catalog.loadedDatesByState('state');
    const counties = await catalog.loadedDatesByState('county');

    // Assess
    expect([...states]).toEqual([['48', { first: date(1), last: date(5) }]]);
    expect([...counties].sort()).toEqual([
      ['06', { first: date(0), last: date(2) }],
      ['48', { first: date(0), last: date(9) }],
    ]);
  });
});

describe('GeoSeriesReader.query', () => {
  it('reads one geography in date order, unreported deaths as null', async () => {
    // Prepare
    await storeDays([
      { geo: '72001', date: '2021-03-02', cases: 3, deaths: null },
      { geo: '72001', date: '2021-03-01', cases: 2, deaths: null },
      { geo: '72003', date: '2021-03-01', cases: 9, deaths: 1 },
    ]);

    // Act
    const days = await reader.query('72001');

    // Assess
    expect(days).toEqual([
      { date: '2021-03-01', cases: 2, deaths: null },
      { date: '2021-03-02', cases: 3, deaths: null },
    ]);
  });
});
