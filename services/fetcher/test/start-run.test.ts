import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_SOURCE_URLS, type SourceId, TransformChunkMessage } from '@covid-etl/contracts';
import { HeldRunRepository, type LedgerRepository, RunFinalizer, silentLogger } from '@covid-etl/platform';
import { dateRange, jhuCsv, lambdaContext, nytCsv } from '@covid-etl/testing';
import {
  CapturingPublisher,
  CapturingSender,
  type LocalTables,
  startLocalTables,
  TestClock,
} from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  createHandler,
  type FetcherDeps,
  HttpSourceDownloader,
  type SourceDownloader,
  type SourceRequest,
  type SourceResponse,
  SourceUnavailableError,
} from '../src/app.js';
import { startRun } from '../src/use-cases/start-run.js';

const SCHEDULED = '2026-11-25T06:00:00Z';
const SCHEDULED_RUN = 's-20261125T060000Z';
const SHA = 'c'.repeat(64);

/** Serves in-memory CSV bodies as downloaded files; ETags are honoured like a real server's. */
class FakeDownloader implements SourceDownloader {
  readonly requests: SourceRequest[] = [];
  readonly bodies: Partial<Record<SourceId, string>> = { nyt: '', jhu: '' };
  readonly failures: Partial<Record<SourceId, Error>> = {};
  readonly files: string[] = [];
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'fetcher-start-run-'));

  async download(request: SourceRequest): Promise<SourceResponse> {
    this.requests.push(request);
    const failure = this.failures[request.id];
    if (failure) throw failure;
    const body = this.bodies[request.id] ?? '';
    const sha256 = createHash('sha256').update(body).digest('hex');
    const etag = `"${sha256.slice(0, 12)}"`;
    if (request.etag === etag) return { status: 'not-modified' };
    const file = path.join(this.dir, `${request.id}-${this.requests.length}.csv`);
    writeFileSync(file, body);
    this.files.push(file);
    return {
      status: 'ok',
      file,
      sha256,
      bytes: Buffer.byteLength(body),
      etag,
      dispose: async () => rmSync(file, { force: true }),
    };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The months of the transformer chunks the fetcher sent. */
function sentMonths(sender: CapturingSender): string[] {
  return sender.sent.map((message) => TransformChunkMessage.parse(JSON.parse(message.body)).month);
}

let local: LocalTables;
let ledger: LedgerRepository;
let downloader: FakeDownloader;
let sender: CapturingSender;
let events: CapturingPublisher;
let clock: TestClock;
let deps: FetcherDeps;

/** March to May 2020: 92 days in both sources. */
function sources(days = dateRange('2020-03-01', 92), change: (date: string) => number = () => 0) {
  return {
    nyt: nytCsv(days.map((date, i) => ({ date, cases: 100 + i + change(date), deaths: i }))),
    jhu: jhuCsv(days.map((date) => ({ date, recovered: 0 }))),
  };
}

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  downloader?.close();
  await local.close();
});

beforeEach(async () => {
  const tables = await local.tables();
  ({ ledger } = tables);
  downloader?.close();
  downloader = new FakeDownloader();
  Object.assign(downloader.bodies, sources());
  sender = new CapturingSender();
  events = new CapturingPublisher();
  clock = new TestClock(new Date('2026-11-25T06:00:05.000Z'));
  const logger = silentLogger();
  deps = {
    environment: 'dev',
    defaultUrls: DEFAULT_SOURCE_URLS,
    ledger,
    held: new HeldRunRepository(local.doc, tables.ledgerTable),
    series: tables.series,
    transformerQueue: sender,
    downloader,
    finalizer: new RunFinalizer({ ledger, events, logger, clock }),
    clock,
    logger,
  };
});

/** What the loader would do for each chunk of `months`: mark it loaded, remember the month, try to finish. */
async function loadChunks(runId: string, months: string[]) {
  for (const month of months) {
    const chunk = await ledger.getChunk(runId, month);
    await ledger.markChunkLoaded(runId, month, {
      counts: { inserted: 1, updated: 0, unchanged: 0 },
      rejected: [],
      dateRange: null,
    });
    await ledger.putMonthState({ month, hash: chunk?.hash ?? '', records: 30, runId });
    await deps.finalizer.finishIfComplete(runId, await ledger.recordChunkLoaded(runId, month));
  }
}

describe('startRun', () => {
  it('records the run first, then sends one message per month and marks the dispatch', async () => {
    // Act
    const result = await startRun({ trigger: 'schedule', scheduledTime: SCHEDULED }, deps);

    // Assess
    expect(result).toEqual({ runId: SCHEDULED_RUN, joined: false, status: 'RUNNING', chunks: 3 });
    expect(sentMonths(sender)).toEqual(['2020-03', '2020-04', '2020-05']);
    const first = TransformChunkMessage.parse(JSON.parse(sender.sent[0]?.body ?? ''));
    expect(first.nyt).toHaveLength(31);
    expect(first.jhu).toHaveLength(31);
    const run = await ledger.getRun(SCHEDULED_RUN);
    expect(run).toMatchObject({
      status: 'RUNNING',
      trigger: 'schedule',
      dispatch: 'SENT',
      months: ['2020-03', '2020-04', '2020-05'],
      skipped: { months: 0, records: 0 },
    });
    expect(run?.sources.map((source) => source.id)).toEqual(['nyt', 'jhu']);
    const hashes = sender.sent.map((message) => TransformChunkMessage.parse(JSON.parse(message.body)).hash);
    const chunks = await ledger.listChunks(SCHEDULED_RUN);
    expect(chunks.map((chunk) => [chunk.month, chunk.stage, chunk.hash])).toEqual([
      ['2020-03', 'SENT', hashes[0]],
      ['2020-04', 'SENT', hashes[1]],
      ['2020-05', 'SENT', hashes[2]],
    ]);
    expect(downloader.files.every((file) => !existsSync(file))).toBe(true);
  });

  it("starts a run of its own for the counties backfill schedule fired at the daily run's time", async () => {
    // Prepare
    await startRun({ trigger: 'schedule', scheduledTime: SCHEDULED }, deps);
    clock.advance(60_000);

    // Act
    const backfill = await startRun({ trigger: 'schedule', backfill: 'counties', scheduledTime: SCHEDULED }, deps);

    // Assess
    expect(backfill.runId).toBe(`${SCHEDULED_RUN}-counties`);
    expect(backfill.joined).toBe(false);
    expect((await ledger.listRuns()).map((run) => run.runId).sort()).toEqual([
      SCHEDULED_RUN,
      `${SCHEDULED_RUN}-counties`,
    ]);
  });

  it('joins the run of a duplicate scheduled invocation without downloading or sending again', async () => {
    // Prepare
    await startRun({ trigger: 'schedule', scheduledTime: SCHEDULED }, deps);
    const requests = downloader.requests.length;
    clock.advance(60_000);

    // Act
    const duplicate = await startRun({ trigger: 'schedule', scheduledTime: SCHEDULED }, deps);

    // Assess
    expect(duplicate).toEqual({ runId: SCHEDULED_RUN, joined: true, status: 'RUNNING', chunks: 3 });
    expect(sender.sent).toHaveLength(3);
    expect(downloader.requests).toHaveLength(requests);
    expect(await ledger.listRuns()).toHaveLength(1);
  });

  it('gives every manual run its own id', async () => {
    // Act
    const first = await startRun({ trigger: 'manual' }, deps);
    const second = await startRun({ trigger: 'manual' }, deps);

    // Assess
    expect(first.runId).toMatch(/^m-20261125T060005Z-[0-9a-f]{6}$/);
    expect(second.runId).not.toBe(first.runId);
    expect(second.joined).toBe(false);
  });

  it('ends the run FAILED with the reason on a structural error, and sends nothing', async () => {
    // Prepare: NYT renamed a column.
    downloader.bodies.nyt = (downloader.bodies.nyt ?? '').replace('date,cases,deaths', 'date,cases,death');

    // Act
    const result = await startRun({ trigger: 'schedule', scheduledTime: SCHEDULED }, deps);

    // Assess
    expect(result).toEqual({ runId: SCHEDULED_RUN, joined: false, status: 'FAILED', chunks: 0 });
    expect(sender.sent).toEqual([]);
    const run = await ledger.getRun(SCHEDULED_RUN);
    expect(run?.status).toBe('FAILED');
    expect(run?.failure?.stage).toBe('fetch');
    expect(run?.failure?.reason).toMatch(/^nyt line 1: .*deaths.*\(The New York Times us\.csv\)$/);
    expect(await ledger.listChunks(SCHEDULED_RUN)).toEqual([]);
    expect(events.published).toEqual([
      {
        detailType: 'EtlRunFailed',
        detail: expect.objectContaining({
          reason: run?.failure?.reason,
          summary: expect.objectContaining({ status: 'FAILED' }),
        }),
      },
    ]);
    expect(await ledger.listSourceBaselines()).toEqual([]);
  });

  it.each(['nyt', 'jhu'] as const)(
    'disposes of the other source downloaded when %s cannot be downloaded',
    async (failing) => {
      // Prepare
      downloader.failures[failing] = new SourceUnavailableError(failing, 'answered HTTP 503 Service Unavailable');

      // Act
      const result = await startRun({ trigger: 'manual' }, deps);

      // Assess: the other source was downloaded (both are requested at once), then removed.
      expect(result.status).toBe('FAILED');
      expect(downloader.requests.map((request) => request.id).sort()).toEqual(['jhu', 'nyt']);
      expect(downloader.files).toHaveLength(1);
      expect(downloader.files.every((file) => !existsSync(file))).toBe(true);
    },
  );

  it('ends the run FAILED, naming the source, when a source cannot be downloaded', async () => {
    // Prepare
    downloader.failures.jhu = new SourceUnavailableError(
      'jhu',
      'https://example.org/jhu.csv answered HTTP 404 Not Found',
    );

    // Act
    const result = await startRun({ trigger: 'manual' }, deps);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(sender.sent).toEqual([]);
    expect((await ledger.getRun(result.runId))?.failure?.reason).toBe(
      'jhu: https://example.org/jhu.csv answered HTTP 404 Not Found (Johns Hopkins CSSE via datasets/covid-19)',
    );
  });

  it('ends SUCCEEDED with a note and sends nothing when both sources answer 304', async () => {
    // Prepare: a first run that loaded everything and so left source baselines.
    const first = await startRun({ trigger: 'manual' }, deps);
    await loadChunks(first.runId, ['2020-03', '2020-04', '2020-05']);
    sender.sent.length = 0;
    events.published.length = 0;

    // Act
    const result = await startRun({ trigger: 'schedule', scheduledTime: SCHEDULED }, deps);

    // Assess
    expect(result).toEqual({ runId: SCHEDULED_RUN, joined: false, status: 'SUCCEEDED', chunks: 0 });
    expect(sender.sent).toEqual([]);
    expect(downloader.requests.slice(-2).map((request) => request.etag)).toEqual([
      expect.stringMatching(/^"/),
      expect.stringMatching(/^"/),
    ]);
    const run = await ledger.getRun(SCHEDULED_RUN);
    const note = `Both sources are unchanged since ${first.runId} (not modified (HTTP 304)): nothing to do.`;
    expect(run?.summary?.note).toBe(note);
    expect(events.published).toHaveLength(1);
    expect(events.published[0]?.detail).toMatchObject({
      summary: { status: 'SUCCEEDED', note, counts: { inserted: 0, updated: 0 } },
    });
    // Another 304 still names the run that loaded the bytes: a 304 leaves the baselines as they are.
    const third = await startRun({ trigger: 'manual' }, deps);
    expect((await ledger.getRun(third.runId))?.summary?.note).toBe(note);
  });

  it('ends SUCCEEDED with a note when the bytes are the same even without a 304', async () => {
    // Prepare: baselines without validators (the server sends no ETag any more).
    const first = await startRun({ trigger: 'manual' }, deps);
    await loadChunks(first.runId, ['2020-03', '2020-04', '2020-05']);
    const baselines = await ledger.listSourceBaselines();
    await ledger.putSourceBaselines(
      first.runId,
      baselines.map((baseline) => ({ ...baseline, etag: undefined, bytes: 1, url: 'x' })),
    );
    sender.sent.length = 0;

    // Act
    const result = await startRun({ trigger: 'manual' }, deps);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(sender.sent).toEqual([]);
    expect((await ledger.getRun(result.runId))?.summary?.note).toContain('(same content): nothing to do.');
  });

  it('skips the months whose content hash equals their last successful load', async () => {
    // Prepare: a first run loaded everything; then NYT revises one day of May.
    const first = await startRun({ trigger: 'manual' }, deps);
    await loadChunks(first.runId, ['2020-03', '2020-04', '2020-05']);
    Object.assign(
      downloader.bodies,
      sources(undefined, (date) => (date === '2020-05-10' ? 7 : 0)),
    );
    sender.sent.length = 0;

    // Act
    const result = await startRun({ trigger: 'schedule', scheduledTime: SCHEDULED }, deps);

    // Assess
    expect(result).toMatchObject({ status: 'RUNNING', chunks: 1 });
    expect(sentMonths(sender)).toEqual(['2020-05']);
    expect(await ledger.getRun(SCHEDULED_RUN)).toMatchObject({
      months: ['2020-05'],
      skipped: { months: 2, records: 60 },
    });
  });

  it('resumes a dispatch that died halfway and finishes the run only when every month is loaded', async () => {
    // Prepare: the first invocation sends one message, then the process dies; the loader loads
    // that month before Lambda retries the invocation.
    sender.crashAfter = 1;
    void startRun({ trigger: 'schedule', scheduledTime: SCHEDULED }, deps);
    while (sender.sent.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    await loadChunks(SCHEDULED_RUN, ['2020-03']);
    sender.sent.length = 0;

    // Act
    const retried = await startRun({ trigger: 'schedule', scheduledTime: SCHEDULED }, deps);
    await loadChunks(SCHEDULED_RUN, ['2020-04']);
    const afterTwo = await ledger.getRun(SCHEDULED_RUN);
    await loadChunks(SCHEDULED_RUN, ['2020-03', '2020-05']);

    // Assess
    expect(retried).toMatchObject({ runId: SCHEDULED_RUN, joined: true, status: 'RUNNING' });
    expect(sentMonths(sender)).toEqual(['2020-03', '2020-04', '2020-05']);
    expect(afterTwo?.status).toBe('RUNNING');
    const run = await ledger.getRun(SCHEDULED_RUN);
    expect(run).toMatchObject({ status: 'SUCCEEDED', months: ['2020-03', '2020-04', '2020-05'] });
    expect(run?.summary?.counts).toEqual({ inserted: 3, updated: 0, unchanged: 0, rejected: 0 });
    expect(events.published).toHaveLength(1);
  });
});

describe('startRun: every error once the run exists ends it FAILED, once', () => {
  const failedRun = async (runId: string) => {
    const run = await ledger.getRun(runId);
    expect(run?.status).toBe('FAILED');
    expect(run?.failure?.stage).toBe('fetch');
    expect(run?.failure?.reason).not.toMatch(/\n|\s{2}| {4}at /);
    expect(events.published).toEqual([
      { detailType: 'EtlRunFailed', detail: expect.objectContaining({ reason: run?.failure?.reason }) },
    ]);
    return run?.failure?.reason ?? '';
  };

  it('says a directory given as a source is not a file', async () => {
    // Prepare: the real downloader, a directory as the NYT source.
    const dir = mkdtempSync(path.join(tmpdir(), 'fetcher-dir-source-'));
    deps = { ...deps, environment: 'local', downloader: new HttpSourceDownloader() };
    const sources = { nyt: pathToFileURL(dir).href, jhu: pathToFileURL(dir).href };

    // Act
    const result = await startRun({ trigger: 'manual', sources }, deps);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(await failedRun(result.runId)).toBe(`nyt: ${dir} is not a file (a directory?) (The New York Times us.csv)`);
    expect(sender.sent).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends FAILED with a one-line reason on an unexpected error (EISDIR while reading)', async () => {
    // Prepare: a downloader that hands over a directory as the downloaded file.
    const dir = mkdtempSync(path.join(tmpdir(), 'fetcher-eisdir-'));
    deps = {
      ...deps,
      downloader: {
        download: async () => ({ status: 'ok', file: dir, sha256: SHA, bytes: 1, dispose: async () => undefined }),
      },
    };

    // Act
    const result = await startRun({ trigger: 'manual' }, deps);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(await failedRun(result.runId)).toMatch(/^the fetcher failed: Error: EISDIR/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends FAILED, sending nothing, when a month is too large for one message', async () => {
    // Prepare: 6,000 NYT rows in March 2020.
    const days = Array.from({ length: 6000 }, (_, i) => `2020-03-${String((i % 31) + 1).padStart(2, '0')}`);
    downloader.bodies.nyt = nytCsv(days.map((date, i) => ({ date, cases: i, deaths: i })));

    // Act
    const result = await startRun({ trigger: 'manual' }, deps);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(await failedRun(result.runId)).toMatch(
      /^month 2020-03: the chunk message would be \d+ bytes; .*: a source has far more rows per month than one a day; nothing was sent$/,
    );
    expect(sender.sent).toEqual([]);
  });

  it('ends FAILED when the transformer queue keeps refusing the chunks', async () => {
    // Prepare
    sender.failAfter = 1;

    // Act
    const result = await startRun({ trigger: 'manual' }, deps);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(await failedRun(result.runId)).toBe(
      'the fetcher failed: Error: SendMessageBatch still failing after retries',
    );
  });

  it('ends FAILED before its deadline when a source hangs, without waiting for every retry', async () => {
    // Prepare: a source that never answers; 30 s per attempt and 4 attempts, but 1.5 s left.
    const hanging = (async (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof fetch;
    deps = { ...deps, downloader: new HttpSourceDownloader({ fetch: hanging, timeoutMs: 30_000, maxAttempts: 4 }) };
    const started = Date.now();

    // Act
    const result = await startRun({ trigger: 'manual' }, deps, { deadline: started + 1500 });

    // Assess
    expect(Date.now() - started).toBeLessThan(2500);
    expect(result.status).toBe('FAILED');
    expect(await failedRun(result.runId)).toMatch(
      /^nyt: could not download .* after 1 attempt: timed out \(stopped early: the fetcher's time limit was near\)/,
    );
  });

  it('takes its deadline from the remaining invocation time minus the finish margin (createHandler)', async () => {
    // Prepare: 2.5 s left in the invocation, 1 s kept to finish; the source never answers.
    const hanging = (async (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof fetch;
    const handler = createHandler(
      { ...deps, downloader: new HttpSourceDownloader({ fetch: hanging, timeoutMs: 30_000 }) },
      { timeoutEarlyInMillis: 0, finishMarginMs: 1000 },
    );
    const started = Date.now();
    const remaining = () => Math.max(0, started + 2500 - Date.now());

    // Act
    const result = (await handler({ trigger: 'manual' }, lambdaContext({ getRemainingTimeInMillis: remaining }))) as {
      runId: string;
      status: string;
    };

    // Assess: ended (and recorded) before the invocation's time was up.
    expect(remaining()).toBeGreaterThan(0);
    expect(result.status).toBe('FAILED');
    expect((await ledger.getRun(result.runId))?.status).toBe('FAILED');
  });
});
