import {
  AWS_MESSAGE_LIMIT_BYTES,
  EVENT_SOURCE,
  EventDetailType,
  MAX_PENDING_IN_SUMMARY,
  RunSummary,
} from '@covid-etl/contracts';
import { runItem, SHA_A } from '@covid-etl/testing/platform';
import { describe, expect, it } from '@jest/globals';
import { buildRunSummary, type ChunkItem } from '../src/index.js';

/**
 * A run with 1,000 failed chunks carrying 500-character errors, and 50 loaded chunks each with
 * rejected rows of 500-character values and reasons: its outcome event must still fit one
 * EventBridge entry (256 KiB), so someone is told.
 */
const RUN = 'm-20261125T060000Z-abcdef';
const LONG = 'x'.repeat(500);

const months = Array.from(
  { length: 1050 },
  (_, i) => `${1900 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`,
);
const chunks: ChunkItem[] = months.map((month, i) =>
  i < 1000
    ? {
        runId: RUN,
        month,
        hash: SHA_A,
        stage: 'SENT',
        rejected: [],
        lastError: { stage: 'transform', message: `TransientError: ${LONG}`, at: '2026-11-25T06:01:00.000Z' },
      }
    : {
        runId: RUN,
        month,
        hash: SHA_A,
        stage: 'LOADED',
        counts: { inserted: 30, updated: 0, unchanged: 0 },
        dateRange: { from: `${month}-01`, to: `${month}-28` },
        rejected: Array.from({ length: 10 }, (_, line) => ({
          source: 'nyt' as const,
          line: line + 2,
          column: 'cases',
          value: LONG,
          reason: LONG,
        })),
      },
);

describe('the outcome of a run with 1,000 failed chunks', () => {
  const summary = buildRunSummary(runItem({ runId: RUN, months, dispatch: 'SENT' }), chunks, {
    status: 'INCOMPLETE',
    now: new Date('2026-11-25T07:00:00.000Z'),
    failure: { reason: `1000 of 1050 chunk(s) parked: ${LONG.repeat(20)}`, stage: 'stalled' },
  });

  it('carries the first pending chunks and the exact counts, every text cut', () => {
    // Assess
    expect(RunSummary.parse(summary)).toEqual(summary);
    expect(summary.pendingChunks).toHaveLength(MAX_PENDING_IN_SUMMARY);
    expect(summary.chunks.expected - summary.chunks.loaded).toBe(1000);
    expect(summary.counts.rejected).toBe(500);
    expect(Math.max(...(summary.pendingChunks ?? []).map((c) => c.lastError?.length ?? 0))).toBeLessThanOrEqual(300);
    expect(Math.max(...summary.rejectedRows.map((r) => (r.value?.length ?? 0) + r.reason.length))).toBeLessThanOrEqual(
      600,
    );
  });

  it('fits one EventBridge entry (256 KiB: Source, DetailType and Detail bytes)', () => {
    // Prepare
    const detail = JSON.stringify({ version: 1, reason: summary.failure?.reason, summary });

    // Act
    const entryBytes =
      Buffer.byteLength(EVENT_SOURCE) + Buffer.byteLength(EventDetailType.RunFailed) + Buffer.byteLength(detail);

    // Assess
    expect(entryBytes).toBeLessThan(AWS_MESSAGE_LIMIT_BYTES / 4);
  });
});
