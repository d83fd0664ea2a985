const compact = (date: Date) =>
  date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');

/**
 * The run id of a scheduled run: a function of the scheduled time and of the backfill it asks
 * for, if any (`2026-11-25T00:00:00Z` → `s-20261125T000000Z`; the counties backfill schedule at
 * the same time → `s-20261125T000000Z-counties`), so every delivery of the same schedule firing
 * (Scheduler and Lambda retry asynchronous invocations) names the same run, and a backfill
 * scheduled at the daily run's time is a run of its own, not a duplicate of the daily one.
 */
export function scheduledRunId(scheduledTime: string, backfill?: 'counties'): string {
  const date = new Date(scheduledTime);
  if (Number.isNaN(date.getTime())) throw new RangeError(`scheduledTime "${scheduledTime}" is not an ISO-8601 time`);
  return `s-${compact(date)}${backfill ? `-${backfill}` : ''}`;
}

/** A fresh run id for a manual run: `m-20261125T183851Z-1a2b3c`. */
export function manualRunId(now: Date): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(3)), (byte) => byte.toString(16).padStart(2, '0'));
  return `m-${compact(now)}-${random.join('')}`;
}
