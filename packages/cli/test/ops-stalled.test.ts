import { EventDetailType } from '@covid-etl/contracts';
import { LocalPipeline } from '@covid-etl/local-pipeline';
import { type Clock, createLogger, type DomainEvent, RunFinalizer, type RunItem } from '@covid-etl/platform';
import { checkStalledRuns, type WatchdogDeps } from '@covid-etl/watchdog';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshStateDir } from './helpers/cli.js';

/**
 * The stalled-run check of services/watchdog, driven against a LocalPipeline's ledger
 * (dynalite) with a clock the test moves: a run that loaded no chunk for 30 minutes is
 * reported once, as INCOMPLETE through EtlRunFailed, naming its unfinished chunks; runs that
 * finish in time, or are younger, are not; a reported run that completes later is announced.
 */
const T0 = Date.parse('2026-11-25T00:00:00.000Z');
const MINUTE = 60_000;
let now = T0;
const clock: Clock = { now: () => new Date(now) };

let pipeline: LocalPipeline;
const published: Array<{ runId: string; detailType: string; reason?: string }> = [];
let deps: WatchdogDeps;
let finalizer: RunFinalizer;

async function startRun(runId: string, startedAt: number, months: string[]): Promise<void> {
  const run: RunItem = {
    runId,
    environment: 'local',
    trigger: 'manual',
    status: 'RUNNING',
    startedAt: new Date(startedAt).toISOString(),
    dispatch: 'PENDING',
    sources: [],
    months: [],
    skipped: { months: 0, records: 0 },
  };
  await pipeline.ledger.createRun(run);
  const hashes = Object.fromEntries(months.map((m) => [m, 'a'.repeat(64)]));
  await pipeline.ledger.recordDispatchPlan(runId, { sources: [], months, hashes, skipped: run.skipped });
  await pipeline.ledger.markDispatched(runId);
}

async function load(runId: string, month: string): Promise<void> {
  await pipeline.ledger.markChunkTransformed(runId, month, []);
  await pipeline.ledger.markChunkLoaded(runId, month, {
    counts: { inserted: 1, updated: 0, unchanged: 0 },
    rejected: [],
    dateRange: { from: `${month}-01`, to: `${month}-01` },
  });
  await finalizer.finishIfComplete(runId, await pipeline.ledger.recordChunkLoaded(runId, month));
}

async function checkAt(minutes: number): Promise<string[]> {
  now = T0 + minutes * MINUTE;
  return (await checkStalledRuns(deps)).reported;
}

beforeAll(async () => {
  pipeline = await LocalPipeline.open({ dir: freshStateDir('etl-stalled-'), clock });
  const logger = createLogger({ service: 'test', level: 'silent' });
  finalizer = new RunFinalizer({
    ledger: pipeline.ledger,
    logger,
    clock,
    events: {
      async publish(events: DomainEvent[]) {
        for (const event of events) {
          const detail = event.detail as { reason?: string; summary: { runId: string } };
          published.push({ runId: detail.summary.runId, detailType: event.detailType, reason: detail.reason });
        }
      },
    },
  });
  deps = { environment: 'local', ledger: pipeline.ledger, finalizer, clock, logger, stallAfterMs: 30 * MINUTE };
});

afterAll(async () => {
  await pipeline.close();
});

describe('stalled runs (checkStalledRuns on the local ledger)', () => {
  it('reports a run stalled exactly once, not the runs that finish in time or are younger, and announces its later completion', async () => {
    // Prepare: "stuck" leaves 2020-02 unloaded with an error; "fine" finishes after 5 minutes;
    // "young" starts 20 minutes later.
    await startRun('m-stuck', T0, ['2020-01', '2020-02']);
    await startRun('m-fine', T0, ['2020-01']);
    now = T0 + 2 * MINUTE;
    await load('m-stuck', '2020-01');
    await pipeline.ledger.markChunkTransformed('m-stuck', '2020-02', []);
    await pipeline.ledger.recordChunkError('m-stuck', '2020-02', {
      stage: 'load',
      message: 'TransientError: DynamoDB timed out',
      at: new Date(now).toISOString(),
      receiveCount: 5,
    });
    now = T0 + 5 * MINUTE;
    await load('m-fine', '2020-01');
    await startRun('m-young', T0 + 20 * MINUTE, ['2020-01']);

    // Act: the watchdog's first look (it runs every 5 minutes) sees m-stuck's load at minute 2.
    const at5 = await checkAt(5);
    const at29 = await checkAt(29);
    const at31 = await checkAt(31);
    const at35 = await checkAt(35);
    const at45 = await checkAt(45);
    const at60 = await checkAt(60);
    now = T0 + 70 * MINUTE;
    await load('m-stuck', '2020-02'); // replayed: the run completes after all
    const at80 = await checkAt(80);

    // Assess
    expect(at5).toEqual([]);
    expect(at29).toEqual([]);
    expect(at31).toEqual([]);
    expect(at35).toEqual(['m-stuck']);
    expect(at45).toEqual([]);
    expect(at60).toEqual(['m-young']);
    expect(at80).toEqual([]);
    const failures = published.filter((e) => e.detailType === EventDetailType.RunFailed);
    expect(failures.map((e) => e.runId)).toEqual(['m-stuck', 'm-young']);
    expect(failures[0]?.reason).toBe(
      'stalled: 1 of 2 chunk(s) not loaded, no chunk loaded for 30 min (35 min after the start): 2020-02 in covid-etl-local-loader or covid-etl-local-loader-dlq (last error: TransientError: DynamoDB timed out)',
    );
    expect(published.filter((e) => e.runId === 'm-fine').map((e) => e.detailType)).toEqual([
      EventDetailType.RunCompleted,
    ]);
    expect(published.filter((e) => e.runId === 'm-stuck').map((e) => e.detailType)).toEqual([
      EventDetailType.RunFailed,
      EventDetailType.RunCompleted,
    ]);
    expect((await pipeline.ledger.getRun('m-stuck'))?.status).toBe('SUCCEEDED');
    expect((await pipeline.ledger.getRun('m-young'))?.failure).toEqual({
      reason: expect.stringMatching(
        /^stalled: 1 of 1 chunk\(s\) not loaded, no chunk loaded for 40 min \(40 min after the start\): 2020-01 in covid-etl-local-transformer/,
      ),
      stage: 'stalled',
    });
  });
});
