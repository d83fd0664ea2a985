import type { RunItem, StoredRecord } from '@covid-etl/platform';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { RunReader, SeriesReader, WebAssets } from '../src/ports.js';

/** A stored day of the series. */
export function record(date: string, cases: number, deaths: number, recovered: number): StoredRecord {
  return {
    date,
    cases,
    deaths,
    recovered,
    runId: 'm-20261125T000000Z-abcdef',
    change: 'inserted',
    updatedAt: '2026-11-25T00:00:00.000Z',
  };
}

/** `count` consecutive days from `start`, with values from `values(index)`. */
export function days(
  start: string,
  count: number,
  values: (index: number) => { cases: number; deaths: number; recovered: number },
): StoredRecord[] {
  const first = Date.parse(`${start}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => {
    const date = new Date(first + i * 86_400_000).toISOString().slice(0, 10);
    const { cases, deaths, recovered } = values(i);
    return record(date, cases, deaths, recovered);
  });
}

/** A data table in memory that answers `query` like SeriesRepository (date order, inclusive bounds). */
export class FakeSeries implements SeriesReader {
  readonly calls: Array<{ from?: string; to?: string }> = [];
  constructor(public records: StoredRecord[] = []) {}
  async query(range: { from?: string; to?: string } = {}): Promise<StoredRecord[]> {
    this.calls.push(range);
    return [...this.records]
      .sort((a, b) => a.date.localeCompare(b.date))
      .filter((r) => (!range.from || r.date >= range.from) && (!range.to || r.date <= range.to));
  }
}

/** A ledger in memory: runs, latest first. */
export class FakeLedger implements RunReader {
  readonly limits: number[] = [];
  constructor(public runs: RunItem[] = []) {}
  async listRuns(limit = 20): Promise<RunItem[]> {
    this.limits.push(limit);
    return this.runs.slice(0, limit);
  }
}

/** A finished run as the ledger holds it. */
export function run(overrides: Partial<RunItem> & { runId: string }): RunItem {
  const status = overrides.status ?? 'SUCCEEDED';
  return {
    environment: 'dev',
    trigger: 'schedule',
    status,
    startedAt: '2026-11-25T00:00:00.000Z',
    finishedAt: '2026-11-25T00:01:00.000Z',
    dispatch: 'SENT',
    sources: [],
    months: [],
    skipped: { months: 0, records: 0 },
    summary: {
      runId: overrides.runId,
      environment: 'dev',
      status,
      trigger: 'schedule',
      startedAt: '2026-11-25T00:00:00.000Z',
      finishedAt: '2026-11-25T00:01:00.000Z',
      counts: { inserted: 3, updated: 1, unchanged: 416, rejected: 0 },
      dateRange: { from: '2020-01-22', to: '2021-03-16' },
      sources: [],
      chunks: { expected: 2, loaded: 2, skipped: 37 },
      rejectedRows: [],
    },
    ...overrides,
  };
}

export const ASSETS: WebAssets = {
  version: 'abc123def456',
  js: `console.log("dashboard");${' '.repeat(4096)}`,
  css: 'body{color:black}',
  favicon: '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
};

/** A Lambda function URL event (payload format 2.0). */
export function urlEvent(
  path: string,
  {
    method = 'GET',
    query,
    headers = {},
  }: { method?: string; query?: Record<string, string>; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query ? new URLSearchParams(query).toString() : '',
    headers: { host: 'abc.lambda-url.us-east-1.on.aws', ...headers },
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc',
      domainName: 'abc.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abc',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'jest' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '25/Nov/2026:00:00:00 +0000',
      timeEpoch: 1_795_564_800_000,
    },
    isBase64Encoded: false,
  };
}
