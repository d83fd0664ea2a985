import { describe, expect, it } from '@jest/globals';
import { manualRunId, RunId, scheduledRunId } from '../src/index.js';

describe('scheduledRunId', () => {
  it('derives the run id from the scheduled time alone, so duplicate deliveries name the same run', () => {
    // Act
    const first = scheduledRunId('2026-11-25T06:00:00Z');
    const duplicate = scheduledRunId('2026-11-25T06:00:00Z');
    const otherOffset = scheduledRunId('2026-11-25T07:00:00+01:00');
    const withMillis = scheduledRunId('2026-11-25T06:00:00.000Z');
    const nextDay = scheduledRunId('2026-11-26T06:00:00Z');

    // Assess
    expect(first).toBe('s-20261125T060000Z');
    expect([duplicate, otherOffset, withMillis]).toEqual([first, first, first]);
    expect(nextDay).toBe('s-20261126T060000Z');
    expect(RunId.safeParse(first).success).toBe(true);
  });

  it("gives the counties backfill schedule a run of its own, even at the daily run's time", () => {
    // Act
    const daily = scheduledRunId('2026-12-01T00:00:00Z');
    const backfill = scheduledRunId('2026-12-01T00:00:00Z', 'counties');
    const backfillAgain = scheduledRunId('2026-12-01T01:00:00+01:00', 'counties');

    // Assess
    expect(daily).toBe('s-20261201T000000Z');
    expect(backfill).toBe('s-20261201T000000Z-counties');
    expect(backfillAgain).toBe(backfill);
    expect(RunId.safeParse(backfill).success).toBe(true);
  });

  it('refuses a scheduled time that is not a time', () => {
    // Act
    const derive = () => scheduledRunId('tomorrow morning');

    // Assess
    expect(derive).toThrow(RangeError);
    expect(derive).toThrow('scheduledTime "tomorrow morning" is not an ISO-8601 time');
  });
});

describe('manualRunId', () => {
  it('gives a fresh, valid id to every manual run, even at the same instant', () => {
    // Prepare
    const now = new Date('2026-11-25T18:38:51.123Z');

    // Act
    const ids = Array.from({ length: 50 }, () => manualRunId(now));

    // Assess
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^m-20261125T183851Z-[0-9a-f]{6}$/);
      expect(RunId.safeParse(id).success).toBe(true);
    }
  });
});
