/** Which dates of a daily axis get a tick and what it says: pure functions, no DOM. */

const MONTH_STEPS = [1, 2, 3, 4, 6, 12];
const DAY_STEPS = [1, 2, 7, 14];

/** Indices of `dates` to label: month starts (thinned) over long ranges, every n days over short ones. */
export function tickIndices(dates: readonly string[], maxTicks: number): number[] {
  const limit = Math.max(2, maxTicks);
  if (dates.length <= 75) {
    const step = DAY_STEPS.find((n) => Math.ceil(dates.length / n) <= limit) ?? Math.ceil(dates.length / limit);
    return dates.map((_, i) => i).filter((i) => i % step === 0);
  }
  const monthStarts = dates.map((date, i) => (date.endsWith('-01') ? i : -1)).filter((i) => i >= 0);
  const step =
    MONTH_STEPS.find((n) => Math.ceil(monthStarts.length / n) <= limit) ?? Math.ceil(monthStarts.length / limit);
  // Keep months aligned with January so the labels read as quarters and halves.
  return monthStarts.filter((i) => (monthIndex(dates[i] as string) - 1) % step === 0);
}

function monthIndex(date: string): number {
  return Number(date.slice(5, 7));
}

/**
 * The text of a tick: a month tick is "Mar", with the year below on January and on the first
 * tick ("Jan", "2021"); a day tick is "Mar 16" (`formatMonthDay`), with the year on the first.
 */
export function tickLabel(
  dates: readonly string[],
  ticks: readonly number[],
  position: number,
  format: { month: (date: string) => string; monthDay: (date: string) => string },
): string | string[] {
  const index = ticks[position] as number;
  const date = dates[index] as string;
  const year = date.slice(0, 4);
  const monthly = dates.length > 75;
  const first = position === 0;
  if (monthly) {
    const label = format.month(date);
    return first || date.slice(5, 7) === '01' ? [label, year] : label;
  }
  const label = format.monthDay(date);
  const previous = position > 0 ? (dates[ticks[position - 1] as number] as string) : undefined;
  return first || previous?.slice(0, 4) !== year ? [label, year] : label;
}

/** A preset range ending on the last available day: "all", or the last `days` days. */
export function presetRange(
  preset: string,
  available: { from: string; to: string },
): { from: string; to: string } | undefined {
  if (preset === 'all') return { ...available };
  const days = Number(preset);
  if (!Number.isInteger(days) || days < 1) return undefined;
  const start = new Date(`${available.to}T00:00:00Z`);
  start.setUTCDate(start.getUTCDate() - (days - 1));
  const from = start.toISOString().slice(0, 10);
  // Dates as YYYY-MM-DD compare as strings; a range longer than the data starts at its first day.
  if (from < available.from) return { ...available };
  return { from, to: available.to };
}
