/**
 * The source behaviours of issue 9, each against a real local HTTP server, the real downloader
 * and the ledger and data tables on dynalite: the loader is stood in for by writing each sent
 * chunk's records to the data table (as the loader would), so what a run would load is visible.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  DEFAULT_SOURCE_URLS,
  type NationalSourceId,
  type RunStatus,
  TransformChunkMessage,
} from '@covid-etl/contracts';
import { transformChunk } from '@covid-etl/core';
import {
  createLogger,
  dayWritten,
  HeldRunRepository,
  type LedgerRepository,
  RunFinalizer,
  type SeriesRepository,
} from '@covid-etl/platform';
import { dateRange, jhuCsv, nytCsv, type SourceServer, startSourceServer } from '@covid-etl/testing';
import {
  CapturingPublisher,
  CapturingSender,
  type LocalTables,
  startLocalTables,
  TestClock,
} from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type FetcherDeps, HttpSourceDownloader, UrlPolicy } from '../src/app.js';
import { startRun } from '../src/use-cases/start-run.js';

const LAST_MODIFIED = 'Tue, 24 Nov 2026 10:00:00 GMT';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** NYT and JHU bodies for `count` days from 2020-03-01; `bump` adds to a day's cases. */
function bodies(count: number, bump: (date: string) => number = () => 0) {
  const days = dateRange('2020-03-01', count);
  return {
    nyt: nytCsv(days.map((date, i) => ({ date, cases: 100_000 + 1000 * i + bump(date), deaths: 10 + i }))),
    jhu: jhuCsv(days.map((date, i) => ({ date, recovered: i }))),
  };
}

let local: LocalTables;
let server: SourceServer;
let ledger: LedgerRepository;
let series: SeriesRepository;
let sender: CapturingSender;
let events: CapturingPublisher;
let logLines: string[];
let deps: FetcherDeps;
const clock = new TestClock(new Date('2026-11-25T06:00:05.000Z'));

beforeAll(async () => {
  local = await startLocalTables();
  server = await startSourceServer();
});

afterAll(async () => {
  await server.close();
  await local.close();
});

beforeEach(async () => {
  const tables = await local.tables();
  ({ ledger, series } = tables);
  sender = new CapturingSender();
  events = new CapturingPublisher();
  logLines = [];
  const logger = createLogger({
    service: 'fetcher',
    level: 'debug',
    destination: new Writable({
      write(chunk, _encoding, callback) {
        logLines.push(String(chunk));
        callback();
      },
    }) as never,
  });
  deps = {
    environment: 'local',
    defaultUrls: DEFAULT_SOURCE_URLS,
    ledger,
    held: new HeldRunRepository(local.doc, tables.ledgerTable),
    series,
    transformerQueue: sender,
    downloader: new HttpSourceDownloader({ timeoutMs: 5_000, maxAttempts: 1 }),
    finalizer: new RunFinalizer({ ledger, events, logger, clock }),
    clock,
    logger,
  };
});

/** Stands in for the transformer and loader: writes every sent chunk's records, marks it loaded, finishes. */
async function loadSent(runId: string): Promise<void> {
  for (const message of sender.sent.splice(0)) {
    const chunk = TransformChunkMessage.parse(JSON.parse(message.body));
    if (chunk.runId !== runId) continue;
    const { records } = transformChunk(chunk);
    const stored = await series.getMonth(chunk.month);
    let inserted = 0;
    let updated = 0;
    const changed = [];
    for (const record of records) {
      const previous = stored.get(record.date);
      if (previous && previous.cases === record.cases && previous.deaths === record.deaths) continue;
      changed.push(dayWritten(record, previous, { runId, runStartedAt: clock.now().toISOString(), now: clock.now() }));
      if (previous) updated += 1;
      else inserted += 1;
    }
    await series.writeChanges(changed);
    await ledger.markChunkLoaded(runId, chunk.month, {
      counts: { inserted, updated, unchanged: records.length - inserted - updated },
      rejected: [],
      dateRange: null,
    });
    await ledger.putMonthState({ month: chunk.month, hash: chunk.hash, records: records.length, runId });
    await ledger.recordChunkLoaded(runId, chunk.month);
  }
  await deps.finalizer.finishIfComplete(runId);
}

/** One manual run on these URLs, loaded to its end. */
async function run(urls: Record<NationalSourceId, string>): Promise<{ runId: string; status: RunStatus }> {
  const started = await startRun({ trigger: 'manual', sources: urls }, deps);
  await loadSent(started.runId);
  const finished = await ledger.getRun(started.runId);
  return { runId: started.runId, status: finished?.status ?? 'RUNNING' };
}

const serve = (path: string, body: string, extra: { lastModified?: string; truncateAfterLines?: number } = {}) =>
  server.set(path, { body, ...extra });

describe('validators belong to one URL (behaviour 1)', () => {
  it('sends no validators to a changed URL, loads its data, and the summary names the bytes read', async () => {
    // Prepare: a server that honours If-Modified-Since; the operator points NYT at another file.
    const before = bodies(40);
    const after = bodies(50);
    serve('/v1/nyt.csv', before.nyt, { lastModified: LAST_MODIFIED });
    serve('/v1/jhu.csv', before.jhu, { lastModified: LAST_MODIFIED });
    serve('/v2/nyt.csv', after.nyt, { lastModified: LAST_MODIFIED });
    serve('/v2/jhu.csv', after.jhu, { lastModified: LAST_MODIFIED });
    const first = await run({ nyt: server.url('/v1/nyt.csv'), jhu: server.url('/v1/jhu.csv') });
    const seen = server.requests.length;

    // Act
    const second = await run({ nyt: server.url('/v2/nyt.csv'), jhu: server.url('/v2/jhu.csv') });

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(second.status).toBe('SUCCEEDED');
    // Both at once: in either order.
    expect(server.requests.slice(seen).sort((a, b) => b.path.localeCompare(a.path))).toEqual([
      { path: '/v2/nyt.csv', status: 200 },
      { path: '/v2/jhu.csv', status: 200 },
    ]);
    expect(await series.query()).toHaveLength(50);
    const summary = (await ledger.getRun(second.runId))?.summary;
    expect(summary?.sources.map((s) => [s.id, s.sha256, s.notModified ?? false])).toEqual([
      ['nyt', sha256(after.nyt), false],
      ['jhu', sha256(after.jhu), false],
    ]);
    expect(summary?.sources[0]).toMatchObject({ rows: 50, firstDate: '2020-03-01', lastDate: '2020-04-19' });
  });

  it('a 304 from the same URL names the bytes that URL last delivered', async () => {
    // Prepare
    const files = bodies(40);
    serve('/same/nyt.csv', files.nyt, { lastModified: LAST_MODIFIED });
    serve('/same/jhu.csv', files.jhu, { lastModified: LAST_MODIFIED });
    const urls = { nyt: server.url('/same/nyt.csv'), jhu: server.url('/same/jhu.csv') };
    await run(urls);
    const seen = server.requests.length;

    // Act
    const again = await run(urls);

    // Assess
    expect(server.requests.slice(seen).map((r) => r.status)).toEqual([304, 304]);
    const summary = (await ledger.getRun(again.runId))?.summary;
    expect(summary?.sources.map((s) => [s.sha256, s.notModified])).toEqual([
      [sha256(files.nyt), true],
      [sha256(files.jhu), true],
    ]);
  });
});

describe('a snapshot is compared with what is loaded before any write (behaviours 2 and 3)', () => {
  it('holds a body truncated at a line end without Content-Length; the full file then loads', async () => {
    // Prepare: 134 days loaded; the publisher adds a day, and the server cuts the new body after 76 days.
    const v1 = bodies(134);
    const v2 = bodies(135);
    serve('/t/nyt.csv', v1.nyt);
    serve('/t/jhu.csv', v1.jhu);
    const urls = { nyt: server.url('/t/nyt.csv'), jhu: server.url('/t/jhu.csv') };
    const first = await run(urls);
    serve('/t/nyt.csv', v2.nyt, { truncateAfterLines: 77 });
    serve('/t/jhu.csv', v2.jhu);

    // Act
    const truncated = await run(urls);
    const afterTruncated = await series.query();
    const baseline = await ledger.getSourceBaseline(
      'nyt',
      (await ledger.getRun(truncated.runId))?.sources[0]?.urlKey ?? '',
    );
    serve('/t/nyt.csv', v2.nyt);
    const next = await run(urls);

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(truncated.status).toBe('HELD');
    const held = await ledger.getRun(truncated.runId);
    expect(held?.sources[0]).toMatchObject({ rows: 76, lastDate: '2020-05-15' });
    expect(held?.summary?.gates?.map((g) => g.gate)).toEqual(['last-date', 'missing-dates']);
    expect(held?.failure?.reason).toContain('58 loaded date(s) are missing');
    expect(held?.failure?.reason).toContain(`pnpm etl approve ${truncated.runId}`);
    expect(afterTruncated).toHaveLength(134);
    expect(baseline).toMatchObject({ runId: first.runId, rows: 134, sha256: sha256(v1.nyt) });
    expect(next.status).toBe('SUCCEEDED');
    expect(await series.query()).toHaveLength(135);
    const outcomes = events.published.map((e) => [
      e.detailType,
      (e.detail as { summary: { status: string } }).summary.status,
    ]);
    expect(outcomes).toEqual([
      ['EtlRunCompleted', 'SUCCEEDED'],
      ['EtlRunFailed', 'HELD'],
      ['EtlRunCompleted', 'SUCCEEDED'],
    ]);
  });

  it('holds an older snapshot (a stale mirror) and writes nothing', async () => {
    // Prepare: 120 days loaded, then the mirror serves a 60-day file with values revised down.
    const newer = bodies(120);
    const older = bodies(60, () => -20_000);
    serve('/o/nyt.csv', newer.nyt);
    serve('/o/jhu.csv', newer.jhu);
    const urls = { nyt: server.url('/o/nyt.csv'), jhu: server.url('/o/jhu.csv') };
    await run(urls);
    const loaded = await series.query();
    serve('/o/nyt.csv', older.nyt);
    serve('/o/jhu.csv', older.jhu);

    // Act
    const stale = await run(urls);

    // Assess
    expect(stale.status).toBe('HELD');
    const reason = (await ledger.getRun(stale.runId))?.failure?.reason ?? '';
    expect(reason).toContain("the snapshot's last date 2020-04-29 is earlier than the loaded 2020-06-28");
    expect(reason).toContain('60 loaded date(s) are missing from the snapshot (2020-04-30 to 2020-06-28)');
    expect(reason).toMatch(/60 loaded value\(s\) revised down/);
    expect(await series.query()).toEqual(loaded);
    expect(sender.sent).toEqual([]);
  });
});

describe('the URL policy holds on every redirect hop (behaviour 4)', () => {
  it('refuses a redirect to a host outside the allow-list, before requesting it', async () => {
    // Prepare
    const files = bodies(10);
    serve('/r/nyt.csv', files.nyt);
    serve('/r/jhu.csv', files.jhu);
    server.set('/moved/nyt.csv', { redirect: server.url('/r/nyt.csv').replace('127.0.0.1', 'localhost') });
    deps.downloader = new HttpSourceDownloader({
      maxAttempts: 1,
      policy: new UrlPolicy({ environment: 'local', allowedHosts: ['127.0.0.1'] }),
    });
    const seen = server.requests.length;

    // Act
    const result = await run({ nyt: server.url('/moved/nyt.csv'), jhu: server.url('/r/jhu.csv') });

    // Assess
    expect(result.status).toBe('FAILED');
    expect((await ledger.getRun(result.runId))?.failure?.reason).toMatch(
      /^nyt URL "http:\/\/localhost:\d+\/r\/nyt\.csv" \(redirect 1 from http:\/\/127\.0\.0\.1:\d+\/moved\/nyt\.csv\) is refused: host localhost is not in the allowed hosts \(127\.0\.0\.1\)$/,
    );
    // The refused hop is never requested (jhu, on the allowed host, is requested beside nyt).
    expect(
      server.requests
        .slice(seen)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/moved/nyt.csv', '/r/jhu.csv']);
    expect(await series.query()).toEqual([]);
  });

  it('follows a redirect within the policy', async () => {
    // Prepare
    const files = bodies(10);
    serve('/ok/nyt.csv', files.nyt);
    serve('/ok/jhu.csv', files.jhu);
    server.set('/alias/nyt.csv', { redirect: '/ok/nyt.csv', status: 301 });

    // Act
    const result = await run({ nyt: server.url('/alias/nyt.csv'), jhu: server.url('/ok/jhu.csv') });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(await series.query()).toHaveLength(10);
  });
});

describe('secrets in URLs appear nowhere (behaviour 5)', () => {
  it('keeps user:password and ?token= out of logs, the ledger, events and errors', async () => {
    // Prepare
    const files = bodies(20);
    serve('/s/nyt.csv', files.nyt);
    serve('/s/jhu.csv', files.jhu);
    const secret = (path: string) => `${server.url(path).replace('://', '://operator:hunter2@')}?token=TOPSECRET`;

    // Act
    const ok = await run({ nyt: secret('/s/nyt.csv'), jhu: secret('/s/jhu.csv') });
    const failed = await run({ nyt: secret('/s/missing.csv'), jhu: secret('/s/jhu.csv') });

    // Assess
    expect(ok.status).toBe('SUCCEEDED');
    expect(failed.status).toBe('FAILED');
    const reason = (await ledger.getRun(failed.runId))?.failure?.reason ?? '';
    expect(reason).toMatch(/^nyt: http:\/\/127\.0\.0\.1:\d+\/s\/missing\.csv answered HTTP 404/);
    const everything = JSON.stringify([
      logLines,
      await ledger.listRuns(),
      await ledger.listSourceBaselines(),
      events.published,
    ]);
    expect(everything).toContain('/s/nyt.csv');
    expect(everything).not.toMatch(/hunter2|TOPSECRET|operator:/);
  });
});

describe('a HELD run and the decisions on it', () => {
  /** 120 days loaded from /h/*, then a 60-day stale file held. */
  async function heldRun() {
    const newer = bodies(120);
    serve('/h/nyt.csv', newer.nyt);
    serve('/h/jhu.csv', newer.jhu);
    const urls = { nyt: server.url('/h/nyt.csv'), jhu: server.url('/h/jhu.csv') };
    const first = await run(urls);
    const older = bodies(60, () => -20_000);
    serve('/h/nyt.csv', older.nyt);
    serve('/h/jhu.csv', older.jhu);
    const held = await run(urls);
    return { urls, first, held };
  }

  it('the next scheduled run holds the same snapshot again, naming the held run, and loads nothing', async () => {
    // Prepare
    const { urls, held } = await heldRun();
    const loaded = await series.query();

    // Act
    const next = await startRun({ trigger: 'schedule', scheduledTime: '2026-11-26T06:00:00Z', sources: urls }, deps);

    // Assess
    expect(held.status).toBe('HELD');
    expect(next.status).toBe('HELD');
    expect((await ledger.getRun(next.runId))?.summary?.note).toBe(
      `The same snapshot is already held by ${held.runId}.`,
    );
    expect(sender.sent).toEqual([]);
    expect(await series.query()).toEqual(loaded);
  });

  it('approve loads exactly the held snapshot and counts it exactly; approving again sends nothing', async () => {
    // Prepare
    const { held } = await heldRun();
    const decision = { runId: held.runId, action: 'approve' as const, by: 'alice' };

    // Act
    const approved = await startRun({ trigger: 'manual', decision }, deps);
    const sent = sender.sent.length;
    await loadSent(held.runId);
    const again = await startRun({ trigger: 'manual', decision }, deps);

    // Assess
    expect(approved).toEqual({ runId: held.runId, joined: false, status: 'RUNNING', chunks: 2 });
    expect(sent).toBe(2);
    const run = await ledger.getRun(held.runId);
    expect(run).toMatchObject({ status: 'SUCCEEDED', decision: { action: 'approve', by: 'alice' } });
    expect(run?.summary?.counts).toEqual({ inserted: 0, updated: 60, unchanged: 0, rejected: 0 });
    expect(run?.summary?.gates?.map((g) => g.gate)).toEqual(['last-date', 'missing-dates', 'revised-down']);
    const table = await series.query();
    expect(table).toHaveLength(120);
    expect(table.slice(0, 60).every((day, i) => day.cases === 80_000 + 1000 * i)).toBe(true);
    expect(table.slice(60).every((day, i) => day.cases === 160_000 + 1000 * i)).toBe(true);
    expect(again).toMatchObject({ runId: held.runId, joined: true, status: 'SUCCEEDED' });
    expect(sender.sent).toEqual([]);
    expect(await ledger.getSourceBaseline('nyt', run?.sources[0]?.urlKey ?? '')).toMatchObject({ runId: held.runId });
  });

  it('reject ends the run REJECTED, writes nothing, keeps the baselines, and cannot be approved afterwards', async () => {
    // Prepare
    const { first, held } = await heldRun();
    const loaded = await series.query();
    const baselines = await ledger.listSourceBaselines();

    // Act
    const rejected = await startRun({ trigger: 'manual', decision: { runId: held.runId, action: 'reject' } }, deps);
    const approving = startRun({ trigger: 'manual', decision: { runId: held.runId, action: 'approve' } }, deps);

    // Assess
    expect(rejected).toEqual({ runId: held.runId, joined: false, status: 'REJECTED', chunks: 0 });
    await expect(approving).rejects.toThrow(
      `Run ${held.runId} is REJECTED (it was rejected): only a HELD run can be approved`,
    );
    expect((await ledger.getRun(held.runId))?.summary?.status).toBe('REJECTED');
    expect(await series.query()).toEqual(loaded);
    expect(await ledger.listSourceBaselines()).toEqual(baselines);
    expect(baselines.every((baseline) => baseline.runId === first.runId)).toBe(true);
    expect(sender.sent).toEqual([]);
  });
});
