import { readGeoSnapshot, sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { type LocalTables, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { GeoCatalogRepository, type GeoDayOf } from '../src/index.js';

/**
 * The catalogue and county summaries on the real rolling county file (us-counties-recent, 30
 * days to 2021-03-17, ~3,250 series): its first 29 days as a backfill, then its last day as a
 * daily run, then that day again (a redelivery). The summaries are compared with values
 * computed from the file by the test's own reader (@covid-etl/testing readGeoSnapshot).
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;
jest.setTimeout(120_000);

let local: LocalTables;

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local?.close();
});

const shift = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

describeReal('GeoCatalogRepository on the real recent county file', () => {
  it('adds the daily day with 2 Queries per state, a series Query only for a county the file cannot fill; a redelivery writes nothing', async () => {
    // Prepare
    const { dataTable } = await local.tables();
    const catalog = new GeoCatalogRepository(local.doc, dataTable);
    const file = readGeoSnapshot(snapshotPath('countiesRecent'));
    const records: GeoDayOf[] = [...file].map(([key, values]) => {
      const [geo, date] = key.split('|') as [string, string];
      return { geo, date, ...values };
    });
    const last = [...new Set(records.map((record) => record.date))].sort().at(-1) as string;
    const backfill = records.filter((record) => record.date < last);
    const daily = records.filter((record) => record.date === last);
    const states = new Set(daily.map((record) => record.geo.slice(0, 2)));
    // A county must read its series only when it is new on the last day, or when its last 8
    // days have a gap after its first day (the file alone cannot fill its window).
    const lastDay = new Map<string, string>();
    for (const record of records) {
      if ((lastDay.get(record.geo) ?? '') < record.date) lastDay.set(record.geo, record.date);
    }
    const firstDay = new Map<string, string>();
    for (const record of backfill) {
      const first = firstDay.get(record.geo);
      if (first === undefined || record.date < first) firstDay.set(record.geo, record.date);
    }
    const mustRead = daily.filter((record) => {
      const first = firstDay.get(record.geo);
      return (
        first === undefined ||
        Array.from({ length: 8 }, (_, i) => shift(last, -i)).some(
          (date) => date >= first && !file.has(`${record.geo}|${date}`),
        )
      );
    });
    await catalog.applyLoaded({ records: backfill });

    // Act
    const counts = await catalog.applyLoaded({ records: daily });
    const again = await catalog.applyLoaded({ records: daily });

    // Assess
    expect(last).toBe('2021-03-17');
    // 23-unknown (Maine) has a gap in its last 8 days.
    expect(mustRead.map((record) => record.geo)).toEqual(['23-unknown']);
    expect(counts).toEqual({
      partitionQueries: 2 * states.size,
      seriesQueries: mustRead.length,
      itemsWritten: 2 * daily.length,
      batchRequests: Math.ceil((2 * daily.length) / 25),
    });
    expect(again).toEqual({
      partitionQueries: 2 * states.size,
      seriesQueries: mustRead.length,
      itemsWritten: 0,
      batchRequests: 0,
    });
    // Every county of every state: latest values and 7-day averages as computed from the file.
    const mismatches: string[] = [];
    let summaries = 0;
    for (const state of states) {
      for (const summary of await catalog.listCounties(state)) {
        summaries += 1;
        const latest = lastDay.get(summary.id) as string;
        const at = (days: number) => file.get(`${summary.id}|${shift(latest, -days)}`);
        const today = at(0);
        const week = Array.from({ length: 8 }, (_, i) => at(i));
        const full = week.every((day) => day !== undefined);
        const mean = (a: number | null | undefined, b: number | null | undefined) =>
          a === null || a === undefined || b === null || b === undefined ? null : Math.round(((a - b) / 7) * 10) / 10;
        const expected = {
          date: latest,
          cases: today?.cases,
          deaths: today?.deaths,
          newCases7d: full ? mean(today?.cases, at(7)?.cases) : null,
          newDeaths7d: full && week.every((day) => day?.deaths !== null) ? mean(today?.deaths, at(7)?.deaths) : null,
        };
        const actual = {
          date: summary.date,
          cases: summary.cases,
          deaths: summary.deaths,
          newCases7d: summary.newCases7d,
          newDeaths7d: summary.newDeaths7d,
        };
        if (JSON.stringify(actual) !== JSON.stringify(expected)) mismatches.push(summary.id);
      }
    }
    expect(summaries).toBe(lastDay.size);
    expect(mismatches).toEqual([]);
    const harris = (await catalog.listCounties('48')).find((summary) => summary.id === '48201');
    expect(harris?.window).toHaveLength(8);
  });
});
