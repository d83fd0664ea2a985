import { MAX_REVISIONS_IN_SUMMARY, type Revision, type RevisionSummary } from '@covid-etl/contracts';
import type { DayVersion } from './dynamo/version-repository.js';

const FIELDS = ['cases', 'deaths', 'recovered'] as const;

/** A revised day's largest change (by absolute difference; the first field on a tie). */
export function largestChange(version: DayVersion): Revision | undefined {
  if (!version.before || !version.after) return undefined;
  let best: Revision | undefined;
  for (const field of FIELDS) {
    const before = version.before[field];
    const after = version.after[field];
    if (before === after) continue;
    if (!best || Math.abs(after - before) > Math.abs(best.after - best.before)) {
      best = { date: version.date, field, before, after };
    }
  }
  return best;
}

/**
 * The days a run revised (its `updated` versions): how many, first and last date, and the
 * MAX_REVISIONS_IN_SUMMARY largest changes (bounded, whatever the run's size). Undefined when
 * the run revised no day.
 */
export function summarizeRevisions(versions: readonly DayVersion[]): RevisionSummary | undefined {
  const revised = versions.filter((version) => version.change === 'updated');
  if (revised.length === 0) return undefined;
  const dates = revised.map((version) => version.date).sort();
  const largest = revised
    .map(largestChange)
    .filter((change): change is Revision => change !== undefined)
    .sort((a, b) => Math.abs(b.after - b.before) - Math.abs(a.after - a.before) || a.date.localeCompare(b.date))
    .slice(0, MAX_REVISIONS_IN_SUMMARY);
  return { days: revised.length, from: dates[0] as string, to: dates[dates.length - 1] as string, largest };
}
