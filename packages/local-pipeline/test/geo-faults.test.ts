import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dateRange } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { CRASH_POINTS, type FaultMode, parseFaults } from '../src/faults.js';
import { LocalPipeline } from '../src/pipeline.js';

/**
 * The loader's crash points around the geography catalogue (`crash-at-days-written`: after a
 * part's days are written, before the catalogue update; `crash-at-catalogue-updated`: after it,
 * before the part is marked loaded): after redelivery the catalogue, the county tables and the
 * counts per level are those of a run without the crash.
 */
const COUNTIES: [string, string, string, number][] = [
  ['48201', 'Harris', 'Texas', 300],
  ['48113', 'Dallas', 'Texas', 200],
  ['', 'Unknown', 'Texas', 5],
  ['', 'New York City', 'New York', 900],
];
const STATES: [string, string, number][] = [
  ['48', 'Texas', 700],
  ['36', 'New York', 1_200],
];

/** A states file and a counties file of `days` days from 2021-03-01; `revised` adds 7 to the cases of those (geo name, date). */
function files(dir: string, days: number, revised: string[] = []) {
  const dates = dateRange('2021-03-01', days);
  const bump = (name: string, date: string) => (revised.includes(`${name}|${date}`) ? 7 : 0);
  const states = dates.flatMap((date, i) =>
    STATES.map(([fips, name, perDay]) => `${date},${name},${fips},${perDay * (i + 1) + bump(name, date)},${i}`),
  );
  const counties = dates.flatMap((date, i) =>
    COUNTIES.map(
      ([fips, name, state, perDay]) => `${date},${name},${state},${fips},${perDay * (i + 1) + bump(name, date)},${i}`,
    ),
  );
  const statesFile = path.join(dir, `us-states-${days}.csv`);
  const countiesFile = path.join(dir, `us-counties-${days}.csv`);
  writeFileSync(statesFile, ['date,state,fips,cases,deaths', ...states, ''].join('\n'));
  writeFileSync(countiesFile, ['date,county,state,fips,cases,deaths', ...counties, ''].join('\n'));
  return { states: pathToFileURL(statesFile).href, counties: pathToFileURL(countiesFile).href };
}

/** Two runs (20 days, then 25 with 3 days revised) with `fault` on the loader: what the dashboard and the summaries show. */
async function twoRuns(fault: FaultMode | undefined) {
  const dir = mkdtempSync(path.join(tmpdir(), `etl-geo-faults-${fault ?? 'none'}-`));
  const pipeline = await LocalPipeline.open({ dir, ...(fault ? { faults: { loader: fault } } : {}) });
  try {
    const runs = [];
    for (const sources of [
      files(dir, 20),
      files(dir, 25, ['Harris|2021-03-19', 'Harris|2021-03-20', 'Texas|2021-03-20']),
    ]) {
      const run = await pipeline.run({
        trigger: 'manual',
        levels: ['state', 'county'],
        backfill: 'counties',
        sources,
      });
      runs.push({ status: run.status, levels: run.summary?.levels });
    }
    const { queue } = pipeline.queues.loader;
    return {
      runs,
      geos: await pipeline.geos.listGeos(),
      counties: [...(await pipeline.geos.listCounties('48')), ...(await pipeline.geos.listCounties('36'))],
      redelivered: queue.stats.received - queue.stats.sent,
    };
  } finally {
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the loader crashing around the geography catalogue', () => {
  it.each(CRASH_POINTS.loader.map((point) => [point]))(
    'crash-at-%s: after redelivery, the same catalogue and county tables and exact counts per level',
    async (point) => {
      // Act
      const expected = await twoRuns(undefined);
      const crashed = await twoRuns(`crash-at-${point}`);

      // Assert: the crash fired (parts delivered again) ...
      expect(expected.redelivered).toBe(0);
      expect(crashed.redelivered).toBeGreaterThan(0);
      // ... and changed nothing of the outcome.
      const counts = (inserted: number, updated: number, unchanged: number) => ({
        inserted,
        updated,
        unchanged,
        rejected: 0,
      });
      expect(crashed.runs).toEqual([
        { status: 'SUCCEEDED', levels: { state: counts(40, 0, 0), county: counts(80, 0, 0) } },
        { status: 'SUCCEEDED', levels: { state: counts(10, 1, 39), county: counts(20, 2, 78) } },
      ]);
      expect(crashed.runs).toEqual(expected.runs);
      expect(crashed.geos).toEqual(expected.geos);
      expect(crashed.counties).toEqual(expected.counties);
      expect(crashed.geos.find((geo) => geo.id === '48201')).toMatchObject({
        name: 'Harris',
        lastDate: '2021-03-25',
        cases: 7_500,
      });
      expect(crashed.counties.map((county) => county.name)).toEqual(['Unknown', 'Dallas', 'Harris', 'New York City']);
    },
    600_000,
  );
});

describe('ETL_FAULTS crash points', () => {
  it("accepts the loader's crash points and refuses them for a service without them, in one line", () => {
    // Act and Assert
    expect(parseFaults('loader=crash-at-days-written,notifier=fail')).toEqual({
      loader: 'crash-at-days-written',
      notifier: 'fail',
    });
    expect(parseFaults('loader=crash-at-catalogue-updated')).toEqual({ loader: 'crash-at-catalogue-updated' });
    expect(() => parseFaults('transformer=crash-at-days-written')).toThrow(
      'ETL_FAULTS: "transformer=crash-at-days-written" has mode "crash-at-days-written"; expected one of fail, fail-first, crash-mid-batch',
    );
  });
});
