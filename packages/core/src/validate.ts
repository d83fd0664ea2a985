import { isRealDate, type JhuRawRow, type NytRawRow, type RejectedRow, type SourceId } from '@covid-etl/contracts';
import { JHU_COLUMNS, NYT_COLUMNS } from './extract.js';
import { quote, truncate } from './text.js';

/** The outcome of validating one raw row: its typed value, or why it is rejected. */
export type RowValidation<T> = { ok: true; value: T } | { ok: false; rejected: RejectedRow };

/** A valid NYT day: cumulative cases and deaths. */
export interface NytDay {
  date: string;
  cases: number;
  deaths: number;
}

/** A valid JHU US-national day: cumulative recoveries. */
export interface JhuDay {
  date: string;
  recovered: number;
}

/** Longest raw value kept in a RejectedRow (the rows travel in queue messages). */
const MAX_REJECTED_VALUE_CHARS = 100;

/** Why a value is not usable (the first thing wrong), or undefined when it is. */
type Problem = string | undefined;

/**
 * Checks one NYT row against the row-level rules: `date` is `YYYY-MM-DD` and exists in the
 * calendar; `cases` and `deaths` are whole numbers >= 0 written in plain decimal digits.
 * Reports the first column that breaks a rule (date, then cases, then deaths) with the raw
 * value and what was expected. Pure; never throws.
 */
export function validateNytRow(raw: NytRawRow): RowValidation<NytDay> {
  const dateProblem = checkDate(NYT_COLUMNS.date, raw.date);
  if (dateProblem) return reject('nyt', raw.line, NYT_COLUMNS.date, raw.date, dateProblem);
  const cases = parseCount(NYT_COLUMNS.cases, raw.cases);
  if (typeof cases === 'string') return reject('nyt', raw.line, NYT_COLUMNS.cases, raw.cases, cases);
  const deaths = parseCount(NYT_COLUMNS.deaths, raw.deaths);
  if (typeof deaths === 'string') return reject('nyt', raw.line, NYT_COLUMNS.deaths, raw.deaths, deaths);
  return { ok: true, value: { date: raw.date, cases, deaths } };
}

/**
 * Checks one JHU US-national row: `Date` is `YYYY-MM-DD` and exists in the calendar;
 * `Recovered` is a whole number >= 0 in plain decimal digits. Same reporting as
 * {@link validateNytRow}. Pure; never throws.
 */
export function validateJhuRow(raw: JhuRawRow): RowValidation<JhuDay> {
  const dateProblem = checkDate(JHU_COLUMNS.date, raw.date);
  if (dateProblem) return reject('jhu', raw.line, JHU_COLUMNS.date, raw.date, dateProblem);
  const recovered = parseCount(JHU_COLUMNS.recovered, raw.recovered);
  if (typeof recovered === 'string') {
    return reject('jhu', raw.line, JHU_COLUMNS.recovered, raw.recovered, recovered);
  }
  return { ok: true, value: { date: raw.date, recovered } };
}

/** Whether a raw date passes the date rule (used to find duplicated dates). */
export function isValidDate(value: string): boolean {
  return checkDate('date', value) === undefined;
}

/** Why a raw date breaks the date rule (`YYYY-MM-DD`, a real day), or undefined. */
export function checkDate(column: string, value: string): Problem {
  if (value === '') return `${column} is empty; expected a date as YYYY-MM-DD`;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return `${column} ${quote(value)} is not written as YYYY-MM-DD; expected a date such as 2020-03-01`;
  }
  if (!isRealDate(value)) return `${column} ${quote(value)} does not exist in the calendar; expected a real date`;
  return undefined;
}

/** The count (a whole number >= 0 in plain digits), or the reason it is not one. */
export function parseCount(column: string, value: string): number | string {
  const expected = 'expected a whole number >= 0';
  if (value === '') return `${column} is empty; ${expected}`;
  if (/^\d+$/.test(value)) {
    const count = Number(value);
    return Number.isSafeInteger(count)
      ? count
      : `${column} ${quote(value)} is too large; expected at most ${Number.MAX_SAFE_INTEGER}`;
  }
  const number = Number(value);
  if (Number.isFinite(number)) {
    if (number < 0) return `${column} ${quote(value)} is negative; ${expected}`;
    if (!Number.isInteger(number)) return `${column} ${quote(value)} is not a whole number; ${expected}`;
    return `${column} ${quote(value)} is not written in plain decimal digits; ${expected} such as 1234`;
  }
  return `${column} ${quote(value)} is not a number; ${expected}`;
}

function reject(source: SourceId, line: number, column: string, value: string, reason: string): RowValidation<never> {
  return { ok: false, rejected: { source, line, column, value: truncate(value, MAX_REJECTED_VALUE_CHARS), reason } };
}
