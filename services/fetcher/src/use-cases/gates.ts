import type { GateTrip, QualityGates } from '@covid-etl/contracts';

/** One day of a series: its date and numeric values by name (cases, deaths, …). */
export interface SeriesDay {
  date: string;
}

const value = (day: SeriesDay, name: string) => Number((day as unknown as Record<string, unknown>)[name]);

export interface GateInput {
  /** The new snapshot's series after parsing (any order). */
  snapshot: readonly SeriesDay[];
  /** What is loaded now (any order). */
  loaded: readonly SeriesDay[];
  /** Names of the cumulative values that must not fall (e.g. `cases`, `deaths`). */
  cumulative: readonly string[];
  /** Names of every value compared for revisions (e.g. `cases`, `deaths`, `recovered`). */
  values: readonly string[];
  thresholds: QualityGates;
  /** What the series is, for messages (e.g. "the snapshot", "Virginia"). */
  label?: string;
}

/** A count for messages: `12,345`. */
export const fmt = (n: number) => n.toLocaleString('en-US');
/** A ratio for messages: `5.0%`, `0.25%`. */
export const pct = (ratio: number) => `${(ratio * 100).toFixed(ratio < 0.01 ? 2 : 1)}%`;
const byDate = (a: SeriesDay, b: SeriesDay) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0);

/** Whether a fall from `before` to `after` exceeds both the ratio and the absolute allowance. */
export function fallsTooFar(before: number, after: number, ratio: number, absolute: number): boolean {
  const drop = before - after;
  return drop > absolute && drop > before * ratio;
}

/**
 * The data-quality gates: compares a parsed snapshot with what is loaded, before anything is
 * written. Returns every gate it trips, each with the figures a person needs to decide (empty:
 * the snapshot may be loaded). Pure and deterministic.
 *
 * - `last-date`: the snapshot ends before the loaded series does;
 * - `missing-dates`: more than `maxMissingDates` loaded dates are absent (a shrink; the row count drops);
 * - `cumulative-fall`: a cumulative value falls from one day to the next inside the snapshot by
 *   more than both `cumulativeFallRatio` and `cumulativeFallAbsolute`;
 * - `revised-down`: a loaded cumulative value is revised down by more than both
 *   `revisedDownRatio` and `revisedDownAbsolute`;
 * - `revised-share`: more than `maxRevisedShare` of the loaded dates change value.
 */
export function evaluateGates(input: GateInput): GateTrip[] {
  const { thresholds: t, cumulative, values } = input;
  const label = input.label ?? 'the snapshot';
  const snapshot = [...input.snapshot].sort(byDate);
  const loaded = [...input.loaded].sort(byDate);
  const trips: GateTrip[] = [];
  const loadedLast = loaded[loaded.length - 1]?.date;
  const snapshotLast = snapshot[snapshot.length - 1]?.date;
  if (snapshotLast && loadedLast && snapshotLast < loadedLast) {
    trips.push({
      gate: 'last-date',
      message: `${label}'s last date ${snapshotLast} is earlier than the loaded ${loadedLast}`,
    });
  }

  const fresh = new Map(snapshot.map((day) => [day.date, day]));
  const missing = loaded.filter((day) => !fresh.has(day.date));
  if (missing.length > t.maxMissingDates) {
    const first = missing[0]?.date;
    const last = missing[missing.length - 1]?.date;
    trips.push({
      gate: 'missing-dates',
      message: `${fmt(missing.length)} loaded date(s) are missing from ${label} (${first}${
        last !== first ? ` to ${last}` : ''
      }); rows ${fmt(loaded.length)} loaded, ${fmt(snapshot.length)} in ${label}`,
    });
  }

  const falls: string[] = [];
  let fallCount = 0;
  for (let i = 1; i < snapshot.length; i += 1) {
    const before = snapshot[i - 1] as SeriesDay;
    const day = snapshot[i] as SeriesDay;
    for (const name of cumulative) {
      const a = value(before, name);
      const b = value(day, name);
      if (fallsTooFar(a, b, t.cumulativeFallRatio, t.cumulativeFallAbsolute)) {
        fallCount += 1;
        if (falls.length < 3) falls.push(`${name} ${fmt(a)} on ${before.date} → ${fmt(b)} on ${day.date}`);
      }
    }
  }
  if (fallCount > 0) {
    trips.push({
      gate: 'cumulative-fall',
      message: `${fmt(fallCount)} day-to-day fall(s) of a cumulative count in ${label} beyond ${pct(
        t.cumulativeFallRatio,
      )} and ${fmt(t.cumulativeFallAbsolute)}: ${falls.join('; ')}${fallCount > falls.length ? '; …' : ''}`,
    });
  }

  const downs: string[] = [];
  let downCount = 0;
  let revised = 0;
  let compared = 0;
  for (const old of loaded) {
    const day = fresh.get(old.date);
    if (!day) continue;
    compared += 1;
    if (values.some((name) => value(day, name) !== value(old, name))) revised += 1;
    for (const name of cumulative) {
      const a = value(old, name);
      const b = value(day, name);
      if (fallsTooFar(a, b, t.revisedDownRatio, t.revisedDownAbsolute)) {
        downCount += 1;
        if (downs.length < 3) downs.push(`${name} on ${old.date} ${fmt(a)} → ${fmt(b)}`);
      }
    }
  }
  if (downCount > 0) {
    trips.push({
      gate: 'revised-down',
      message: `${fmt(downCount)} loaded value(s) revised down beyond ${pct(t.revisedDownRatio)} and ${fmt(
        t.revisedDownAbsolute,
      )}: ${downs.join('; ')}${downCount > downs.length ? '; …' : ''}`,
    });
  }
  const share = loaded.length ? revised / loaded.length : 0;
  if (compared > 0 && share > t.maxRevisedShare) {
    trips.push({
      gate: 'revised-share',
      message: `${label} revises ${fmt(revised)} of ${fmt(loaded.length)} loaded dates (${pct(share)}); at most ${pct(
        t.maxRevisedShare,
      )} may change in one run`,
    });
  }
  return trips;
}
