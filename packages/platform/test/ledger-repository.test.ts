import type { RejectedRow, RunSummary, SourceIdentity } from '@covid-etl/contracts';
import { countRequests, type LocalTables, runItem, SHA_A, SHA_B, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { LedgerRepository } from '../src/index.js';

let local: LocalTables;
let ledger: LedgerRepository;
let ledgerTable: string;

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  ({ ledger, ledgerTable } = await local.tables());
});

const RUN = 's-20261125T060000Z';
const sources: SourceIdentity[] = [
  { id: 'nyt', url: 'https://example.org/us.csv', urlKey: 'k-nyt', sha256: SHA_A, bytes: 10, etag: '"n1"' },
  {
    id: 'jhu',
    url: 'https://example.org/jhu.csv',
    urlKey: 'k-jhu',
    sha256: SHA_B,
    bytes: 20,
    lastModified: 'Tue, 24 Nov 2026',
  },
];
const rejectedRow: RejectedRow = { source: 'nyt', line: 7, column: 'cases', value: '-1', reason: 'cases is negative' };

function summaryOf(status: RunSummary['status'], runId = RUN): RunSummary {
  return {
    runId,
    environment: 'test',
    status,
    trigger: 'schedule',
    startedAt: '2026-11-25T06:00:00.000Z',
    finishedAt: '2026-11-25T06:05:00.000Z',
    counts: { inserted: 1, updated: 0, unchanged: 0, rejected: 0 },
    dateRange: null,
    sources: [],
    chunks: { expected: 1, loaded: 1, skipped: 0 },
    rejectedRows: [],
    ...(status === 'FAILED' || status === 'INCOMPLETE' ? { failure: { reason: `${status} for a test` } } : {}),
  };
}

const finishWith = (status: RunSummary['status'], leaseUntil = 1_000) =>
  ledger.finishRun(RUN, {
    status,
    summary: summaryOf(status),
    detailType: status === 'SUCCEEDED' || status === 'PARTIAL' ? 'EtlRunCompleted' : 'EtlRunFailed',
    leaseUntil,
  });

async function plannedRun(months: string[]) {
  await ledger.createRun(runItem({ runId: RUN }));
  await ledger.recordDispatchPlan(RUN, {
    sources,
    months,
    hashes: Object.fromEntries(months.map((month) => [month, SHA_A])),
    skipped: { months: 2, records: 61 },
  });
}

describe('LedgerRepository runs', () => {
  it('creates a run once: a second create answers created:false with the stored run', async () => {
    // Prepare
    const first = runItem({ runId: RUN, startedAt: '2026-11-25T06:00:00.000Z' });
    const duplicate = runItem({ runId: RUN, startedAt: '2026-11-25T06:03:00.000Z', trigger: 'manual' });

    // Act
    const created = await ledger.createRun(first);
    const again = await ledger.createRun(duplicate);

    // Assess
    expect(created).toEqual({ created: true, run: first });
    expect(again.created).toBe(false);
    expect(again.run).toEqual(first);
    expect(await ledger.getRun(RUN)).toEqual(first);
    expect(await ledger.getRun('s-20990101T000000Z')).toBeUndefined();
  });

  it('pages the run list with a cursor: each run once, newest first, and no cursor after the last page', async () => {
    // Prepare
    const starts = ['2026-11-21', '2026-11-24', '2026-11-22', '2026-11-25', '2026-11-23'];
    for (const [index, day] of starts.entries()) {
      await ledger.createRun(
        runItem({ runId: `m-${day.replaceAll('-', '')}T060000Z-00000${index}`, startedAt: `${day}T06:00:00.000Z` }),
      );
    }

    // Act
    const first = await ledger.listRunsPage({ limit: 2 });
    const second = await ledger.listRunsPage({ limit: 2, cursor: first.cursor });
    const last = await ledger.listRunsPage({ limit: 2, cursor: second.cursor });

    // Assess
    expect([first, second, last].map((page) => page.runs.map((run) => run.startedAt.slice(0, 10)))).toEqual([
      ['2026-11-25', '2026-11-24'],
      ['2026-11-23', '2026-11-22'],
      ['2026-11-21'],
    ]);
    expect(typeof first.cursor).toBe('string');
    expect(last.cursor).toBeUndefined();
    await expect(ledger.listRunsPage({ cursor: 'not-a-cursor' })).rejects.toThrow(/^Not a run-list cursor/);
  });

  it('lists runs newest first through the byStartedAt index, at most `limit`', async () => {
    // Prepare
    const starts = ['2026-11-23T06:00:00.000Z', '2026-11-25T06:00:00.000Z', '2026-11-24T06:00:00.000Z'];
    for (const [index, startedAt] of starts.entries()) {
      await ledger.createRun(runItem({ runId: `m-2026112${index}T060000Z-00000${index}`, startedAt }));
    }

    // Act
    const all = await ledger.listRuns();
    const two = await ledger.listRuns(2);

    // Assess
    expect(all.map((run) => run.startedAt)).toEqual([
      '2026-11-25T06:00:00.000Z',
      '2026-11-24T06:00:00.000Z',
      '2026-11-23T06:00:00.000Z',
    ]);
    expect(two).toHaveLength(2);
    expect(all[0]).not.toHaveProperty('gsi1pk');
    expect(all[0]).not.toHaveProperty('pk');
  });

  it('lists the runs started since a time, and at least the N most recent, newest first, in as few Queries as that takes', async () => {
    // Prepare: runs on Nov 1, 2, 3 and 23-26.
    const days = ['01', '02', '03', '23', '24', '25', '26'];
    for (const day of days) {
      await ledger.createRun(
        runItem({ runId: `m-202611${day}T060000Z-000001`, startedAt: `2026-11-${day}T06:00:00.000Z` }),
      );
    }
    const counter = countRequests(local.doc);
    const listed = async (since: string, atLeast: number) => {
      counter.reset();
      const runs = await ledger.listRecentRuns(since, atLeast);
      return { days: runs.map((run) => run.startedAt.slice(8, 10)), queries: counter.total(ledgerTable) };
    };

    // Act
    const window = await listed('2026-11-20T00:00:00.000Z', 2);
    const recent = await listed('2026-11-20T00:00:00.000Z', 6);
    const all = await listed('2026-10-01T00:00:00.000Z', 2);
    const none = await listed('2026-12-01T00:00:00.000Z', 0);
    counter.stop();

    // Assess: the window alone (2 most recent, then the rest since Nov 20); the 6 most recent
    // (past the window: one Query); everything since October; nothing.
    expect(window).toEqual({ days: ['26', '25', '24', '23'], queries: 2 });
    expect(recent).toEqual({ days: ['26', '25', '24', '23', '03', '02'], queries: 1 });
    expect(all).toEqual({ days: ['26', '25', '24', '23', '03', '02', '01'], queries: 2 });
    expect(none.days).toEqual([]);
    expect((await ledger.listRecentRuns('2026-11-20T00:00:00.000Z'))[0]).not.toHaveProperty('gsi1pk');
  });

  it('records the dispatch plan on the run and one SENT chunk item per month', async () => {
    // Prepare
    const months = Array.from(
      { length: 30 },
      (_, i) => `${2020 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`,
    );

    // Act
    await plannedRun(months);
    await ledger.markDispatched(RUN);

    // Assess
    const run = await ledger.getRun(RUN);
    expect(run).toMatchObject({ sources, months, skipped: { months: 2, records: 61 }, dispatch: 'SENT' });
    const chunks = await ledger.listChunks(RUN);
    expect(chunks).toHaveLength(30);
    expect(chunks.map((chunk) => chunk.month)).toEqual(months);
    expect(chunks[0]).toEqual({ runId: RUN, month: '2020-01', hash: SHA_A, stage: 'SENT', rejected: [] });
  });

  it('finishes a run exactly once among 5 concurrent callers', async () => {
    // Prepare
    await ledger.createRun(runItem({ runId: RUN }));

    // Act
    const results = await Promise.all(Array.from({ length: 5 }, () => finishWith('SUCCEEDED', 5_000)));

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    const run = await ledger.getRun(RUN);
    expect(run).toMatchObject({
      status: 'SUCCEEDED',
      finishedAt: '2026-11-25T06:05:00.000Z',
      event: { detailType: 'EtlRunCompleted', state: 'PUBLISHING', leaseUntil: 5_000 },
    });
    expect(run?.summary?.status).toBe('SUCCEEDED');
  });

  it('lets an INCOMPLETE run complete later but never turns a FAILED run into a success', async () => {
    // Prepare
    await ledger.createRun(runItem({ runId: RUN }));
    await finishWith('INCOMPLETE');

    // Act
    const failedAgain = await finishWith('FAILED');
    const completed = await finishWith('SUCCEEDED');
    const afterSuccess = await ledger.getRun(RUN);
    const other = 'm-20261125T070000Z-abcdef';
    await ledger.createRun(runItem({ runId: other }));
    await ledger.finishRun(other, {
      status: 'FAILED',
      summary: summaryOf('FAILED', other),
      detailType: 'EtlRunFailed',
      leaseUntil: 1,
    });
    const revived = await ledger.finishRun(other, {
      status: 'SUCCEEDED',
      summary: summaryOf('SUCCEEDED', other),
      detailType: 'EtlRunCompleted',
      leaseUntil: 1,
    });

    // Assess
    expect(failedAgain).toBe(false);
    expect(completed).toBe(true);
    expect(afterSuccess).toMatchObject({ status: 'SUCCEEDED', event: { detailType: 'EtlRunCompleted' } });
    expect(afterSuccess?.failure ?? undefined).toBeUndefined();
    expect(revived).toBe(false);
    expect((await ledger.getRun(other))?.status).toBe('FAILED');
  });

  it('re-claims an outcome event only after its lease ran out, and never once published', async () => {
    // Prepare
    await ledger.createRun(runItem({ runId: RUN }));
    await finishWith('SUCCEEDED', 1_000);

    // Act
    const whileLeased = await ledger.reclaimEvent(RUN, 999, 2_000);
    const atExpiry = await ledger.reclaimEvent(RUN, 1_000, 2_000);
    const afterExpiry = await ledger.reclaimEvent(RUN, 1_001, 3_000);
    const competitor = await ledger.reclaimEvent(RUN, 1_002, 4_000);
    await ledger.markEventPublished(RUN);
    const afterPublished = await ledger.reclaimEvent(RUN, 10_000, 11_000);

    // Assess
    expect([whileLeased, atExpiry, afterExpiry, competitor, afterPublished]).toEqual([
      false,
      false,
      true,
      false,
      false,
    ]);
    expect((await ledger.getRun(RUN))?.event).toEqual({
      detailType: 'EtlRunCompleted',
      state: 'PUBLISHED',
      leaseUntil: 3_000,
    });
  });
});

describe('LedgerRepository chunks', () => {
  it('records rejected rows on a chunk but leaves a LOADED chunk untouched', async () => {
    // Prepare
    await plannedRun(['2020-03', '2020-04']);
    await ledger.markChunkLoaded(RUN, '2020-04', {
      counts: { inserted: 30, updated: 0, unchanged: 0 },
      rejected: [],
      dateRange: { from: '2020-04-01', to: '2020-04-30' },
    });

    // Act
    await ledger.markChunkTransformed(RUN, '2020-03', [rejectedRow]);
    await ledger.markChunkTransformed(RUN, '2020-04', [rejectedRow]);
    await ledger.markChunkTransformed(RUN, '2020-05', [rejectedRow]);

    // Assess
    expect(await ledger.getChunk(RUN, '2020-03')).toMatchObject({ stage: 'TRANSFORMED', rejected: [rejectedRow] });
    expect(await ledger.getChunk(RUN, '2020-04')).toMatchObject({ stage: 'LOADED', rejected: [] });
    expect(await ledger.getChunk(RUN, '2020-05')).toBeUndefined();
  });

  it('marks a chunk loaded once: the first call wins and keeps its counts', async () => {
    // Prepare
    await plannedRun(['2020-03']);
    const first = {
      counts: { inserted: 31, updated: 0, unchanged: 0 },
      rejected: [rejectedRow],
      dateRange: { from: '2020-03-01', to: '2020-03-31' },
    };

    // Act
    const results = await Promise.all([
      ledger.markChunkLoaded(RUN, '2020-03', first),
      ledger.markChunkLoaded(RUN, '2020-03', first),
    ]);
    const late = await ledger.markChunkLoaded(RUN, '2020-03', {
      counts: { inserted: 0, updated: 0, unchanged: 31 },
      rejected: [],
      dateRange: null,
    });
    const unknown = await ledger.markChunkLoaded(RUN, '2021-01', { ...first });

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(late).toBe(false);
    expect(unknown).toBe(false);
    expect(await ledger.getChunk(RUN, '2020-03')).toMatchObject({ stage: 'LOADED', ...first });
    expect(await ledger.getChunk(RUN, '2021-01')).toBeUndefined();
  });

  it('counts errors on a chunk and keeps the last one; an unknown chunk is not created', async () => {
    // Prepare
    await plannedRun(['2020-03']);
    const at = '2026-11-25T06:01:00.000Z';

    // Act
    await ledger.recordChunkError(RUN, '2020-03', { stage: 'transform', message: 'first', at, receiveCount: 1 });
    await ledger.recordChunkError(RUN, '2020-03', { stage: 'load', message: 'second', at, receiveCount: 2 });
    await ledger.recordChunkError(RUN, '2099-01', { stage: 'load', message: 'nowhere', at });

    // Assess
    expect(await ledger.getChunk(RUN, '2020-03')).toMatchObject({
      errors: 2,
      lastError: { stage: 'load', message: 'second', at, receiveCount: 2 },
      stage: 'SENT',
    });
    expect(await ledger.getChunk(RUN, '2099-01')).toBeUndefined();
  });
});

describe('LedgerRepository pooled chunk reads and counts (one loader invocation)', () => {
  it('reads chunk items in the order asked, a repeated key once, a missing one as undefined', async () => {
    // Prepare
    await plannedRun(['2020-03', '2020-04']);
    await ledger.markChunkTransformed(RUN, '2020-04', [rejectedRow]);

    // Act
    const chunks = await ledger.getChunks([
      { runId: RUN, month: '2020-04' },
      { runId: RUN, month: '2020-05' },
      { runId: RUN, month: '2020-03' },
      { runId: RUN, month: '2020-04' },
      { runId: 's-other', month: '2020-03' },
    ]);

    // Assess
    expect(chunks.map((chunk) => chunk && [chunk.month, chunk.stage])).toEqual([
      ['2020-04', 'TRANSFORMED'],
      undefined,
      ['2020-03', 'SENT'],
      ['2020-04', 'TRANSFORMED'],
      undefined,
    ]);
    expect(chunks[0]?.rejected).toEqual([rejectedRow]);
  });

  it('adds several months to a run in one update, with its cost, idempotently; a missing run is undefined', async () => {
    // Prepare
    await plannedRun(['2020-03', '2020-04', '2020-05']);

    // Act
    const first = await ledger.recordChunksLoaded(RUN, ['2020-03', '2020-04'], { dynamoWriteRequests: 1 });
    const again = await ledger.recordChunksLoaded(RUN, ['2020-04', '2020-05'], { dynamoWriteRequests: 1 });
    const missing = await ledger.recordChunksLoaded('s-missing', ['2020-03']);

    // Assess
    expect([...(first?.loaded ?? [])].sort()).toEqual(['2020-03', '2020-04']);
    expect([...(again?.loaded ?? [])].sort()).toEqual(['2020-03', '2020-04', '2020-05']);
    expect(again?.costs?.dynamoWriteRequests).toBe(2);
    expect(missing).toBeUndefined();
    expect(await ledger.getRun('s-missing')).toBeUndefined();
  });
});

describe('LedgerRepository months, sources and notifications', () => {
  it('stores month states and reads them one by one or all at once', async () => {
    // Prepare
    const march = { month: '2020-03', hash: SHA_A, records: 31, runId: RUN };
    const april = { month: '2020-04', hash: SHA_B, records: 30, runId: RUN };

    // Act
    await ledger.putMonthState(march);
    await ledger.putMonthState(april);
    await ledger.putMonthState({ ...april, records: 29 });

    // Assess
    expect(await ledger.getMonthState('2020-03')).toEqual(march);
    expect(await ledger.getMonthState('2020-05')).toBeUndefined();
    const all = await ledger.getMonthStates();
    expect([...all.keys()]).toEqual(['2020-03', '2020-04']);
    expect(all.get('2020-04')).toEqual({ ...april, records: 29 });
  });

  it("leases a month to one run at a time, reads its state in the same request, and frees it with the month's state", async () => {
    // Prepare
    const OTHER = 's-20261126T060000Z';
    await ledger.putMonthState({ month: '2020-03', hash: SHA_A, records: 31, runId: OTHER });
    const at = (now: number) => ({ now, until: now + 1_000 });

    // Act
    const taken = await ledger.leaseMonth('2020-03', RUN, at(0));
    const retaken = await ledger.leaseMonth('2020-03', RUN, at(10));
    const refused = await ledger.leaseMonth('2020-03', OTHER, at(20));
    const fresh = await ledger.leaseMonth('2020-04', RUN, at(20));
    const statesWhileLeased = await ledger.getMonthStates();
    const expired = await ledger.leaseMonth('2020-04', OTHER, at(2_000));
    await ledger.putMonthState({ month: '2020-03', hash: SHA_B, records: 31, runId: RUN });
    const afterLoad = await ledger.leaseMonth('2020-03', OTHER, at(30));
    await ledger.releaseMonth('2020-03', RUN);
    const stillOthers = await ledger.leaseMonth('2020-03', RUN, at(40));

    // Assess
    expect(taken).toEqual({ state: { month: '2020-03', hash: SHA_A, records: 31, runId: OTHER } });
    expect(retaken).not.toBe('held');
    expect(refused).toBe('held');
    expect(fresh).toEqual({ state: undefined });
    expect([...statesWhileLeased.keys()]).toEqual(['2020-03']);
    expect(expired).toEqual({ state: undefined });
    expect(afterLoad).toEqual({ state: { month: '2020-03', hash: SHA_B, records: 31, runId: RUN } });
    expect(stillOthers).toBe('held');
  });

  it('stores source baselines per URL, with validators, content identity and the run that saw them', async () => {
    // Prepare
    const later = 'm-20261126T060000Z-abcdef';
    const mirror = { ...sources[0], urlKey: 'k-mirror', url: 'https://mirror.example.org/us.csv' } as SourceIdentity;

    // Act
    await ledger.putSourceBaselines(RUN, [...sources, mirror]);
    await ledger.putSourceBaselines(later, [
      { ...sources[0], sha256: SHA_B, rows: 3, firstDate: '2020-03-01', lastDate: '2020-03-03' } as SourceIdentity,
    ]);

    // Assess
    expect(await ledger.getSourceBaseline('nyt', 'k-nyt')).toEqual({
      id: 'nyt',
      url: 'https://example.org/us.csv',
      urlKey: 'k-nyt',
      etag: '"n1"',
      sha256: SHA_B,
      bytes: 10,
      rows: 3,
      firstDate: '2020-03-01',
      lastDate: '2020-03-03',
      runId: later,
    });
    expect(await ledger.getSourceBaseline('nyt', 'k-mirror')).toMatchObject({ sha256: SHA_A, runId: RUN });
    expect(await ledger.getSourceBaseline('jhu', 'k-jhu')).toMatchObject({
      lastModified: 'Tue, 24 Nov 2026',
      sha256: SHA_B,
      runId: RUN,
    });
    expect(await ledger.getSourceBaseline('jhu', 'k-nyt')).toBeUndefined();
    expect(await ledger.listSourceBaselines()).toHaveLength(3);
    const several = await ledger.getSourceBaselines([
      { id: 'nyt', urlKey: 'k-nyt' },
      { id: 'jhu', urlKey: 'k-jhu' },
      { id: 'jhu', urlKey: 'k-nyt' },
    ]);
    expect([...several.keys()].sort()).toEqual(['jhu#k-jhu', 'nyt#k-nyt']);
    expect(several.get('nyt#k-nyt')).toEqual(await ledger.getSourceBaseline('nyt', 'k-nyt'));
    expect(several.get('jhu#k-jhu')).toEqual(await ledger.getSourceBaseline('jhu', 'k-jhu'));
  });

  it('claims a notification once; a lapsed claim can be taken over; a sent one never', async () => {
    // Prepare
    const type = 'EtlRunCompleted';

    // Act
    const first = await ledger.claimNotification(RUN, type, 1_000, 2_000);
    const whileHeld = await ledger.claimNotification(RUN, type, 1_500, 2_500);
    const afterLapse = await ledger.claimNotification(RUN, type, 2_001, 3_000);
    await ledger.markNotified(RUN, type, 'sns-1');
    const afterSent = await ledger.claimNotification(RUN, type, 99_000, 100_000);
    const otherType = await ledger.claimNotification(RUN, 'EtlRunFailed', 1_000, 2_000);

    // Assess
    expect([first, whileHeld, afterLapse, afterSent, otherType]).toEqual([
      'claimed',
      'in-progress',
      'claimed',
      'sent',
      'claimed',
    ]);
  });
});
