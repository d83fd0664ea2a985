import type { DayVersion } from '@covid-etl/platform';
import { lambdaContext } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HistoryResponse, SeriesResponse } from '../src/api-types.js';
import { createHandler, type DashboardDeps, type VersionReader } from '../src/app.js';
import { revisedLine } from '../src/web/charts.js';
import { ASSETS, days, FakeLedger, FakeSeries, run, urlEvent } from './fixtures.js';

type Result = APIGatewayProxyStructuredResultV2 & { body: string };

const OLD = 's-20261124T000000Z';
const LATEST = 's-20261125T000000Z';
const version = (date: string, runId: string, change: DayVersion['change'], before: number | null, after: number) =>
  ({
    date,
    runId,
    at: `${runId === OLD ? '2026-11-24' : '2026-11-25'}T00:00:30.000Z`,
    change,
    before: before === null ? null : { cases: before, deaths: 1, recovered: 0, runId: OLD },
    after: { cases: after, deaths: 1, recovered: 0 },
  }) satisfies DayVersion;

class FakeVersions implements VersionReader {
  constructor(private readonly versions: DayVersion[]) {}
  async history(date: string) {
    return this.versions.filter((v) => v.date === date);
  }
  async changesOf(runId: string) {
    return this.versions.filter((v) => v.runId === runId);
  }
}

function setup(overrides: Partial<DashboardDeps> = {}) {
  const deps: DashboardDeps = {
    series: new FakeSeries(days('2020-12-01', 5, (i) => ({ cases: 1000 + i, deaths: 1, recovered: 0 }))),
    ledger: new FakeLedger([
      run({ runId: LATEST, startedAt: '2026-11-25T00:00:00.000Z', finishedAt: '2026-11-25T00:01:00.000Z' }),
      run({ runId: OLD, startedAt: '2026-11-24T00:00:00.000Z' }),
    ]),
    versions: new FakeVersions([
      version('2020-12-02', OLD, 'inserted', null, 900),
      version('2020-12-02', LATEST, 'updated', 900, 1001),
      version('2020-12-05', LATEST, 'inserted', null, 1004),
    ]),
    environment: 'dev',
    assets: ASSETS,
    ...overrides,
  };
  const handler = createHandler(deps, { timeoutEarlyInMillis: 0 });
  return async (path: string, query?: Record<string, string>) =>
    (await handler(urlEvent(path, { query }), lambdaContext())) as Result;
}

describe('revisions on the dashboard', () => {
  it('gives the days the latest run revised, with their values before it, beside the series', async () => {
    // Prepare
    const call = setup();

    // Act
    const body = JSON.parse((await call('/api/series')).body) as SeriesResponse;

    // Assess: the update is marked, the insert is not.
    expect(body.revised).toEqual({
      runId: LATEST,
      on: '2026-11-25',
      days: { '2020-12-02': { cases: 900, deaths: 1, recovered: 0 } },
    });
    expect(revisedLine(body, '2020-12-02')).toBe('revised on 2026-11-25: was 900 cases, 1 deaths, 0 recovered');
    expect(revisedLine(body, '2020-12-03')).toBeUndefined();
  });

  it('marks nothing when the latest run revised nothing', async () => {
    // Prepare
    const call = setup({ versions: new FakeVersions([]) });

    // Act
    const body = JSON.parse((await call('/api/series')).body) as SeriesResponse;

    // Assess
    expect(body.revised).toBeNull();
  });

  it('serves the series without marks when the versions index cannot be read (being created)', async () => {
    // Prepare
    const failing: VersionReader = {
      history: async () => [],
      changesOf: async () => {
        throw new Error('The table does not have the specified index: versionsByRun');
      },
    };
    const call = setup({ versions: failing });

    // Act
    const result = await call('/api/series');

    // Assess
    expect(result.statusCode).toBe(200);
    expect((JSON.parse(result.body) as SeriesResponse).revised).toBeNull();
  });

  it('answers the history of one day, oldest first, and 400 for a bad date', async () => {
    // Prepare
    const call = setup();

    // Act
    const ok = await call('/api/history', { date: '2020-12-02' });
    const bad = await call('/api/history', { date: '2020-13-02' });

    // Assess
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body) as HistoryResponse).toEqual({
      date: '2020-12-02',
      versions: [
        expect.objectContaining({ runId: OLD, change: 'inserted', before: null }),
        expect.objectContaining({
          runId: LATEST,
          change: 'updated',
          before: { cases: 900, deaths: 1, recovered: 0 },
          after: { cases: 1001, deaths: 1, recovered: 0 },
        }),
      ],
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/^date: /);
  });
});
