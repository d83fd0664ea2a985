import type { SeriesPoint } from '../api-types.js';

/** A stored day: the nation's (with recoveries) or a state's or county's (deaths null when not reported). */
export interface DayRecord {
  date: string;
  cases: number;
  deaths: number | null;
  recovered: number;
}

/** Days in the moving average of the daily values. */
export const AVERAGE_DAYS = 7;

export interface DerivedSeries {
  points: SeriesPoint[];
  recoveredReportedUntil: string | null;
  recoveredNotReportedFrom: string | null;
}

/**
 * Derives the daily values of a cumulative series in date order:
 * - `newCases`/`newDeaths`: the difference with the previous calendar day, null on the first
 *   day, after a missing date and next to an unreported value (a difference over a gap is not a daily value); a negative
 *   value is a publisher's correction and is kept;
 * - `newCases7d`/`newDeaths7d`: the mean of the last 7 daily values, null unless all 7 exist;
 * - `recovered`: null on the days the source stopped reporting it. Johns Hopkins published 0
 *   for US recoveries from 2020-12-14 on (CSSEGISandData/COVID-19 #3463); the boundary is
 *   computed from the data as the run of zeros that ends the series after a positive value.
 */
export function deriveSeries(records: readonly DayRecord[]): DerivedSeries {
  const sorted = [...records].sort((a, b) => a.date.localeCompare(b.date));
  const lastPositive = sorted.findLastIndex((record) => record.recovered > 0);
  const trailingZerosFrom =
    lastPositive >= 0 &&
    lastPositive < sorted.length - 1 &&
    sorted.slice(lastPositive + 1).every((r) => r.recovered === 0)
      ? lastPositive + 1
      : sorted.length;

  const newCases: Array<number | null> = [];
  const newDeaths: Array<number | null> = [];
  const points = sorted.map((record, index): SeriesPoint => {
    const previous = index > 0 ? sorted[index - 1] : undefined;
    const consecutive = previous !== undefined && isNextDay(previous.date, record.date);
    newCases.push(consecutive ? record.cases - previous.cases : null);
    newDeaths.push(
      consecutive && record.deaths !== null && previous.deaths !== null ? record.deaths - previous.deaths : null,
    );
    return {
      date: record.date,
      cases: record.cases,
      deaths: record.deaths,
      recovered: index >= trailingZerosFrom ? null : record.recovered,
      newCases: newCases[index] ?? null,
      newDeaths: newDeaths[index] ?? null,
      newCases7d: trailingMean(newCases, index),
      newDeaths7d: trailingMean(newDeaths, index),
    };
  });
  return {
    points,
    recoveredReportedUntil: sorted[trailingZerosFrom - 1]?.date ?? null,
    recoveredNotReportedFrom: sorted[trailingZerosFrom]?.date ?? null,
  };
}

/** The points between `from` and `to` (inclusive; an absent bound is open). */
export function sliceRange(points: readonly SeriesPoint[], range: { from?: string; to?: string }): SeriesPoint[] {
  return points.filter(
    (point) =>
      (range.from === undefined || point.date >= range.from) && (range.to === undefined || point.date <= range.to),
  );
}

function trailingMean(values: ReadonlyArray<number | null>, index: number): number | null {
  if (index + 1 < AVERAGE_DAYS) return null;
  let sum = 0;
  for (let i = index - AVERAGE_DAYS + 1; i <= index; i += 1) {
    const value = values[i];
    if (value === null || value === undefined) return null;
    sum += value;
  }
  return Math.round((sum / AVERAGE_DAYS) * 10) / 10;
}

const DAY_MS = 86_400_000;

function isNextDay(previous: string, date: string): boolean {
  return Date.parse(`${date}T00:00:00Z`) - Date.parse(`${previous}T00:00:00Z`) === DAY_MS;
}

/**
 * The daily values of a state's or county's series: as {@link deriveSeries}, without recoveries
 * (null on every day: only the nation has them).
 */
export function deriveGeoSeries(
  days: ReadonlyArray<{ date: string; cases: number; deaths: number | null }>,
): DerivedSeries {
  const derived = deriveSeries(days.map((day) => ({ ...day, recovered: 0 })));
  return {
    points: derived.points.map((point) => ({ ...point, recovered: null })),
    recoveredReportedUntil: null,
    recoveredNotReportedFrom: null,
  };
}
