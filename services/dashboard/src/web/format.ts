/** Formatting for people (en-US, dates in UTC: a date of the series is a calendar day, not an instant). */

const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const day = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
const weekday = new Intl.DateTimeFormat('en-US', {
  weekday: 'short',
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  timeZone: 'UTC',
});
const month = new Intl.DateTimeFormat('en-US', { month: 'short', timeZone: 'UTC' });
const monthDay = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const instant = new Intl.DateTimeFormat('en-US', {
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
  timeZoneName: 'short',
});

const utc = (date: string) => new Date(`${date}T00:00:00Z`);

/** 29464208 → "29,464,208" */
export const formatCount = (value: number): string => count.format(value);

/** 29464208 → "29.5M" */
export const formatCompact = (value: number): string => compact.format(value);

/** "2021-03-16" → "Mar 16, 2021" */
export const formatDay = (date: string): string => day.format(utc(date));

/** "2021-03-16" → "Tue, Mar 16, 2021" */
export const formatWeekday = (date: string): string => weekday.format(utc(date));

/** "2021-03-16" → "Mar" */
export const formatMonth = (date: string): string => month.format(utc(date));

/** "2021-03-16" → "Mar 16" */
export const formatMonthDay = (date: string): string => monthDay.format(utc(date));

/** An ISO instant → "Nov 25, 2026, 10:02 UTC" */
export const formatInstant = (iso: string): string => instant.format(new Date(iso));

/** How long ago `iso` was, roughly: "just now", "5 minutes ago", "3 days ago". */
export function formatAgo(iso: string, now: Date): string {
  const seconds = Math.round((now.getTime() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 60) return 'just now';
  const units: Array<[number, string]> = [
    [60, 'minute'],
    [3600, 'hour'],
    [86_400, 'day'],
    [2_592_000, 'month'],
    [31_536_000, 'year'],
  ];
  let chosen: [number, string] = units[0] as [number, string];
  for (const unit of units) if (seconds >= unit[0]) chosen = unit;
  const n = Math.floor(seconds / chosen[0]);
  return `${n} ${chosen[1]}${n === 1 ? '' : 's'} ago`;
}

/** A signed daily value: 1234 → "+1,234", -5 → "−5". */
export function formatSigned(value: number): string {
  if (value < 0) return `−${formatCount(-value)}`;
  return `+${formatCount(value)}`;
}
