import { gunzipSync } from 'node:zlib';
import { createLogger } from '@covid-etl/platform';
import { lambdaContext } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { SeriesResponse, StatusResponse } from '../src/api-types.js';
import { createHandler, type DashboardDeps } from '../src/app.js';
import { DataUnavailableError } from '../src/errors.js';
import { ASSETS, days, FakeLedger, FakeSeries, record, run, urlEvent } from './fixtures.js';

type Result = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string>; body: string };

function setup(overrides: Partial<DashboardDeps> = {}) {
  const series = new FakeSeries(
    days('2020-12-01', 20, (i) => ({ cases: 1000 + i * 100, deaths: 10 + i, recovered: i < 13 ? 500 + i : 0 })),
  );
  const ledger = new FakeLedger([run({ runId: 's-20261125T000000Z' })]);
  const deps: DashboardDeps = {
    series,
    ledger,
    environment: 'dev',
    assets: ASSETS,
    clock: { now: () => new Date('2026-11-25T12:00:00.000Z') },
    ...overrides,
  };
  const handler = createHandler(deps, { timeoutEarlyInMillis: 0 });
  const call = async (event: APIGatewayProxyEventV2) => (await handler(event, lambdaContext())) as Result;
  return { series, ledger, call };
}

const bodyOf = <T>(result: Result): T => JSON.parse(result.body) as T;

describe('GET / and the assets', () => {
  it('serves the page with a strict Content-Security-Policy, versioned asset links and both attributions', async () => {
    // Prepare
    const { call } = setup({ environment: 'dev<script>' });

    // Act
    const result = await call(urlEvent('/'));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(result.headers['cache-control']).toBe('no-cache');
    expect(result.headers['content-security-policy']).toContain("script-src 'self'");
    expect(result.headers['content-security-policy']).toContain("default-src 'none'");
    expect(result.body).toContain('<title>US COVID-19 cases, deaths and recoveries</title>');
    expect(result.body).toContain('<html lang="en">');
    expect(result.body).toContain(`src="/assets/app.js?v=${ASSETS.version}"`);
    expect(result.body).toContain(`href="/assets/app.css?v=${ASSETS.version}"`);
    expect(result.body).toContain('The New York Times</a>,\n            CC BY-NC 4.0.');
    expect(result.body).toContain('Johns Hopkins CSSE via datasets/covid-19');
    expect(result.body).toContain('dev&lt;script&gt;');
    expect(result.body).not.toContain('dev<script>');
  });

  it('serves the script for a year when the URL names its version, for 5 minutes otherwise', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const versioned = await call(urlEvent('/assets/app.js', { query: { v: ASSETS.version } }));
    const plain = await call(urlEvent('/assets/app.js'));
    const css = await call(urlEvent('/assets/app.css'));
    const icon = await call(urlEvent('/assets/favicon.svg'));

    // Assess
    expect(versioned.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(versioned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(versioned.body).toBe(ASSETS.js);
    expect(plain.headers['cache-control']).toBe('public, max-age=300');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body).toBe(ASSETS.css);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
  });

  it('gzips a large body for a client that accepts it (function URLs do not compress)', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const result = await call(urlEvent('/assets/app.js', { headers: { 'accept-encoding': 'gzip, deflate, br' } }));
    const refused = await call(urlEvent('/assets/app.js', { headers: { 'accept-encoding': 'gzip;q=0, br' } }));

    // Assess
    expect(result.headers['content-encoding']).toBe('gzip');
    expect(result.isBase64Encoded).toBe(true);
    expect(gunzipSync(Buffer.from(result.body, 'base64')).toString()).toBe(ASSETS.js);
    expect(result.headers.vary).toBe('accept-encoding');
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body).toBe(ASSETS.js);
  });

  it('answers a matching If-None-Match with 304 and no body, and HEAD with headers only', async () => {
    // Prepare
    const { call } = setup();
    const first = await call(urlEvent('/'));

    // Act
    const again = await call(urlEvent('/', { headers: { 'if-none-match': first.headers.etag as string } }));
    const head = await call(urlEvent('/', { method: 'HEAD' }));

    // Assess
    expect(first.headers.etag).toMatch(/^W\/".+"$/);
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-type']).toBe('text/html; charset=utf-8');
  });
});

describe('GET /api/series', () => {
  it('answers the whole series with daily values, 7-day averages, recoveries null where not reported, and sources', async () => {
    // Prepare
    const { call, series } = setup();

    // Act
    const result = await call(urlEvent('/api/series'));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(result.headers['cache-control']).toBe('public, max-age=300');
    const body = bodyOf<SeriesResponse>(result);
    expect(body.from).toBeNull();
    expect(body.available).toEqual({ from: '2020-12-01', to: '2020-12-20' });
    expect(body.series).toHaveLength(20);
    expect(body.series[0]).toEqual({
      date: '2020-12-01',
      cases: 1000,
      deaths: 10,
      recovered: 500,
      newCases: null,
      newDeaths: null,
      newCases7d: null,
      newDeaths7d: null,
    });
    expect(body.series[7]).toMatchObject({ date: '2020-12-08', newCases: 100, newCases7d: 100, newDeaths7d: 1 });
    expect(body.recoveredReportedUntil).toBe('2020-12-13');
    expect(body.recoveredNotReportedFrom).toBe('2020-12-14');
    expect(body.series.find((p) => p.date === '2020-12-13')?.recovered).toBe(512);
    expect(body.series.filter((p) => p.date >= '2020-12-14').every((p) => p.recovered === null)).toBe(true);
    expect(body.sources.map((s) => [s.name, s.licence])).toEqual([
      ['The New York Times', 'CC BY-NC 4.0'],
      ['Johns Hopkins CSSE via datasets/covid-19', 'CC BY 4.0 (Johns Hopkins CSSE); ODC-PDDL (datasets/covid-19)'],
    ]);
    expect(series.calls).toEqual([{}]);
  });

  it('answers a range with the days inside it, their averages computed from the days before the range', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const result = await call(urlEvent('/api/series', { query: { from: '2020-12-08', to: '2020-12-09' } }));

    // Assess
    const body = bodyOf<SeriesResponse>(result);
    expect(body.from).toBe('2020-12-08');
    expect(body.to).toBe('2020-12-09');
    expect(body.series.map((p) => [p.date, p.newCases, p.newCases7d])).toEqual([
      ['2020-12-08', 100, 100],
      ['2020-12-09', 100, 100],
    ]);
    expect(body.available).toEqual({ from: '2020-12-01', to: '2020-12-20' });
  });

  it('answers a range outside the data with an empty series', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const result = await call(urlEvent('/api/series', { query: { from: '2019-01-01', to: '2019-12-31' } }));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf<SeriesResponse>(result).series).toEqual([]);
  });

  it('answers an empty table with no series and no available range', async () => {
    // Prepare
    const { call } = setup({ series: new FakeSeries([]) });

    // Act
    const body = bodyOf<SeriesResponse>(await call(urlEvent('/api/series')));

    // Assess
    expect(body).toMatchObject({ available: null, series: [], recoveredNotReportedFrom: null });
  });

  it.each([
    [{ from: '2020-13-01' }, 'from: expected a date as YYYY-MM-DD, got "2020-13-01"'],
    [{ to: '20210316' }, 'to: expected a date as YYYY-MM-DD, got "20210316"'],
    [{ from: '2021-3-1' }, 'from: expected a date as YYYY-MM-DD, got "2021-3-1"'],
    [{ from: '' }, 'from: expected a date as YYYY-MM-DD, got ""'],
    [{ from: '2021-02-30' }, 'from: expected a date that exists in the calendar, got "2021-02-30"'],
    [{ to: '2021-02-29' }, 'to: expected a date that exists in the calendar, got "2021-02-29"'],
    [{ from: '2021-03-01', to: '2021-02-01' }, 'from (2021-03-01) is after to (2021-02-01): expected from <= to'],
    [{ from: '2021-01-01,2021-02-01' }, 'from: expected a date as YYYY-MM-DD, got "2021-01-01,2021-02-01"'],
    [{ limit: '10' }, 'unknown query parameter "limit": expected only geo, from and to'],
    [{ from: '2021-01-01', start: '2021-01-01' }, 'unknown query parameter "start": expected only geo, from and to'],
  ])('answers %j with 400 and a clear message', async (query, message) => {
    // Prepare
    const { call, series } = setup();

    // Act
    const result = await call(urlEvent('/api/series', { query }));

    // Assess
    expect(result.statusCode).toBe(400);
    expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(result.headers['cache-control']).toBe('no-store');
    expect(bodyOf(result)).toEqual({ error: message });
    expect(series.calls).toEqual([]);
  });
});

describe('GET /api/status', () => {
  it('answers the latest run with its counts, and how fresh the data is', async () => {
    // Prepare
    const series = new FakeSeries([
      { ...record('2021-03-15', 10, 1, 0), updatedAt: '2026-11-24T00:00:30.000Z' },
      { ...record('2021-03-16', 11, 1, 0), updatedAt: '2026-11-25T00:00:40.000Z' },
    ]);
    const ledger = new FakeLedger([
      run({
        runId: 's-20261125T000000Z',
        status: 'FAILED',
        finishedAt: '2026-11-25T00:00:09.000Z',
        summary: undefined,
        failure: { reason: 'nyt line 1: required column "deaths" is missing' },
      }),
      run({ runId: 's-20261124T000000Z', finishedAt: '2026-11-24T00:01:00.000Z' }),
    ]);
    const { call } = setup({ series, ledger });

    // Act
    const result = await call(urlEvent('/api/status'));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers['cache-control']).toBe('no-cache');
    expect(bodyOf<StatusResponse>(result)).toEqual({
      environment: 'dev',
      now: '2026-11-25T12:00:00.000Z',
      latestRun: {
        runId: 's-20261125T000000Z',
        status: 'FAILED',
        trigger: 'schedule',
        startedAt: '2026-11-25T00:00:00.000Z',
        finishedAt: '2026-11-25T00:00:09.000Z',
        counts: null,
        failure: 'nyt line 1: required column "deaths" is missing',
        note: null,
      },
      lastSuccessfulRun: { runId: 's-20261124T000000Z', finishedAt: '2026-11-24T00:01:00.000Z' },
      data: { firstDate: '2021-03-15', lastDate: '2021-03-16', days: 2, lastChangedAt: '2026-11-25T00:00:40.000Z' },
    });
    expect(ledger.limits).toEqual([50]);
  });

  it('shows a failure reason with any URL in it redacted (no userinfo, no query)', async () => {
    // Prepare
    const ledger = new FakeLedger([
      run({
        runId: 's-20261125T000000Z',
        status: 'FAILED',
        summary: undefined,
        failure: { reason: 'nyt: https://u:secret@example.org/us.csv?token=abc answered HTTP 404' },
      }),
    ]);
    const { call } = setup({ ledger });

    // Act
    const result = await call(urlEvent('/api/status'));

    // Assess
    expect(bodyOf<StatusResponse>(result).latestRun?.failure).toBe('nyt: https://example.org/us.csv answered HTTP 404');
  });

  it('answers the counts of a finished run', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const body = bodyOf<StatusResponse>(await call(urlEvent('/api/status')));

    // Assess
    expect(body.latestRun?.counts).toEqual({ inserted: 3, updated: 1, unchanged: 416, rejected: 0 });
    expect(body.lastSuccessfulRun?.runId).toBe('s-20261125T000000Z');
  });

  it('answers nulls when there is no run and no data yet', async () => {
    // Prepare
    const { call } = setup({ series: new FakeSeries([]), ledger: new FakeLedger([]) });

    // Act
    const body = bodyOf<StatusResponse>(await call(urlEvent('/api/status')));

    // Assess
    expect(body).toMatchObject({ latestRun: null, lastSuccessfulRun: null, data: null });
  });

  it('takes no query parameters', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const result = await call(urlEvent('/api/status', { query: { verbose: '1' } }));

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({ error: 'unknown query parameter "verbose": this path takes none' });
  });
});

describe('paths, methods and failures', () => {
  it.each(['/api', '/api/series/', '/index.html', '/assets/other.js', '/API/series'])(
    'answers %s with 404',
    async (path) => {
      // Prepare
      const { call } = setup();

      // Act
      const result = await call(urlEvent(path));

      // Assess
      expect(result.statusCode).toBe(404);
      expect(bodyOf<{ error: string }>(result).error).toBe(
        `no such path: ${path}; try / or /api/series, /api/geos, /api/counties?state=48, /api/status or /api/history?date=YYYY-MM-DD`,
      );
    },
  );

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('answers %s with 405 and Allow: GET, HEAD', async (method) => {
    // Prepare
    const { call, series } = setup();

    // Act
    const result = await call(urlEvent('/api/series', { method }));

    // Assess
    expect(result.statusCode).toBe(405);
    expect(result.headers.allow).toBe('GET, HEAD');
    expect(bodyOf(result)).toEqual({ error: `method ${method} is not allowed on /api/series: use GET` });
    expect(series.calls).toEqual([]);
  });

  it('answers 503 with Retry-After when the tables are unavailable for a while', async () => {
    // Prepare
    const busy = new FakeSeries();
    busy.query = async () => {
      throw new DataUnavailableError('The local stack is busy: reload in a moment');
    };
    const { call } = setup({ series: busy });

    // Act
    const result = await call(urlEvent('/api/series'));

    // Assess
    expect(result.statusCode).toBe(503);
    expect(result.headers['retry-after']).toBe('5');
    expect(bodyOf(result)).toEqual({ error: 'The local stack is busy: reload in a moment' });
  });

  it('answers 500 without internals when a table read fails, and logs the error', async () => {
    // Prepare
    const lines: string[] = [];
    const logger = createLogger({
      service: 'dashboard',
      level: 'error',
      destination: { write: (line: string) => lines.push(line) },
    });
    const broken = new FakeSeries();
    broken.query = async () => {
      throw new Error('AccessDeniedException: arn:aws:dynamodb:secret-table');
    };
    const { call } = setup({ series: broken, logger });

    // Act
    const result = await call(urlEvent('/api/status'));

    // Assess
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('secret-table');
    expect(bodyOf(result)).toEqual({ error: 'could not read the data (request req-1); try again later' });
    expect(lines.join('')).toContain('AccessDeniedException');
  });
});
