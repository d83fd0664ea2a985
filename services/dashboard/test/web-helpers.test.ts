import { describe, expect, it } from '@jest/globals';
import { formatAgo, formatCount, formatDay, formatMonth, formatMonthDay, formatSigned } from '../src/web/format.js';
import { presetRange, tickIndices, tickLabel } from '../src/web/ticks.js';

const daysFrom = (start: string, count: number) =>
  Array.from({ length: count }, (_, i) =>
    new Date(Date.parse(`${start}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10),
  );

describe('page formatting (src/web/format.ts)', () => {
  it('formats counts, calendar days (in UTC) and signed daily values in US English', () => {
    // Act and Assess
    expect(formatCount(29_569_140)).toBe('29,569,140');
    expect(formatDay('2021-03-16')).toBe('Mar 16, 2021');
    expect(formatDay('2020-01-01')).toBe('Jan 1, 2020');
    expect(formatSigned(54_531)).toBe('+54,531');
    expect(formatSigned(-12)).toBe('−12');
  });

  it('says roughly how long ago an instant was', () => {
    // Prepare
    const now = new Date('2026-11-25T12:00:00Z');

    // Act and Assess
    expect(formatAgo('2026-11-25T11:59:30Z', now)).toBe('just now');
    expect(formatAgo('2026-11-25T11:59:00Z', now)).toBe('1 minute ago');
    expect(formatAgo('2026-11-25T09:00:00Z', now)).toBe('3 hours ago');
    expect(formatAgo('2026-11-20T12:00:00Z', now)).toBe('5 days ago');
  });
});

describe('date axis ticks (src/web/ticks.ts)', () => {
  it('labels month starts over a long range, thinned to fit and aligned with January', () => {
    // Prepare: 2020-01-22 .. 2021-03-16, the real joined series.
    const dates = daysFrom('2020-01-22', 420);

    // Act
    const wide = tickIndices(dates, 16);
    const narrow = tickIndices(dates, 5);

    // Assess
    expect(wide.map((i) => dates[i])).toEqual([
      '2020-02-01',
      '2020-03-01',
      '2020-04-01',
      '2020-05-01',
      '2020-06-01',
      '2020-07-01',
      '2020-08-01',
      '2020-09-01',
      '2020-10-01',
      '2020-11-01',
      '2020-12-01',
      '2021-01-01',
      '2021-02-01',
      '2021-03-01',
    ]);
    expect(narrow.map((i) => dates[i])).toEqual(['2020-04-01', '2020-07-01', '2020-10-01', '2021-01-01']);
  });

  it('labels every day, then every 7 or 14 days, over a short range', () => {
    // Prepare
    const dates = daysFrom('2021-02-15', 30);

    // Act
    const ticks = tickIndices(dates, 6);

    // Assess
    expect(ticks).toEqual([0, 7, 14, 21, 28]);
    expect(tickIndices(daysFrom('2021-03-10', 5), 6)).toEqual([0, 1, 2, 3, 4]);
  });

  it('puts the year under the first tick and under January', () => {
    // Prepare
    const dates = daysFrom('2020-11-15', 100);
    const ticks = tickIndices(dates, 8);
    const format = { month: formatMonth, monthDay: formatMonthDay };

    // Act
    const labels = ticks.map((_, position) => tickLabel(dates, ticks, position, format));

    // Assess
    expect(labels).toEqual([['Dec', '2020'], ['Jan', '2021'], 'Feb']);
  });
});

describe('preset ranges (src/web/ticks.ts)', () => {
  const available = { from: '2020-01-22', to: '2021-03-16' };

  it('ends every preset on the last day and starts "all" on the first', () => {
    // Act and Assess
    expect(presetRange('all', available)).toEqual(available);
    expect(presetRange('30', available)).toEqual({ from: '2021-02-15', to: '2021-03-16' });
    expect(presetRange('365', available)).toEqual({ from: '2020-03-17', to: '2021-03-16' });
  });

  it('starts a preset longer than the data on its first day, and ignores an unknown one', () => {
    // Act and Assess
    expect(presetRange('1000', available)).toEqual(available);
    expect(presetRange('soon', available)).toBeUndefined();
  });
});
