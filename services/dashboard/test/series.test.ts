import { describe, expect, it } from '@jest/globals';
import { deriveSeries, sliceRange } from '../src/use-cases/series.js';
import { days, record } from './fixtures.js';

describe('deriveSeries: daily values and 7-day averages', () => {
  it('takes differences with the previous day and averages the last 7 of them', () => {
    // Prepare: cases grow by 10, 20, 30, … a day; deaths by 1 a day.
    const records = days('2020-03-01', 10, (i) => ({ cases: 5 * i * (i + 1), deaths: i, recovered: i }));

    // Act
    const { points } = deriveSeries(records);

    // Assess
    expect(points.map((p) => p.newCases)).toEqual([null, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(points.map((p) => p.newDeaths)).toEqual([null, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // Seven daily values exist from the 8th day on: (10+…+70)/7 = 40, then 50, 60.
    expect(points.map((p) => p.newCases7d)).toEqual([null, null, null, null, null, null, null, 40, 50, 60]);
    expect(points.map((p) => p.newDeaths7d)).toEqual([null, null, null, null, null, null, null, 1, 1, 1]);
  });

  it('rounds averages to one decimal and keeps a negative daily value (a publisher correction)', () => {
    // Prepare: daily cases 3, 3, 3, 3, 3, 3, -2 (a correction) → mean 16/7 = 2.2857…
    const cases = [0, 3, 6, 9, 12, 15, 18, 16];
    const records = days('2020-06-01', cases.length, (i) => ({ cases: cases[i] as number, deaths: 0, recovered: 0 }));

    // Act
    const { points } = deriveSeries(records);

    // Assess
    expect(points.at(-1)).toMatchObject({ newCases: -2, newCases7d: 2.3 });
  });

  it('gives no daily value across a missing date, and no average until 7 daily values follow it', () => {
    // Prepare: 2020-04-05 is missing.
    const before = days('2020-04-01', 4, (i) => ({ cases: i * 10, deaths: 0, recovered: 0 }));
    const after = days('2020-04-06', 9, (i) => ({ cases: 100 + i * 10, deaths: 0, recovered: 0 }));

    // Act
    const { points } = deriveSeries([...before, ...after]);

    // Assess
    const byDate = new Map(points.map((p) => [p.date, p]));
    expect(byDate.get('2020-04-06')).toMatchObject({ newCases: null, newCases7d: null });
    expect(byDate.get('2020-04-07')?.newCases).toBe(10);
    expect(byDate.get('2020-04-12')?.newCases7d).toBeNull();
    expect(byDate.get('2020-04-13')?.newCases7d).toBe(10);
  });

  it('sorts the records by date before deriving', () => {
    // Prepare
    const records = [record('2020-03-03', 30, 0, 0), record('2020-03-01', 10, 0, 0), record('2020-03-02', 15, 0, 0)];

    // Act
    const { points } = deriveSeries(records);

    // Assess
    expect(points.map((p) => [p.date, p.newCases])).toEqual([
      ['2020-03-01', null],
      ['2020-03-02', 5],
      ['2020-03-03', 15],
    ]);
  });
});

describe('deriveSeries: where recoveries stop being reported', () => {
  it('shows the zeros that end the series after a positive value as not reported (null), from that day on', () => {
    // Prepare: like Johns Hopkins' US recoveries, 0 from 2020-12-14 on.
    const records = [
      record('2020-12-12', 100, 1, 6_246_605),
      record('2020-12-13', 110, 1, 6_298_082),
      record('2020-12-14', 120, 1, 0),
      record('2020-12-15', 130, 1, 0),
    ];

    // Act
    const derived = deriveSeries(records);

    // Assess
    expect(derived.points.map((p) => p.recovered)).toEqual([6_246_605, 6_298_082, null, null]);
    expect(derived.recoveredReportedUntil).toBe('2020-12-13');
    expect(derived.recoveredNotReportedFrom).toBe('2020-12-14');
  });

  it('keeps zeros before the first positive value and a zero followed by positive values as zero', () => {
    // Prepare
    const records = [
      record('2020-01-22', 1, 0, 0),
      record('2020-01-23', 1, 0, 0),
      record('2020-01-24', 2, 0, 3),
      record('2020-01-25', 2, 0, 0),
      record('2020-01-26', 5, 0, 4),
    ];

    // Act
    const derived = deriveSeries(records);

    // Assess
    expect(derived.points.map((p) => p.recovered)).toEqual([0, 0, 3, 0, 4]);
    expect(derived.recoveredReportedUntil).toBe('2020-01-26');
    expect(derived.recoveredNotReportedFrom).toBeNull();
  });

  it('keeps a series that never reported a recovery as zeros, with no boundary', () => {
    // Prepare
    const records = days('2020-01-22', 3, () => ({ cases: 1, deaths: 0, recovered: 0 }));

    // Act
    const derived = deriveSeries(records);

    // Assess
    expect(derived.points.map((p) => p.recovered)).toEqual([0, 0, 0]);
    expect(derived.recoveredNotReportedFrom).toBeNull();
    expect(derived.recoveredReportedUntil).toBe('2020-01-24');
  });

  it('answers an empty table with no points and no boundary', () => {
    // Act
    const derived = deriveSeries([]);

    // Assess
    expect(derived).toEqual({ points: [], recoveredReportedUntil: null, recoveredNotReportedFrom: null });
  });
});

describe('sliceRange', () => {
  it('keeps the days between from and to, both included, with the averages computed from the days before', () => {
    // Prepare
    const { points } = deriveSeries(days('2020-03-01', 20, (i) => ({ cases: i * 7, deaths: 0, recovered: 0 })));

    // Act
    const slice = sliceRange(points, { from: '2020-03-05', to: '2020-03-09' });
    const open = sliceRange(points, { from: '2020-03-19' });

    // Assess
    expect(slice.map((p) => p.date)).toEqual(['2020-03-05', '2020-03-06', '2020-03-07', '2020-03-08', '2020-03-09']);
    expect(slice.at(-1)?.newCases7d).toBe(7);
    expect(open.map((p) => p.date)).toEqual(['2020-03-19', '2020-03-20']);
  });
});
