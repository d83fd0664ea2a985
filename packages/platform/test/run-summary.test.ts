import { MAX_REJECTED_IN_SUMMARY, RunSummary } from '@covid-etl/contracts';
import { runItem, SHA_A } from '@covid-etl/testing/platform';
import { describe, expect, it } from '@jest/globals';
import { buildRunSummary, type ChunkItem } from '../src/index.js';

const RUN = 's-20261125T060000Z';
const now = new Date('2026-11-25T06:02:30.000Z');

function loaded(month: string, counts: ChunkItem['counts'], rejected: ChunkItem['rejected'] = []): ChunkItem {
  return {
    runId: RUN,
    month,
    hash: SHA_A,
    stage: 'LOADED',
    rejected,
    counts,
    dateRange: { from: `${month}-01`, to: `${month}-28` },
  };
}

describe('buildRunSummary', () => {
  it('sums the loaded chunks and counts the records of skipped months as unchanged', () => {
    // Prepare
    const run = runItem({ runId: RUN, months: ['2020-04', '2020-03'], skipped: { months: 3, records: 92 } });
    const chunks = [
      loaded('2020-04', { inserted: 5, updated: 2, unchanged: 23 }),
      loaded('2020-03', { inserted: 31, updated: 0, unchanged: 0 }),
    ];

    // Act
    const summary = buildRunSummary(run, chunks, { status: 'SUCCEEDED', now });

    // Assess
    expect(RunSummary.parse(summary)).toEqual(summary);
    expect(summary).toMatchObject({
      runId: RUN,
      status: 'SUCCEEDED',
      finishedAt: '2026-11-25T06:02:30.000Z',
      durationMs: 150_000,
      counts: { inserted: 36, updated: 2, unchanged: 115, rejected: 0 },
      dateRange: { from: '2020-03-01', to: '2020-04-28' },
      chunks: { expected: 2, loaded: 2, skipped: 3 },
      rejectedRows: [],
    });
    expect(summary).not.toHaveProperty('pendingChunks');
    expect(summary).not.toHaveProperty('failure');
  });

  it('keeps the exact rejected count but at most MAX_REJECTED_IN_SUMMARY rows, sorted by source and line', () => {
    // Prepare
    const rows = (source: 'nyt' | 'jhu', count: number) =>
      Array.from({ length: count }, (_, i) => ({ source, line: count + 1 - i, reason: `bad row ${i}` }));
    const run = runItem({ runId: RUN, months: ['2020-03', '2020-04'] });
    const chunks = [
      loaded('2020-03', { inserted: 1, updated: 0, unchanged: 0 }, rows('nyt', 40)),
      loaded('2020-04', { inserted: 1, updated: 0, unchanged: 0 }, rows('jhu', 30)),
    ];

    // Act
    const summary = buildRunSummary(run, chunks, { status: 'PARTIAL', now });

    // Assess
    expect(summary.counts.rejected).toBe(70);
    expect(summary.rejectedRows).toHaveLength(MAX_REJECTED_IN_SUMMARY);
    expect(summary.rejectedRows.slice(0, 3)).toEqual([
      { source: 'jhu', line: 2, reason: 'bad row 29' },
      { source: 'jhu', line: 3, reason: 'bad row 28' },
      { source: 'jhu', line: 4, reason: 'bad row 27' },
    ]);
    expect(summary.rejectedRows.at(-1)).toEqual({ source: 'nyt', line: 21, reason: 'bad row 20' });
  });

  it('lists the chunks that did not finish, with their stage and last error, and counts only loaded ones', () => {
    // Prepare
    const run = runItem({ runId: RUN, months: ['2020-03', '2020-04', '2020-05'], note: 'replayed' });
    const chunks: ChunkItem[] = [
      { runId: RUN, month: '2020-05', hash: SHA_A, stage: 'SENT', rejected: [] },
      {
        runId: RUN,
        month: '2020-04',
        hash: SHA_A,
        stage: 'TRANSFORMED',
        rejected: [{ source: 'nyt', line: 9, reason: 'x' }],
        lastError: { stage: 'load', message: 'TransientError: throttled', at: now.toISOString() },
      },
      loaded('2020-03', { inserted: 31, updated: 0, unchanged: 0 }),
    ];

    // Act
    const summary = buildRunSummary(run, chunks, {
      status: 'INCOMPLETE',
      now,
      failure: { reason: 'stalled', stage: 'stalled' },
    });

    // Assess
    expect(RunSummary.parse(summary)).toEqual(summary);
    expect(summary.pendingChunks).toEqual([
      { month: '2020-04', stage: 'load', lastError: 'TransientError: throttled' },
      { month: '2020-05', stage: 'transform' },
    ]);
    expect(summary.counts).toEqual({ inserted: 31, updated: 0, unchanged: 0, rejected: 0 });
    expect(summary.chunks).toEqual({ expected: 3, loaded: 1, skipped: 0 });
    expect(summary.failure).toEqual({ reason: 'stalled', stage: 'stalled' });
    expect(summary.note).toBe('replayed');
  });

  it('has no date range when no chunk was loaded', () => {
    // Prepare
    const run = runItem({ runId: RUN, note: 'Both sources are unchanged' });

    // Act
    const summary = buildRunSummary(run, [], { status: 'SUCCEEDED', now });

    // Assess
    expect(summary.dateRange).toBeNull();
    expect(summary.counts).toEqual({ inserted: 0, updated: 0, unchanged: 0, rejected: 0 });
    expect(summary.note).toBe('Both sources are unchanged');
  });

  it('counts a revert per level from its chunk keys (a revert has no plan per level)', () => {
    // Prepare: a revert of the nation's April and two parts of Texas (the state and its counties).
    const parts = ['2020-04', 'state/48/2020-04#01-30', 'county/48/2020-04#01-12'];
    const run = runItem({ runId: RUN, trigger: 'revert', months: parts });
    const chunks = [
      loaded('2020-04', { inserted: 0, updated: 2, unchanged: 0, deleted: 1 }),
      loaded('state/48/2020-04#01-30', { inserted: 0, updated: 30, unchanged: 0 }),
      loaded('county/48/2020-04#01-12', { inserted: 0, updated: 7, unchanged: 0, deleted: 900 }),
    ];

    // Act
    const summary = buildRunSummary(run, chunks, { status: 'SUCCEEDED', now });

    // Assess
    expect(summary.counts).toEqual({ inserted: 0, updated: 39, unchanged: 0, rejected: 0, deleted: 901 });
    expect(summary.levels).toEqual({
      nation: { inserted: 0, updated: 2, unchanged: 0, rejected: 0, deleted: 1 },
      state: { inserted: 0, updated: 30, unchanged: 0, rejected: 0 },
      county: { inserted: 0, updated: 7, unchanged: 0, rejected: 0, deleted: 900 },
    });
  });
});
