const compact = (date: Date) =>
  date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');

/**
 * The run id of a scheduled run: a function of the scheduled time alone
 * (`2026-11-25T00:00:00Z` → `s-20261125T000000Z`), so every delivery of the same schedule
 * firing (Scheduler and Lambda retry asynchronous invocations) names the same run.
 */
export function scheduledRunId(scheduledTime: string): string {
  const date = new Date(scheduledTime);
  if (Number.isNaN(date.getTime())) throw new RangeError(`scheduledTime "${scheduledTime}" is not an ISO-8601 time`);
  return `s-${compact(date)}`;
}

/** A fresh run id for a manual run: `m-20261125T183851Z-1a2b3c`. */
export function manualRunId(now: Date): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(3)), (byte) => byte.toString(16).padStart(2, '0'));
  return `m-${compact(now)}-${random.join('')}`;
}
