import { type ChunkItem, type LedgerRepository, RunFinalizer, type RunItem, silentLogger } from '@covid-etl/platform';
import { lambdaContext } from '@covid-etl/testing';
import {
  CapturingPublisher,
  type LocalTables,
  runItem,
  startLocalTables,
  TestClock,
} from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  checkStalledRuns,
  createHandler,
  describePendingChunks,
  stalledReason,
  type WatchdogDeps,
} from '../src/app.js';

const MINUTE = 60_000;
const STALL_AFTER_MS = 30 * MINUTE;
const OLD = 's-20261125T060000Z';
const YOUNG = 'm-20261125T062500Z-abcdef';
const HASH = 'f'.repeat(64);

let local: LocalTables;
let ledger: LedgerRepository;
let events: CapturingPublisher;
let clock: TestClock;
let deps: WatchdogDeps;

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  ({ ledger } = await local.tables());
  events = new CapturingPublisher();
  clock = new TestClock(new Date('2026-11-25T06:00:00.000Z'));
  const logger = silentLogger();
  deps = {
    environment: 'dev',
    ledger,
    finalizer: new RunFinalizer({ ledger, events, logger, clock, eventLeaseMs: 2 * MINUTE }),
    clock,
    logger,
    stallAfterMs: STALL_AFTER_MS,
  };
});

/** A dispatched run started at `startedAt`, its `loaded` months loaded, the others waiting. */
async function dispatchedRun(runId: string, startedAt: string, months: string[], loaded: string[] = []) {
  await ledger.createRun(runItem({ runId, startedAt }));
  await ledger.recordDispatchPlan(runId, {
    sources: [],
    months,
    hashes: Object.fromEntries(months.map((month) => [month, HASH])),
    skipped: { months: 0, records: 0 },
  });
  await ledger.markDispatched(runId);
  for (const month of loaded) await loadChunk(runId, month);
}

async function loadChunk(runId: string, month: string) {
  await ledger.markChunkLoaded(runId, month, {
    counts: { inserted: 30, updated: 0, unchanged: 0 },
    rejected: [],
    dateRange: { from: `${month}-01`, to: `${month}-30` },
  });
  await ledger.recordChunkLoaded(runId, month);
}

describe('checkStalledRuns', () => {
  it('reports a RUNNING run that loaded no chunk for stallAfterMs once, as INCOMPLETE through EtlRunFailed', async () => {
    // Prepare: 2020-03 loaded at the start (the check 5 minutes later sees it), 2020-04 fails.
    await dispatchedRun(OLD, '2026-11-25T06:00:00.000Z', ['2020-03', '2020-04'], ['2020-03']);
    await ledger.markChunkTransformed(OLD, '2020-04', []);
    await ledger.recordChunkError(OLD, '2020-04', {
      stage: 'load',
      message: 'TransientError: throttled',
      at: '2026-11-25T06:05:00.000Z',
    });
    clock.advance(5 * MINUTE);
    const sawTheLoad = await checkStalledRuns(deps);
    clock.advance(29 * MINUTE);
    const idle29 = await checkStalledRuns(deps);
    clock.advance(2 * MINUTE);

    // Act
    const first = await checkStalledRuns(deps);
    clock.advance(5 * MINUTE);
    const second = await checkStalledRuns(deps);

    // Assess
    expect(sawTheLoad.reported).toEqual([]);
    expect(idle29.reported).toEqual([]);
    expect(first.reported).toEqual([OLD]);
    expect(second.reported).toEqual([]);
    const run = await ledger.getRun(OLD);
    expect(run?.status).toBe('INCOMPLETE');
    expect(run?.failure).toEqual({
      stage: 'stalled',
      reason:
        'stalled: 1 of 2 chunk(s) not loaded, no chunk loaded for 31 min (36 min after the start): 2020-04 in covid-etl-dev-loader or covid-etl-dev-loader-dlq (last error: TransientError: throttled)',
    });
    expect(events.published).toHaveLength(1);
    expect(events.published[0]).toMatchObject({
      detailType: 'EtlRunFailed',
      detail: {
        version: 1,
        reason: run?.failure?.reason,
        summary: {
          status: 'INCOMPLETE',
          counts: { inserted: 30 },
          pendingChunks: [{ month: '2020-04', stage: 'load', lastError: 'TransientError: throttled' }],
        },
      },
    });
  });

  it('completes a stalled run whose chunks are all loaded but never counted on the run item', async () => {
    // Prepare: the last chunk was marked loaded and its loader died before counting it, with no
    // redelivery left (or the run was loaded before runs counted their chunks).
    await dispatchedRun(OLD, '2026-11-25T06:00:00.000Z', ['2020-03', '2020-04'], ['2020-03']);
    await ledger.markChunkLoaded(OLD, '2020-04', {
      counts: { inserted: 30, updated: 0, unchanged: 0 },
      rejected: [],
      dateRange: { from: '2020-04-01', to: '2020-04-30' },
    });
    clock.advance(5 * MINUTE);
    await checkStalledRuns(deps);
    clock.advance(31 * MINUTE);

    // Act
    const report = await checkStalledRuns(deps);

    // Assess
    expect(report.reported).toEqual([]);
    expect((await ledger.getRun(OLD))?.status).toBe('SUCCEEDED');
    expect(events.published.map((event) => event.detailType)).toEqual(['EtlRunCompleted']);
    expect(events.published[0]?.detail).toMatchObject({ summary: { counts: { inserted: 60 } } });
  });

  it('never reports a long run that keeps loading (a county backfill), and reports it once its loads stop', async () => {
    // Prepare: 40 parts, one loaded every 3 minutes for 2 hours (the loader drains slowly),
    // then the last 5 stop (their messages go to the DLQ). The watchdog checks every 5 minutes.
    const parts = Array.from({ length: 40 }, (_, i) => `county/48/2020-${String((i % 12) + 1).padStart(2, '0')}#${i}`);
    await dispatchedRun(OLD, '2026-11-25T06:00:00.000Z', parts);
    const reportedAt: Array<{ minute: number; runs: string[] }> = [];

    // Act
    for (let minute = 1; minute <= 200; minute += 1) {
      clock.advance(MINUTE);
      const part = parts[minute / 3 - 1];
      if (minute % 3 === 0 && part && minute <= 105) await loadChunk(OLD, part);
      if (minute % 5 === 0) {
        const { reported } = await checkStalledRuns(deps);
        if (reported.length > 0) reportedAt.push({ minute, runs: reported });
      }
    }

    // Assess: the last load at minute 105 is seen at 105; 30 minutes later the run is stalled.
    expect(reportedAt).toEqual([{ minute: 135, runs: [OLD] }]);
    expect((await ledger.getRun(OLD))?.failure?.reason).toMatch(
      /^stalled: 5 of 40 chunk\(s\) not loaded, no chunk loaded for 30 min \(135 min after the start\): /,
    );
  });

  it('does not report a daily run waiting behind a backfill that keeps loading; it gets its own time once the backfill ends', async () => {
    // Prepare: a counties backfill started at 05:00 loads a part every 3 minutes until 07:00,
    // then succeeds; the daily run started at 06:00 waits behind it in the loader queue.
    const parts = Array.from({ length: 40 }, (_, i) => `county/48/2020-${String((i % 12) + 1).padStart(2, '0')}#${i}`);
    clock = new TestClock(new Date('2026-11-25T05:00:00.000Z'));
    deps = { ...deps, clock, finalizer: new RunFinalizer({ ledger, events, logger: deps.logger, clock }) };
    const BACKFILL = 'm-20261125T050000Z-aaaaaa';
    await dispatchedRun(BACKFILL, '2026-11-25T05:00:00.000Z', parts);
    await dispatchedRun(OLD, '2026-11-25T06:00:00.000Z', ['2021-03']);
    const reportedAt: Array<{ minute: number; runs: string[] }> = [];

    // Act: one check every 5 minutes until 08:00.
    for (let minute = 1; minute <= 180; minute += 1) {
      clock.advance(MINUTE);
      const part = parts[minute / 3 - 1];
      if (minute % 3 === 0 && part) await loadChunk(BACKFILL, part);
      if (minute === 120) await deps.finalizer.finishIfComplete(BACKFILL);
      if (minute % 5 === 0) {
        const { reported } = await checkStalledRuns(deps);
        if (reported.length > 0) reportedAt.push({ minute, runs: reported });
      }
    }

    // Assess: the backfill succeeded at 07:00; the daily run, last seen waiting at 06:55
    // (minute 115), is reported 30 minutes later (07:25), not at 06:30.
    expect((await ledger.getRun(BACKFILL))?.status).toBe('SUCCEEDED');
    expect(reportedAt).toEqual([{ minute: 145, runs: [OLD] }]);
    expect((await ledger.getRun(OLD))?.failure?.reason).toMatch(
      /^stalled: 1 of 1 chunk\(s\) not loaded, no chunk loaded for 30 min/,
    );
  });

  it('leaves a young run and a finished run alone', async () => {
    // Prepare
    await dispatchedRun(YOUNG, '2026-11-25T06:25:00.000Z', ['2020-03']);
    await dispatchedRun(OLD, '2026-11-25T05:00:00.000Z', ['2020-03'], ['2020-03']);
    await deps.finalizer.finishIfComplete(OLD);
    events.published.length = 0;
    clock.advance(40 * MINUTE);

    // Act
    const report = await checkStalledRuns(deps);

    // Assess
    expect(report).toEqual({ reported: [], republished: [], publishing: [] });
    expect((await ledger.getRun(YOUNG))?.status).toBe('RUNNING');
    expect((await ledger.getRun(OLD))?.status).toBe('SUCCEEDED');
    expect(events.published).toEqual([]);
  });

  it('announces the completion of a stalled run once its chunks are loaded after all', async () => {
    // Prepare: reported stalled, then the DLQ is replayed and the last chunk loads.
    await dispatchedRun(OLD, '2026-11-25T06:00:00.000Z', ['2020-03', '2020-04'], ['2020-03']);
    clock.advance(5 * MINUTE);
    await checkStalledRuns(deps);
    clock.advance(40 * MINUTE);
    await checkStalledRuns(deps);
    await loadChunk(OLD, '2020-04');

    // Act
    const status = await deps.finalizer.finishIfComplete(OLD);
    const again = await deps.finalizer.finishIfComplete(OLD);
    const check = await checkStalledRuns(deps);

    // Assess
    expect(status).toBe('SUCCEEDED');
    expect(again).toBeUndefined();
    expect(check.reported).toEqual([]);
    expect(events.published.map((event) => event.detailType)).toEqual(['EtlRunFailed', 'EtlRunCompleted']);
    expect(events.published[1]?.detail).toMatchObject({
      summary: { status: 'SUCCEEDED', counts: { inserted: 60 }, chunks: { expected: 2, loaded: 2 } },
    });
    const run = await ledger.getRun(OLD);
    expect(run).toMatchObject({ status: 'SUCCEEDED', event: { detailType: 'EtlRunCompleted', state: 'PUBLISHED' } });
  });

  it('publishes again an outcome event whose publisher died, after its lease', async () => {
    // Prepare: the loader that finished the run could not put its event.
    await dispatchedRun(OLD, '2026-11-25T06:00:00.000Z', ['2020-03'], ['2020-03']);
    events.failNext = 2;
    await expect(deps.finalizer.finishIfComplete(OLD)).resolves.toBe('SUCCEEDED');

    // Act: the first retry after the lease fails too; the next one publishes.
    const duringLease = await checkStalledRuns(deps);
    clock.advance(3 * MINUTE);
    const failedAgain = await checkStalledRuns(deps);
    clock.advance(3 * MINUTE);
    const afterLease = await checkStalledRuns(deps);
    const later = await checkStalledRuns(deps);

    // Assess
    expect(duringLease.republished).toEqual([]);
    expect(duringLease.publishing).toEqual([{ runId: OLD, leaseUntil: expect.any(Number) }]);
    expect(failedAgain.republished).toEqual([]);
    expect(failedAgain.publishing.map((run) => run.runId)).toEqual([OLD]);
    expect(afterLease.republished).toEqual([OLD]);
    expect(afterLease.publishing).toEqual([]);
    expect(later.republished).toEqual([]);
    expect(later.publishing).toEqual([]);
    expect(events.published.map((event) => event.detailType)).toEqual(['EtlRunCompleted']);
  });

  it('lists a run it reported or completed as still publishing when its event could not be put', async () => {
    // Prepare: OLD stalled; OTHER with every chunk loaded (seen by a first check) but never
    // completed (its loader died); then the bus fails twice.
    const OTHER = 'm-20261125T061000Z-abcdef';
    await dispatchedRun(OLD, '2026-11-25T06:00:00.000Z', ['2020-03']);
    await dispatchedRun(OTHER, '2026-11-25T06:10:00.000Z', ['2020-03'], ['2020-03']);
    clock.advance(10 * MINUTE);
    await checkStalledRuns(deps);
    clock.advance(40 * MINUTE);
    events.failNext = 2;
    const lease = clock.now().getTime() + 2 * MINUTE;

    // Act
    const report = await checkStalledRuns(deps);
    clock.advance(3 * MINUTE);
    const next = await checkStalledRuns(deps);

    // Assess: both finished, their events waiting out the lease; published by the next check.
    expect(report.reported).toEqual([OLD]);
    expect(report.republished).toEqual([]);
    expect(report.publishing).toEqual([
      { runId: OTHER, leaseUntil: lease },
      { runId: OLD, leaseUntil: lease },
    ]);
    expect(next.republished).toEqual([OTHER, OLD]);
    expect(next.publishing).toEqual([]);
    expect((await ledger.getRun(OTHER))?.status).toBe('SUCCEEDED');
  });

  it('checks only the given run with onlyRunId, with the caller-provided reason', async () => {
    // Prepare
    await dispatchedRun(OLD, '2026-11-25T06:00:00.000Z', ['2020-03']);
    await dispatchedRun('s-20261124T060000Z', '2026-11-24T06:00:00.000Z', ['2020-03']);
    clock.advance(60 * MINUTE);

    // Act
    const report = await checkStalledRuns(deps, {
      onlyRunId: OLD,
      describe: (run, chunks) => `${run.runId}: ${chunks.length} chunk(s) in covid-etl-local-transformer-dlq`,
    });

    // Assess
    expect(report.reported).toEqual([OLD]);
    expect((await ledger.getRun(OLD))?.failure?.reason).toBe(`${OLD}: 1 chunk(s) in covid-etl-local-transformer-dlq`);
    expect((await ledger.getRun('s-20261124T060000Z'))?.status).toBe('RUNNING');
  });

  it('reports a run whose fetcher stopped before dispatching as such: nothing to replay', async () => {
    // Prepare: the run item exists, the fetcher died before sending its chunks.
    await ledger.createRun(runItem({ runId: OLD, startedAt: '2026-11-25T06:00:00.000Z' }));
    clock.advance(31 * MINUTE);

    // Act
    const report = await checkStalledRuns(deps);

    // Assess
    expect(report.reported).toEqual([OLD]);
    const run = await ledger.getRun(OLD);
    expect(run?.status).toBe('INCOMPLETE');
    expect(run?.failure).toEqual({
      stage: 'fetch',
      reason: `the fetcher stopped before dispatching: run \`pnpm etl run --env dev\` again, or abandon it: \`pnpm etl abandon ${OLD} --env dev\``,
    });
    expect(run?.failure?.reason).not.toMatch(/replay|dead-letter/);
  });

  it('runs as the scheduled Lambda handler', async () => {
    // Prepare
    await dispatchedRun(OLD, '2026-11-25T06:00:00.000Z', ['2020-03']);
    clock.advance(31 * MINUTE);
    const handler = createHandler(deps, { timeoutEarlyInMillis: 0 });

    // Act
    const report = await handler({}, lambdaContext());

    // Assess
    expect(report).toEqual({ reported: [OLD], republished: [], publishing: [] });
  });
});

describe('stalledReason', () => {
  const run = (overrides: Partial<RunItem> = {}) => runItem({ runId: OLD, dispatch: 'SENT', ...overrides });
  const chunk = (month: string, stage: ChunkItem['stage'], lastError?: string): ChunkItem => ({
    runId: OLD,
    month,
    hash: HASH,
    stage,
    rejected: [],
    ...(lastError ? { lastError: { stage: 'transform', message: lastError, at: '2026-11-25T06:01:00.000Z' } } : {}),
  });

  it('names each pending month with its queue and DLQ, and its last error', () => {
    // Prepare
    const chunks = [
      chunk('2020-05', 'TRANSFORMED'),
      chunk('2020-03', 'LOADED'),
      chunk('2020-04', 'SENT', 'MalformedMessageError: does not match the contract'),
    ];

    // Act
    const reason = stalledReason(
      run({ months: ['2020-03', '2020-04', '2020-05'] }),
      chunks,
      { ageMs: 47 * MINUTE, idleMs: 31 * MINUTE },
      'prod',
    );

    // Assess
    expect(reason).toBe(
      'stalled: 2 of 3 chunk(s) not loaded, no chunk loaded for 31 min (47 min after the start): ' +
        '2020-04 in covid-etl-prod-transformer or covid-etl-prod-transformer-dlq (last error: MalformedMessageError: does not match the contract); ' +
        '2020-05 in covid-etl-prod-loader or covid-etl-prod-loader-dlq',
    );
  });

  it('groups the months that wait in the same place with the same error', () => {
    // Prepare
    const months = Array.from({ length: 8 }, (_, i) => `2020-0${i + 1}`);

    // Act
    const reason = stalledReason(
      run({ months }),
      months.map((month) => chunk(month, 'SENT', 'ThrottlingException: slow down')),
      { ageMs: 31 * MINUTE, idleMs: 31 * MINUTE },
      'dev',
    );

    // Assess
    expect(reason).toBe(
      'stalled: 8 of 8 chunk(s) not loaded, no chunk loaded for 31 min (31 min after the start): 2020-01 to 2020-08 (8 months) in ' +
        'covid-etl-dev-transformer or covid-etl-dev-transformer-dlq (last error: ThrottlingException: slow down)',
    );
  });

  it('lists at most five groups and counts the rest', () => {
    // Act
    const text = describePendingChunks(
      Array.from({ length: 7 }, (_, i) => ({ month: `2020-0${i + 1}`, where: 'q', lastError: `error ${i}` })),
    );

    // Assess
    expect(text).toContain('2020-05 in q (last error: error 4)');
    expect(text).not.toContain('2020-06');
    expect(text).toMatch(/; and 2 more group\(s\)$/);
  });

  it('says when the fetcher never finished sending the chunks', () => {
    // Act
    const reason = stalledReason(run({ dispatch: 'PENDING' }), [], { ageMs: 90 * MINUTE, idleMs: 90 * MINUTE }, 'dev');

    // Assess
    expect(reason).toBe(
      `the fetcher stopped before dispatching: run \`pnpm etl run --env dev\` again, or abandon it: \`pnpm etl abandon ${OLD} --env dev\``,
    );
  });
});
