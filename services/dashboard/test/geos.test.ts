import { GeoCatalogRepository, GeoSeriesReader } from '@covid-etl/platform';
import { lambdaContext } from '@covid-etl/testing';
import { type LocalTables, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { CountiesResponse, GeosResponse, SeriesResponse } from '../src/api-types.js';
import { createHandler, type DashboardDeps } from '../src/app.js';
import { ASSETS, days, FakeLedger, FakeSeries, urlEvent } from './fixtures.js';
import { GEO_LAST_DATE, SEEDED, seedGeos } from './geo-fixtures.js';

type Result = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string>; body: string };

let local: LocalTables;
let call: (path: string, query?: Record<string, string>) => Promise<Result>;
let nationOnly: (path: string, query?: Record<string, string>) => Promise<Result>;

const nation = days('2021-03-01', 10, (i) => ({ cases: 1_000 + i, deaths: 10, recovered: 5 }));

beforeAll(async () => {
  local = await startLocalTables();
  const { dataTable } = await local.tables();
  await seedGeos(local.doc, dataTable);
  const base: DashboardDeps = {
    series: new FakeSeries(nation),
    ledger: new FakeLedger(),
    environment: 'dev',
    assets: ASSETS,
  };
  const handler = createHandler(
    {
      ...base,
      geos: new GeoCatalogRepository(local.doc, dataTable),
      geoSeries: new GeoSeriesReader(local.doc, dataTable),
    },
    { timeoutEarlyInMillis: 0 },
  );
  const bare = createHandler(base, { timeoutEarlyInMillis: 0 });
  call = async (path, query) => (await handler(urlEvent(path, { query }), lambdaContext())) as Result;
  nationOnly = async (path, query) => (await bare(urlEvent(path, { query }), lambdaContext())) as Result;
});

afterAll(async () => {
  await local.close();
});

const bodyOf = <T>(result: Result): T => JSON.parse(result.body) as T;
/** The 7-day average of new values on the last day, computed from the seeded cumulative values. */
const average = (values: number[]) => Math.round(((values.at(-1) as number) - (values.at(-8) as number)) / 0.7) / 10;

describe('GET /api/series?geo=', () => {
  it('answers a county series with its daily values and averages, and no recoveries', async () => {
    // Act
    const result = await call('/api/series', { geo: '48201' });

    // Assess
    expect(result.statusCode).toBe(200);
    const body = bodyOf<SeriesResponse>(result);
    expect(body.geo).toEqual({ id: '48201', name: 'Harris', level: 'county', state: '48', stateName: 'Texas' });
    expect(body.series).toHaveLength(20);
    expect(body.available).toEqual({ from: '2021-03-01', to: GEO_LAST_DATE });
    const last = body.series.at(-1);
    const seeded = SEEDED['48201']?.at(-1);
    expect(last).toEqual({
      date: GEO_LAST_DATE,
      cases: seeded?.cases,
      deaths: seeded?.deaths,
      recovered: null,
      newCases: 300,
      newDeaths: (seeded?.deaths as number) - (SEEDED['48201']?.at(-2)?.deaths as number),
      newCases7d: 300,
      newDeaths7d: average((SEEDED['48201'] ?? []).map((day) => day.deaths as number)),
    });
    expect(body.recoveredNotReportedFrom).toBeNull();
    expect(body.sources.map((source) => source.id)).toEqual(['nyt']);
  });

  it('keeps unreported deaths null, and slices a state series by from and to', async () => {
    // Act
    const municipio = bodyOf<SeriesResponse>(await call('/api/series', { geo: '72001' }));
    const state = bodyOf<SeriesResponse>(
      await call('/api/series', { geo: '48', from: '2021-03-10', to: '2021-03-12' }),
    );

    // Assess
    expect(municipio.series.at(-1)).toMatchObject({ deaths: null, newDeaths: null, newDeaths7d: null, newCases7d: 3 });
    expect(state.geo).toMatchObject({ name: 'Texas', level: 'state' });
    expect(state.series.map((point) => [point.date, point.cases])).toEqual([
      ['2021-03-10', 18_100],
      ['2021-03-11', 19_000],
      ['2021-03-12', 19_900],
    ]);
  });

  it('answers the national series as before when geo is absent, and with the nation named when geo=US', async () => {
    // Act
    const absent = bodyOf<SeriesResponse>(await call('/api/series'));
    const us = bodyOf<SeriesResponse>(await call('/api/series', { geo: 'US' }));
    const before = bodyOf<SeriesResponse>(await nationOnly('/api/series'));

    // Assess
    expect(absent).toEqual(before);
    expect(absent.geo).toBeUndefined();
    expect(absent.series.at(-1)).toMatchObject({ cases: 1_009, recovered: 5 });
    expect(us).toEqual({
      geo: { id: 'US', name: 'United States', level: 'nation', state: null, stateName: null },
      ...absent,
    });
  });

  it.each([
    ['48201x', 400, 'geo: geography "48201x" is not a geography id; expected US, a state FIPS such as 06'],
    ['us', 400, 'geo: geography "us" is not written in its exact case'],
    ['99', 400, 'geo: geography "99" names no state or territory (FIPS 99)'],
    ['48999', 404, 'geo: no data for geography 48999 (County 48999, Texas); see /api/geos for those loaded'],
  ])('answers geo=%s with %i and one line saying why', async (geo, status, message) => {
    // Act
    const result = await call('/api/series', { geo });

    // Assess
    expect(result.statusCode).toBe(status);
    expect(bodyOf<{ error: string }>(result).error).toContain(message);
    expect(bodyOf<{ error: string }>(result).error).not.toContain('\n');
  });

  it('says so when the deployment serves no geographies', async () => {
    // Act
    const result = await nationOnly('/api/series', { geo: '48' });

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf<{ error: string }>(result).error).toBe('states and counties are not available here');
  });
});

describe('GET /api/geos and /api/counties', () => {
  it('lists the nation first, then each state followed by its counties, named', async () => {
    // Act
    const result = await call('/api/geos');

    // Assess
    expect(result.statusCode).toBe(200);
    const { geos } = bodyOf<GeosResponse>(result);
    expect(geos.map((geo) => geo.id)).toEqual(['US', '48', '48-unknown', '48113', '48201', '48301', '72', '72001']);
    expect(geos.find((geo) => geo.id === '48-unknown')).toEqual({
      id: '48-unknown',
      name: 'Unknown, Texas',
      level: 'county',
      state: '48',
      stateName: 'Texas',
      lastDate: GEO_LAST_DATE,
    });
    expect(result.headers['cache-control']).toBe('public, max-age=300');
  });

  it('lists a state’s counties with their latest values and 7-day averages', async () => {
    // Act
    const result = await call('/api/counties', { state: '48' });

    // Assess
    expect(result.statusCode).toBe(200);
    const body = bodyOf<CountiesResponse>(result);
    expect(body.state).toMatchObject({ id: '48', name: 'Texas' });
    const dallas = SEEDED['48113'] ?? [];
    expect(body.counties.find((county) => county.id === '48113')).toEqual({
      id: '48113',
      name: 'Dallas',
      date: GEO_LAST_DATE,
      cases: dallas.at(-1)?.cases,
      deaths: dallas.at(-1)?.deaths,
      newCases7d: 500,
      newDeaths7d: average(dallas.map((day) => day.deaths as number)),
    });
    expect(body.counties.find((county) => county.id === '48-unknown')).toMatchObject({ newCases7d: null });
    expect(body.counties.map((county) => county.id).sort()).toEqual(['48-unknown', '48113', '48201', '48301']);
  });

  it.each([
    [{ state: '48201' }, 'state: 48201 is a county, expected a state FIPS code such as 48'],
    [{ state: 'TX' }, 'state: geography "TX" is not a geography id'],
    [{}, 'state: '],
  ])('answers %j with 400 and one line', async (query, message) => {
    // Act
    const result = await call('/api/counties', query as Record<string, string>);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf<{ error: string }>(result).error).toContain(message);
  });
});
