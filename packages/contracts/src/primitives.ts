import './zod-locale.js';
import * as z from 'zod/mini';

/** A calendar date `YYYY-MM-DD` that exists (no 2021-02-30). */
export const IsoDate = z.string().check(
  z.regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD'),
  z.refine((value) => isRealDate(value), 'expected a date that exists in the calendar'),
);
export type IsoDate = z.infer<typeof IsoDate>;

/** A calendar month `YYYY-MM`: the unit of chunking. */
export const Month = z.string().check(z.regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM'));
export type Month = z.infer<typeof Month>;

/**
 * A run id: `s-…` for a scheduled run (a function of the scheduled time; `-counties` for the
 * counties backfill schedule), `m-…` for a manual one, `r-…` for the revert of a run (a
 * function of the reverted run's id).
 */
export const RunId = z
  .string()
  .check(z.regex(/^[smr]-[0-9TZ]{16}(-[0-9a-f]{6}|-counties)?$/, 'expected a run id such as s-20261125T000000Z'));
export type RunId = z.infer<typeof RunId>;

/** A lowercase hex SHA-256 digest. */
export const Sha256 = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256 digest'));

export const Count = z.number().check(z.int(), z.nonnegative());

/** True when `value` is a `YYYY-MM-DD` string naming a real calendar day. */
export function isRealDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}
