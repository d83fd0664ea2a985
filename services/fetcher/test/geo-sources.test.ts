import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_SOURCE_URLS,
  GeoChunkMessage,
  type GeoLevel,
  MAX_MESSAGE_BYTES,
  TransformChunkMessage,
} from '@covid-etl/contracts';
import { chunksCoveredBy } from '@covid-etl/core';
import {
  DynamoGeoLedger,
  GeoCatalogRepository,
  GeoSeriesStore,
  geoDayWritten,
  HeldRunRepository,
  type LedgerRepository,
  type OutgoingMessage,
  type OutgoingMessages,
  RunFinalizer,
  silentLogger,
  sqsBatches,
} from '@covid-etl/platform';
import {
  dateRange,
  diffGeoSnapshots,
  jhuCsv,
  nytCsv,
  readGeoSnapshot,
  sharedDataAvailable,
  snapshotPath,
} from '@covid-etl/testing';
import {
  CapturingPublisher,
  CapturingSender,
  type LocalTables,
  startLocalTables,
  TestClock,
} from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { type FetcherDeps, HttpSourceDownloader } from '../src/app.js';
import { startRun } from '../src/use-cases/start-run.js';

const describeReal = sharedDataAvailable() ? describe : describe.skip;

/** The geography chunks among the messages the fetcher sent. */
function geoParts(sender: CapturingSender): GeoChunkMessage[] {
  return sender.sent
    .map((message) => JSON.parse(message.body) as { part?: string })
    .filter((body) => body.part !== undefined)
    .map((body) => GeoChunkMessage.parse(body));
}

/** The geography chunks sent since the last call, and forgets every message sent. */
function takeParts(sender: CapturingSender): GeoChunkMessage[] {
  const parts = geoParts(sender);
  sender.sent = [];
  return parts;
}

/** Counts the chunk keys whose day hashes (`read`) and day geographies (`geosRead`) were read. */
class CountingGeoLedger extends DynamoGeoLedger {
  read: string[] = [];
  geosRead: string[] = [];
  override async getDayHashes(keys: readonly string[]) {
    this.read.push(...keys);
    return super.getDayHashes(keys);
  }
  override async getDayGeos(keys: readonly string[]) {
    this.geosRead.push(...keys);
    return super.getDayGeos(keys);
  }
}

/** Counts the (geography, date) pairs read from the data table. */
class CountingGeoSeries extends GeoSeriesStore {
  read: string[] = [];
  override async getDays(keys: readonly { geo: string; date: string }[]) {
    this.read.push(...keys.map((key) => `${key.geo}|${key.date}`));
    return super.getDays(keys);
  }
}

let local: LocalTables;
let ledger: LedgerRepository;
let geoLedger: CountingGeoLedger;
let geoSeries: CountingGeoSeries;
/** Empty unless a test applies what it loaded (`catalog.applyLoaded`). */
let catalog: GeoCatalogRepository;
let held: HeldRunRepository;
let ledgerTable: string;
let sender: CapturingSender;
let deps: FetcherDeps;
let dir: string;
let scheduled = 0;

/** A fresh scheduled time per run (the run id is a function of it). */
function nextSchedule(): string {
  scheduled += 1;
  return new Date(Date.UTC(2026, 10, 25, 6, scheduled)).toISOString();
}

/**
 * What the loader does once a part is loaded: record the counties of each day, then its day
 * hashes (when `baseline`). `dayGeos: false`: a ledger from before the counties were recorded.
 */
async function loadDayHashes(messages: readonly GeoChunkMessage[], { dayGeos = true } = {}): Promise<void> {
  for (const message of messages) {
    if (!message.baseline) continue;
    if (dayGeos && message.level === 'county') {
      const byDate = new Map<string, string[]>();
      for (const r of message.records) byDate.set(r.date, [...(byDate.get(r.date) ?? []), r.geo]);
      await geoLedger.putDayGeos(
        message.chunk,
        [...byDate].map(([date, geos]) => ({ date, geos })),
        message.runId,
      );
    }
    await geoLedger.putDayHashes(message.chunk, message.days, message.runId);
  }
}

/** What the loader does with parts: their values in the data table, then their day hashes. */
async function loadParts(messages: readonly GeoChunkMessage[]): Promise<void> {
  const now = new Date('2026-11-25T06:00:00.000Z');
  for (const message of messages) {
    await geoSeries.writeChanges(
      message.records.map((r) => geoDayWritten(r, undefined, { runId: message.runId, now })),
    );
  }
  await loadDayHashes(messages);
}

/** A copy of a file under another name: another URL, so no source baseline applies. */
function copyAs(file: string, name: string): string {
  const target = path.join(dir, name);
  copyFileSync(file, target);
  return pathToFileURL(target).href;
}

function run(levels: GeoLevel[], sources: Record<string, string>, extra: { backfill?: 'counties' } = {}) {
  return startRun({ trigger: 'schedule', scheduledTime: nextSchedule(), levels, sources, ...extra }, deps);
}

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  const tables = await local.tables();
  ({ ledger } = tables);
  geoLedger = new CountingGeoLedger(local.doc, tables.ledgerTable);
  geoSeries = new CountingGeoSeries(local.doc, tables.dataTable);
  catalog = new GeoCatalogRepository(local.doc, tables.dataTable);
  ledgerTable = tables.ledgerTable;
  held = new HeldRunRepository(local.doc, ledgerTable);
  sender = new CapturingSender();
  dir = mkdtempSync(path.join(tmpdir(), 'fetcher-geo-'));
  const logger = silentLogger();
  const clock = new TestClock(new Date('2026-11-25T06:00:05.000Z'));
  deps = {
    environment: 'local',
    defaultUrls: DEFAULT_SOURCE_URLS,
    ledger,
    geoLedger,
    geoSeries,
    geoCatalog: catalog,
    held,
    series: tables.series,
    transformerQueue: sender,
    downloader: new HttpSourceDownloader(),
    finalizer: new RunFinalizer({ ledger, events: new CapturingPublisher(), logger, clock }),
    clock,
    logger,
  };
});

describe('states and counties in the fetcher (synthetic files)', () => {
  it('keeps a rejected row with file, line and column, and sends its chunk with baseline false', async () => {
    // Prepare: one state row with negative cases.
    const file = path.join(dir, 'states.csv');
    writeFileSync(
      file,
      'date,state,fips,cases,deaths\n2020-03-01,Texas,48,10,1\n2020-03-01,Utah,49,-3,0\n2020-04-01,Utah,49,7,0\n',
    );

    // Act
    const result = await run(['state'], { states: pathToFileURL(file).href });

    // Assess
    expect(result.status).toBe('RUNNING');
    const rejections = await geoLedger.listRejections(result.runId);
    expect(rejections).toEqual([
      {
        chunk: 'state/49/2020-03',
        count: 1,
        rows: [expect.objectContaining({ file: 'us-states.csv', line: 3, column: 'cases', value: '-3' })],
      },
    ]);
    const parts = geoParts(sender);
    expect(parts.map((part) => [part.part, part.baseline])).toEqual([
      ['state/48/2020-03#01-01', true],
      ['state/49/2020-04#01-01', true],
    ]);
    const stored = await ledger.getRun(result.runId);
    expect(stored?.months).toEqual(['state/48/2020-03#01-01', 'state/49/2020-04#01-01']);
    expect(stored?.geo).toEqual({
      state: expect.objectContaining({ source: 'states', chunks: 3, parts: 2, records: 2, rejected: 1 }),
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends PARTIAL, not SUCCEEDED, a run with nothing to send whose states file had a rejected row', async () => {
    // Prepare: the states file's only row is rejected, so no day is sent (the unchanged path).
    const file = path.join(dir, 'states.csv');
    writeFileSync(file, 'date,state,fips,cases,deaths\n2020-03-01,Utah,49,-3,0\n');

    // Act
    const result = await run(['state'], { states: pathToFileURL(file).href });

    // Assess
    expect(result).toMatchObject({ status: 'PARTIAL', chunks: 0 });
    const stored = await ledger.getRun(result.runId);
    expect(stored?.status).toBe('PARTIAL');
    expect(stored?.summary?.rejections).toEqual([{ level: 'state', source: 'states', rows: 1 }]);
    expect(stored?.summary?.levels?.state).toMatchObject({ rejected: 1 });
    expect(await ledger.listSourceBaselines()).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends the run FAILED naming the file when a states file is structurally broken, and sends nothing', async () => {
    // Prepare: the publisher renamed a column.
    const file = path.join(dir, 'states.csv');
    writeFileSync(file, 'date,state,fips,case,deaths\n2020-03-01,Texas,48,10,1\n');
    // Every downloaded body, and whether it was disposed of.
    const disposed: boolean[] = [];
    const downloader = deps.downloader;
    deps.downloader = {
      async download(request) {
        const response = await downloader.download(request);
        if (response.status !== 'ok') return response;
        const index = disposed.push(false) - 1;
        return {
          ...response,
          dispose: async () => {
            disposed[index] = true;
            await response.dispose();
          },
        };
      },
    };

    // Act
    const result = await run(['state'], { states: pathToFileURL(file).href });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(disposed).toEqual([true]);
    const stored = await ledger.getRun(result.runId);
    expect(stored?.failure?.reason).toMatch(/^us-states\.csv line 1: .*cases/);
    expect(stored?.failure?.reason).not.toContain('us.csv)');
    expect(sender.sent).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the nation and the states in one run, the nation exactly as before', async () => {
    // Prepare
    const days = dateRange('2020-03-01', 40);
    const nyt = path.join(dir, 'us.csv');
    const jhu = path.join(dir, 'jhu.csv');
    const states = path.join(dir, 'states.csv');
    writeFileSync(nyt, nytCsv(days.map((date, i) => ({ date, cases: 100 + i, deaths: i }))));
    writeFileSync(jhu, jhuCsv(days.map((date) => ({ date, recovered: 0 }))));
    writeFileSync(states, `date,state,fips,cases,deaths\n${days.map((d, i) => `${d},Ohio,39,${i},0`).join('\n')}\n`);
    const sources = {
      nyt: pathToFileURL(nyt).href,
      jhu: pathToFileURL(jhu).href,
      states: pathToFileURL(states).href,
    };

    // Act
    const result = await run(['nation', 'state'], sources);

    // Assess
    const months = sender.sent
      .map((message) => JSON.parse(message.body) as { month?: string })
      .filter((body) => body.month !== undefined)
      .map((body) => TransformChunkMessage.parse(body).month);
    expect(months).toEqual(['2020-03', '2020-04']);
    expect(geoParts(sender).map((part) => part.part)).toEqual(['state/39/2020-03#01-31', 'state/39/2020-04#01-09']);
    // No day hash of either chunk yet: the loader puts their hash items instead of updating them first.
    expect(geoParts(sender).map((part) => part.newChunk)).toEqual([true, true]);
    const stored = await ledger.getRun(result.runId);
    expect(stored?.months).toEqual(['2020-03', '2020-04', 'state/39/2020-03#01-31', 'state/39/2020-04#01-09']);
    expect(stored?.sources.map((source) => source.id)).toEqual(['nyt', 'jhu', 'states']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds the parts as they are sent, a batch at a time, after recording the whole plan', async () => {
    // Prepare: 25 months of Ohio (25 parts); a queue that sends 10 at a time as SQS does and
    // notes, at each batch, the part bodies built so far (JSON.stringify of a part message).
    const file = path.join(dir, 'states.csv');
    const days = dateRange('2020-01-01', 761);
    writeFileSync(file, `date,state,fips,cases,deaths\n${days.map((d, i) => `${d},Ohio,39,${i},0`).join('\n')}\n`);
    let built = 0;
    const stringify = JSON.stringify;
    const spy = jest.spyOn(JSON, 'stringify').mockImplementation((value: unknown, ...rest: unknown[]) => {
      const message = value as { part?: unknown; runId?: string } | null;
      if (message?.part !== undefined && message.runId?.startsWith('s-')) built += 1;
      return (stringify as (...args: unknown[]) => string)(value, ...rest);
    });
    const batches: { built: number; sent: number; planned: number }[] = [];
    let sent = 0;
    deps.transformerQueue = {
      async sendAll(messages: Iterable<OutgoingMessage>) {
        for (const batch of sqsBatches(messages)) {
          const runId = (JSON.parse(batch[0]?.body ?? '{}') as { runId: string }).runId;
          const planned = (await ledger.getRun(runId))?.months.length ?? 0;
          batches.push({ built, sent, planned });
          sent += batch.length;
        }
      },
    };

    // Act
    let result: Awaited<ReturnType<typeof run>>;
    try {
      result = await run(['state'], { states: pathToFileURL(file).href });
    } finally {
      spy.mockRestore();
    }

    // Assess: every batch built just before it was sent (10 bodies at most waiting), the 25 keys recorded first.
    expect(result.status).toBe('RUNNING');
    expect(sent).toBe(25);
    expect(batches).toEqual([
      { built: 10, sent: 0, planned: 25 },
      { built: 20, sent: 10, planned: 25 },
      { built: 25, sent: 20, planned: 25 },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the full counties file on a backfill, the recent one otherwise', async () => {
    // Prepare
    const full = path.join(dir, 'full.csv');
    const recent = path.join(dir, 'recent.csv');
    writeFileSync(full, 'date,county,state,fips,cases,deaths\n2020-03-01,Harris,Texas,48201,1,0\n');
    writeFileSync(recent, 'date,county,state,fips,cases,deaths\n2021-03-01,Harris,Texas,48201,9,0\n');
    const sources = { counties: pathToFileURL(full).href, 'counties-recent': pathToFileURL(recent).href };

    // Act
    const daily = await run(['county'], sources);
    const dailyParts = takeParts(sender).map((part) => part.part);
    const backfill = await run(['county'], sources, { backfill: 'counties' });
    const backfillParts = takeParts(sender).map((part) => part.part);

    // Assess
    expect(dailyParts).toEqual(['county/48/2021-03#01-01']);
    expect(backfillParts).toEqual(['county/48/2020-03#01-01']);
    expect((await ledger.getRun(daily.runId))?.sources.map((s) => s.id)).toEqual(['counties-recent']);
    expect((await ledger.getRun(backfill.runId))?.sources.map((s) => s.id)).toEqual(['counties']);
    rmSync(dir, { recursive: true, force: true });
  });
});

describeReal('states and counties in the fetcher (real files)', () => {
  it('sends exactly the days the independent diff changes, states in date order', async () => {
    // Prepare
    const early = snapshotPath('statesEarly');
    const late = snapshotPath('statesLate');
    const diff = diffGeoSnapshots(early, late);

    // Act
    await run(['state'], { states: copyAs(early, 'early.csv') });
    const first = takeParts(sender);
    await loadDayHashes(first);
    await run(['state'], { states: copyAs(late, 'late.csv') });
    const second = takeParts(sender);

    // Assess
    const keys = (parts: GeoChunkMessage[]) =>
      parts.flatMap((part) => part.records.map((record) => `${record.geo}|${record.date}`)).sort();
    expect(keys(first)).toEqual([...readGeoSnapshot(early).keys()].sort());
    expect(keys(second)).toEqual([...diff.inserted, ...diff.revised].sort());
    for (const part of [...first, ...second]) expect(part.baseline).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('plans the recent county file under the message limit and re-reads only the months it covers', async () => {
    // Prepare
    const recent = snapshotPath('countiesRecent');
    const first = await run(['county'], { 'counties-recent': copyAs(recent, 'a.csv') });
    const parts = takeParts(sender);
    await loadDayHashes(parts);
    geoLedger.read = [];
    geoSeries.read = [];

    // Act: the same content at another URL (no source baseline applies): every day compares equal.
    const again = await run(['county'], { 'counties-recent': copyAs(recent, 'b.csv') });

    // Assess
    const firstRun = await ledger.getRun(first.runId);
    expect(firstRun?.months).toHaveLength(parts.length);
    expect(parts.length).toBeGreaterThan(100);
    const specials = new Set(parts.flatMap((part) => part.records.map((r) => r.geo)).filter((g) => g.includes('-')));
    expect([...specials]).toEqual(expect.arrayContaining(['36-nyc', '29-kansas-city', '29-joplin', '72-unknown']));
    const largest = Math.max(...parts.map((part) => Buffer.byteLength(JSON.stringify(part))));
    expect(largest).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(sender.sent).toEqual([]);
    const covered = new Set(chunksCoveredBy('county', '2021-02-16', '2021-03-17').map((chunk) => chunk.key));
    expect(geoLedger.read.length).toBeGreaterThan(0);
    expect(geoSeries.read).toEqual([]);
    expect(geoLedger.geosRead).toEqual([]);
    for (const key of geoLedger.read) expect(covered.has(key)).toBe(true);
    const rerun = await ledger.getRun(again.runId);
    expect(rerun?.status).toBe('SUCCEEDED');
    expect(rerun?.geo?.county).toEqual(expect.objectContaining({ parts: 0, skippedDays: expect.any(Number) }));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('a county missing from the real rolling file', () => {
  /** A copy of the rolling file without the rows of `fips`. */
  function without(fips: string, name: string): string {
    const lines = readFileSync(snapshotPath('countiesRecent'), 'utf8').split('\n');
    const kept = lines.filter((line) => line.split(',')[3] !== fips);
    expect(kept.length).toBeLessThan(lines.length);
    const target = path.join(dir, name);
    writeFileSync(target, kept.join('\n'));
    return pathToFileURL(target).href;
  }

  it('holds the run naming the county, its dates and the file, reading one day-geographies item per changed chunk', async () => {
    // Prepare: the real rolling file loaded; the same file without Kent County, DE (10001).
    await run(['county'], { 'counties-recent': copyAs(snapshotPath('countiesRecent'), 'a.csv') });
    await loadDayHashes(takeParts(sender));

    // Act
    const result = await run(['county'], { 'counties-recent': without('10001', 'b.csv') });

    // Assess
    expect(result.status).toBe('HELD');
    expect(sender.sent).toEqual([]);
    expect(geoLedger.geosRead).toEqual(['county/10/2021-02', 'county/10/2021-03']);
    const heldRun = await ledger.getRun(result.runId);
    expect(heldRun?.summary?.gates).toEqual([
      {
        gate: 'missing-geographies',
        message:
          'counties (us-counties-recent.csv): geographies loaded on a date are missing from the file on that date in 1 county: ' +
          'County 10001, Delaware (10001): absent on 30 loaded date(s) (2021-02-16 to 2021-03-17)',
      },
    ]);
    expect(await held.getTrips(result.runId)).toEqual([
      expect.objectContaining({ gate: 'missing-geographies', level: 'county', geo: '10001' }),
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the run when every county of a state vanishes (its chunks are read though the file lacks them)', async () => {
    // Prepare: the real rolling file loaded; the same file without any Delaware row, and Providence,
    // RI (44007) revised up by 5 cases on its last day (a daily file always changes something).
    await run(['county'], { 'counties-recent': copyAs(snapshotPath('countiesRecent'), 'a.csv') });
    await loadDayHashes(takeParts(sender));
    const lines = readFileSync(snapshotPath('countiesRecent'), 'utf8').split('\n');
    const target = path.join(dir, 'no-delaware.csv');
    const edited = lines
      .filter((line) => line.split(',')[2] !== 'Delaware')
      .map((line) => {
        const cells = line.split(',');
        if (cells[0] !== '2021-03-17' || cells[3] !== '44007') return line;
        cells[4] = String(Number(cells[4]) + 5);
        return cells.join(',');
      });
    writeFileSync(target, edited.join('\n'));

    // Act
    const result = await run(['county'], { 'counties-recent': pathToFileURL(target).href });

    // Assess: Delaware's chunks are not in the file; their loaded dates are missing.
    expect(result.status).toBe('HELD');
    expect((await ledger.getRun(result.runId))?.summary?.gates).toEqual([
      {
        gate: 'missing-dates',
        message:
          'counties (us-counties-recent.csv): loaded dates are missing from the file in 1 state: ' +
          'Delaware (10) counties: 30 loaded date(s) missing (2021-02-16 to 2021-03-17)',
      },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says what a states file that sends nothing held: every row as loaded, or every row rejected (not "unchanged")', async () => {
    // Prepare: a states file loaded; then the same rows under another name (new bytes' URL, same
    // days); then a file of the same days whose every row has a bad deaths value.
    const rows = ['2021-03-01,Texas,48,100,1', '2021-03-02,Texas,48,110,1', '2021-03-01,Utah,49,50,0'];
    const write = (name: string, lines: string[]) => {
      const file = path.join(dir, name);
      writeFileSync(file, `date,state,fips,cases,deaths\n${lines.join('\n')}\n`);
      return pathToFileURL(file).href;
    };
    await run(['state'], { states: write('a.csv', rows) });
    await loadDayHashes(takeParts(sender));

    // Act
    const same = await run(['state'], { states: write('b.csv', rows) });
    const badDeaths = rows.map((row) => `${row.slice(0, -2)},x`);
    const rejected = await run(['state'], { states: write('c.csv', badDeaths) });

    // Assess
    expect(sender.sent).toEqual([]);
    expect([same.status, rejected.status]).toEqual(['SUCCEEDED', 'PARTIAL']);
    expect((await ledger.getRun(same.runId))?.summary?.note).toBe(
      'Nothing to load: every row of us-states.csv is as loaded (3 compared).',
    );
    expect((await ledger.getRun(rejected.runId))?.summary?.note).toBe(
      'Nothing to load: every row of us-states.csv was rejected.',
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a stale states file that changes no day: one ending before the loaded dates, or starting after them', async () => {
    // Prepare: Texas and Utah loaded for 2021-01-10..03-20 (catalogue included); then two files
    // of days exactly as loaded: one ending 02-28, one starting 02-01 (a full file lacks
    // Texas's and Utah's January).
    const dates = dateRange('2021-01-10', 70);
    const lines = (keep: (date: string) => boolean) =>
      dates.filter(keep).flatMap((date, i) => [`${date},Texas,48,${100 + i},1`, `${date},Utah,49,${50 + i},0`]);
    const write = (name: string, rows: string[]) => {
      const file = path.join(dir, name);
      writeFileSync(file, `date,state,fips,cases,deaths\n${rows.join('\n')}\n`);
      return pathToFileURL(file).href;
    };
    const all = lines(() => true);
    await run(['state'], { states: write('all.csv', all) });
    const parts = takeParts(sender);
    await loadParts(parts);
    await catalog.applyLoaded({ records: parts.flatMap((part) => part.records) });

    // Act
    const endsEarly = await run(['state'], { states: write('ends.csv', all.slice(0, 2 * 50)) });
    const startsLate = await run(['state'], { states: write('starts.csv', all.slice(2 * 22)) });

    // Assess: both HELD, nothing sent; the second names the 22 January days of each state.
    expect(sender.sent).toEqual([]);
    expect([endsEarly.status, startsLate.status]).toEqual(['HELD', 'HELD']);
    expect((await ledger.getRun(endsEarly.runId))?.summary?.gates).toEqual([
      {
        gate: 'last-date',
        message:
          'states (us-states.csv): the file ends before the loaded series in 2 states: ' +
          'Texas (48): last date 2021-02-28 is earlier than the loaded 2021-03-20; ' +
          'Utah (49): last date 2021-02-28 is earlier than the loaded 2021-03-20',
      },
    ]);
    expect((await ledger.getRun(startsLate.runId))?.summary?.gates).toEqual([
      {
        gate: 'missing-dates',
        message:
          'states (us-states.csv): loaded dates are missing from the file in 2 states: ' +
          'Texas (48): 22 loaded date(s) missing (2021-01-10 to 2021-01-31); ' +
          'Utah (49): 22 loaded date(s) missing (2021-01-10 to 2021-01-31)',
      },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the run when a whole state vanishes from a file that changes nothing else', async () => {
    // Prepare: the real rolling file loaded; the same file without any Delaware row, every other
    // row as loaded (so the run has no part to send).
    await run(['county'], { 'counties-recent': copyAs(snapshotPath('countiesRecent'), 'a.csv') });
    await loadDayHashes(takeParts(sender));
    const lines = readFileSync(snapshotPath('countiesRecent'), 'utf8').split('\n');
    const target = path.join(dir, 'only-no-delaware.csv');
    writeFileSync(target, lines.filter((line) => line.split(',')[2] !== 'Delaware').join('\n'));

    // Act
    const result = await run(['county'], { 'counties-recent': pathToFileURL(target).href });

    // Assess: held (not SUCCEEDED with nothing to do), Delaware named, nothing sent.
    expect(result.status).toBe('HELD');
    expect(sender.sent).toEqual([]);
    const heldRun = await ledger.getRun(result.runId);
    expect(heldRun?.summary?.gates).toEqual([
      {
        gate: 'missing-dates',
        message:
          'counties (us-counties-recent.csv): loaded dates are missing from the file in 1 state: ' +
          'Delaware (10) counties: 30 loaded date(s) missing (2021-02-16 to 2021-03-17)',
      },
    ]);
    expect(await held.getChunkKeys(result.runId)).toEqual([]);

    // Act / Assess: rejecting it changes nothing, so the same file is held again; approving that
    // loads nothing, keeps the values and ends the run SUCCEEDED; the approved file is then the
    // baseline (the same bytes again: unchanged).
    const rejected = await startRun({ trigger: 'manual', decision: { runId: result.runId, action: 'reject' } }, deps);
    expect(rejected.status).toBe('REJECTED');
    const again = await run(['county'], { 'counties-recent': pathToFileURL(target).href });
    expect(again.status).toBe('HELD');
    const approved = await startRun({ trigger: 'manual', decision: { runId: again.runId, action: 'approve' } }, deps);
    expect(approved.status).toBe('SUCCEEDED');
    expect(sender.sent).toEqual([]);
    expect((await ledger.getRun(again.runId))?.summary).toEqual(
      expect.objectContaining({ status: 'SUCCEEDED', counts: expect.objectContaining({ inserted: 0, updated: 0 }) }),
    );
    expect((await run(['county'], { 'counties-recent': pathToFileURL(target).href })).status).toBe('SUCCEEDED');
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the same file over a ledger from before the counties of each day were recorded (no trip)', async () => {
    // Prepare
    await run(['county'], { 'counties-recent': copyAs(snapshotPath('countiesRecent'), 'a.csv') });
    await loadDayHashes(takeParts(sender), { dayGeos: false });

    // Act
    const result = await run(['county'], { 'counties-recent': without('10001', 'b.csv') });

    // Assess: Delaware's 30 days are sent without Kent.
    expect(result.status).toBe('RUNNING');
    const parts = geoParts(sender);
    expect(new Set(parts.map((part) => part.chunk))).toEqual(new Set(['county/10/2021-02', 'county/10/2021-03']));
    expect(parts.flatMap((part) => part.records).filter((r) => r.geo === '10001')).toEqual([]);
    expect(parts.flatMap((part) => part.days)).toHaveLength(30);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('the data-quality gates of the states (synthetic files)', () => {
  const days = dateRange('2021-02-01', 31);
  /** Texas and Ohio rising over the first `count` days; `change` edits a row. */
  const statesCsv = (count: number, change: (state: string, i: number, cases: number) => number = (_, __, c) => c) =>
    `date,state,fips,cases,deaths\n${days
      .slice(0, count)
      .flatMap((date, i) =>
        [
          ['Ohio', '39'],
          ['Texas', '48'],
        ].map(([name, fips]) => `${date},${name},${fips},${change(fips as string, i, 100_000 + 1000 * i)},${100 + i}`),
      )
      .join('\n')}\n`;

  /** Loads 30 days of the nation and the states, then serves 31 days in which `change` edits the states. */
  async function loadThenServe(change: (state: string, i: number, cases: number) => number) {
    const file = (name: string, text: string) => {
      const target = path.join(dir, name);
      writeFileSync(target, text);
      return pathToFileURL(target).href;
    };
    const nation = (count: number, tag: string) => ({
      nyt: file(`us-${tag}.csv`, nytCsv(days.slice(0, count).map((date, i) => ({ date, cases: 1e6 + i, deaths: i })))),
      jhu: file(`jhu-${tag}.csv`, jhuCsv(days.slice(0, count).map((date) => ({ date, recovered: 0 })))),
    });
    await run(['nation', 'state'], { ...nation(30, 'a'), states: file('states-a.csv', statesCsv(30)) });
    await loadParts(takeParts(sender));
    sender.sent = [];
    geoSeries.read = [];
    return { ...nation(31, 'b'), states: file('states-b.csv', statesCsv(31, change)) };
  }

  it('holds the whole run when a state falls (the nation passing), sends nothing, and approve sends exactly the held snapshot', async () => {
    // Prepare: Texas's new day falls to 1,000 cases; Ohio's 2021-02-05, already loaded, is revised down to 50,000.
    const sources = await loadThenServe((fips, i, cases) =>
      fips === '48' && i === 30 ? 1_000 : fips === '39' && i === 4 ? 50_000 : cases,
    );

    // Act
    const result = await run(['nation', 'state'], sources);
    const sentWhileHeld = sender.sent.length;
    const hashesWhileHeld = await geoLedger.getDayHashes(['state/48/2021-03']);
    const keysWhileHeld = await held.getChunkKeys(result.runId);
    const approved = await startRun({ trigger: 'manual', decision: { runId: result.runId, action: 'approve' } }, deps);

    // Assess: held, nothing sent, only the revised day read from the data table.
    expect(result.status).toBe('HELD');
    expect(sentWhileHeld).toBe(0);
    // The snapshot's chunks are deleted once sent; its trips (read below) stay.
    expect(keysWhileHeld.length).toBeGreaterThan(0);
    expect(await held.getChunkKeys(result.runId)).toEqual([]);
    expect(geoSeries.read).toEqual(['39|2021-02-05']);
    expect([...(hashesWhileHeld.get('state/48/2021-03')?.keys() ?? [])]).toEqual(['2021-03-01', '2021-03-02']);
    const heldRun = await ledger.getRun(result.runId);
    expect(heldRun?.gates?.map((gate) => gate.gate)).toEqual(['cumulative-fall', 'revised-down']);
    expect(heldRun?.gates?.[0]?.message).toBe(
      'states (us-states.csv): a cumulative count falls from one day to the next beyond 10.0% and 1,000 in 2 states: ' +
        'Ohio (39): cases 103,000 on 2021-02-04 → 50,000 on 2021-02-05; Texas (48): cases 129,000 on 2021-03-02 → 1,000 on 2021-03-03',
    );
    expect(heldRun?.failure?.stage).toBe('gates');
    expect(heldRun?.failure?.reason).toMatch(
      /^Held: the snapshot tripped 2 data-quality gate\(s\): states .*Texas \(48\)/,
    );
    expect(await held.getTrips(result.runId)).toEqual([
      expect.objectContaining({ gate: 'cumulative-fall', geo: '39' }),
      expect.objectContaining({ gate: 'cumulative-fall', geo: '48' }),
      expect.objectContaining({
        gate: 'revised-down',
        geo: '39',
        message: 'Ohio (39): cases on 2021-02-05 104,000 → 50,000',
      }),
    ]);
    expect(heldRun?.geo?.state).toEqual(expect.objectContaining({ parts: 3, days: 3 }));

    // Assess: approve sends the nation's months and exactly the held parts.
    expect(approved.status).toBe('RUNNING');
    const months = sender.sent
      .map((message) => JSON.parse(message.body) as { month?: string })
      .flatMap((body) => (body.month === undefined ? [] : [body.month]));
    expect(months).toEqual(['2021-02', '2021-03']);
    const parts = geoParts(sender);
    expect(parts.map((part) => part.part)).toEqual([
      'state/39/2021-02#05-05',
      'state/39/2021-03#03-03',
      'state/48/2021-03#03-03',
    ]);
    expect(parts.flatMap((part) => part.records.map((r) => [r.geo, r.date, r.cases]))).toEqual([
      ['39', '2021-02-05', 50_000],
      ['39', '2021-03-03', 130_000],
      ['48', '2021-03-03', 1_000],
    ]);
    expect((await ledger.getRun(result.runId))?.months).toEqual([
      '2021-02',
      '2021-03',
      'state/39/2021-02#05-05',
      'state/39/2021-03#03-03',
      'state/48/2021-03#03-03',
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A held repository reading one chunk per page, noting in `events` every read of keys, page and single body. */
  function countingHeld(events: string[]): HeldRunRepository {
    const counting = new (class extends HeldRunRepository {
      override async getChunkKeys(runId: string) {
        events.push('keys');
        return super.getChunkKeys(runId);
      }
      override async getChunk(runId: string, month: string) {
        events.push(`body ${month}`);
        return super.getChunk(runId, month);
      }
      override async *chunkPages(runId: string) {
        for await (const page of super.chunkPages(runId)) {
          events.push(`page ${page.map((chunk) => chunk.month).join()}`);
          yield page;
        }
      }
    })(local.doc, ledgerTable, { pageItems: 1 });
    return counting;
  }

  /** Notes `plan` in `events` when the dispatch plan is recorded, and `send <id>` as each message is read. */
  function noteDispatch(events: string[]): void {
    const recordDispatchPlan = ledger.recordDispatchPlan.bind(ledger);
    deps.ledger = Object.assign(Object.create(ledger) as LedgerRepository, {
      recordDispatchPlan: async (...args: Parameters<LedgerRepository['recordDispatchPlan']>) => {
        events.push('plan');
        return recordDispatchPlan(...args);
      },
    });
    deps.transformerQueue = {
      async sendAll(messages: OutgoingMessages) {
        for await (const message of messages) {
          events.push(`send ${message.id}`);
          sender.sent.push(message);
        }
      },
    };
  }

  it('approve records the plan without reading a body, then sends each held chunk as its page is read', async () => {
    // Prepare: a run held by Texas (2 months of the nation, 3 parts); a held repository with pages of one chunk.
    const sources = await loadThenServe((fips, i, cases) =>
      fips === '48' && i === 30 ? 1_000 : fips === '39' && i === 4 ? 50_000 : cases,
    );
    const result = await run(['nation', 'state'], sources);
    const heldBodies = new Map<string, string>();
    for await (const page of held.chunkPages(result.runId)) for (const c of page) heldBodies.set(c.month, c.body);
    const heldKeys = await held.getChunkKeys(result.runId);
    const events: string[] = [];
    deps.held = countingHeld(events);
    noteDispatch(events);

    // Act
    const approved = await startRun({ trigger: 'manual', decision: { runId: result.runId, action: 'approve' } }, deps);

    // Assess: keys, then the plan, then each page followed by its message: the first message
    // goes before the last page is read, and no body is read to record the plan; last, the keys
    // again, to delete the chunks once all are sent.
    expect(approved.status).toBe('RUNNING');
    expect(events).toEqual([
      'keys',
      'plan',
      'page 2021-02',
      'send 2021_02',
      'page 2021-03',
      'send 2021_03',
      'page state/39/2021-02#05-05',
      'send state_39_2021_02_05_05',
      'page state/39/2021-03#03-03',
      'send state_39_2021_03_03_03',
      'page state/48/2021-03#03-03',
      'send state_48_2021_03_03_03',
      'keys',
    ]);
    expect(await held.getChunkKeys(result.runId)).toEqual([]);
    // The parts go as held, byte for byte; the plan holds every key with its hash.
    for (const part of geoParts(sender)) {
      const message = sender.sent.find((m) => m.id === part.part.replace(/[^A-Za-z0-9]/g, '_'));
      expect(message?.body).toBe(heldBodies.get(part.part));
    }
    const chunks = await ledger.listChunks(result.runId);
    expect(chunks.map((chunk) => [chunk.month, chunk.hash])).toEqual(heldKeys.map((key) => [key.month, key.hash]));
    rmSync(dir, { recursive: true, force: true });
  });

  it('approves a snapshot held before hashes were kept beside the bodies: the same plan and messages', async () => {
    // Prepare: two identical held runs; one's held items lose their hash (as written before).
    const sources = await loadThenServe((fips, i, cases) => (fips === '48' && i === 30 ? 1_000 : cases));
    const current = await run(['nation', 'state'], sources);
    const legacy = await run(['nation', 'state'], sources);
    const legacyKeys = await held.getChunkKeys(legacy.runId);
    for (const key of legacyKeys) {
      await local.doc.send(
        new UpdateCommand({
          TableName: ledgerTable,
          Key: { pk: `RUN#${legacy.runId}`, sk: `HELD#${key.month}` },
          UpdateExpression: 'REMOVE #hash',
          ExpressionAttributeNames: { '#hash': 'hash' },
        }),
      );
    }
    const approve = async (runId: string) => {
      sender.sent = [];
      const result = await startRun({ trigger: 'manual', decision: { runId, action: 'approve' } }, deps);
      const sent = sender.sent.map((m) => ({ id: m.id, body: m.body.replaceAll(runId, '<run>') }));
      const plan = (await ledger.listChunks(runId)).map((chunk) => [chunk.month, chunk.hash]);
      return { status: result.status, sent, plan, months: (await ledger.getRun(runId))?.months };
    };
    const events: string[] = [];
    const hashless = await held.getChunkKeys(legacy.runId);

    // Act
    const expected = await approve(current.runId);
    deps.held = countingHeld(events);
    const approved = await approve(legacy.runId);

    // Assess: the hashes come from the old items' bodies, one read each; then the same dispatch.
    expect(legacyKeys.map((key) => key.hash)).toEqual(legacyKeys.map(() => expect.any(String)));
    expect(hashless).toEqual(legacyKeys.map((key) => ({ month: key.month })));
    expect(await held.getChunkKeys(legacy.runId)).toEqual([]);
    expect(events.filter((event) => event.startsWith('body '))).toEqual(legacyKeys.map((key) => `body ${key.month}`));
    expect(expected.sent.length).toBeGreaterThan(2);
    expect(approved).toEqual(expected);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an approve whose dispatch is interrupted finishes it when approved again, sending every held chunk', async () => {
    // Prepare: a held run; a queue that fails after the first message.
    const sources = await loadThenServe((fips, i, cases) => (fips === '48' && i === 30 ? 1_000 : cases));
    const result = await run(['nation', 'state'], sources);
    const decision = { trigger: 'manual' as const, decision: { runId: result.runId, action: 'approve' as const } };
    sender.failAfter = 1;

    // Act
    const interrupted = await startRun(decision, deps).catch((error: Error) => error.message);
    const afterInterruption = (await ledger.getRun(result.runId))?.dispatch;
    const keptAfterInterruption = (await held.getChunkKeys(result.runId)).length;
    sender.sent = [];
    const resumed = await startRun(decision, deps);
    const again = await startRun(decision, deps);

    // Assess: the second approve sends the whole plan; the third joins.
    expect(afterInterruption).toBe('PENDING');
    expect(keptAfterInterruption).toBeGreaterThan(0);
    expect(await held.getChunkKeys(result.runId)).toEqual([]);
    expect(interrupted).toBe('SendMessageBatch still failing after retries');
    expect(resumed).toMatchObject({ joined: false, status: 'RUNNING' });
    const resumedRun = await ledger.getRun(result.runId);
    expect(resumedRun?.dispatch).toBe('SENT');
    expect(sender.sent.map((m) => m.id)).toEqual(
      (resumedRun?.months ?? []).map((key) => key.replace(/[^A-Za-z0-9]/g, '_')),
    );
    expect(again).toMatchObject({ joined: true, status: 'RUNNING' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('reject ends a run held by a state REJECTED with nothing sent', async () => {
    // Prepare
    const sources = await loadThenServe((fips, i, cases) => (fips === '48' && i === 30 ? 1_000 : cases));
    const result = await run(['nation', 'state'], sources);

    // Act
    const rejected = await startRun({ trigger: 'manual', decision: { runId: result.runId, action: 'reject' } }, deps);

    // Assess: the held chunks are deleted, the trips kept (etl trips).
    expect(result.status).toBe('HELD');
    expect(rejected.status).toBe('REJECTED');
    expect(sender.sent).toEqual([]);
    expect((await ledger.getRun(result.runId))?.status).toBe('REJECTED');
    expect(await held.getChunkKeys(result.runId)).toEqual([]);
    expect(await held.getTrips(result.runId)).toEqual([
      expect.objectContaining({ gate: 'cumulative-fall', geo: '48' }),
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a states file that only adds a rising day, reading nothing from the data table', async () => {
    // Prepare
    const sources = await loadThenServe((_, __, cases) => cases);

    // Act
    const result = await run(['nation', 'state'], sources);

    // Assess
    expect(result.status).toBe('RUNNING');
    expect(geoSeries.read).toEqual([]);
    expect(geoParts(sender).map((part) => part.part)).toEqual(['state/39/2021-03#03-03', 'state/48/2021-03#03-03']);
    // Their chunks have day hashes (March 1 and 2): not new.
    expect(geoParts(sender).map((part) => part.newChunk)).toEqual([undefined, undefined]);
    rmSync(dir, { recursive: true, force: true });
  });
});
