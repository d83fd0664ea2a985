/** The date format every source must use. */
export const EXPECTED_DATE_FORMAT = 'YYYY-MM-DD';

/** Data rows looked at to recognise a date column written in another format. */
export const DATE_FORMAT_SAMPLE_ROWS = 3;

/**
 * Names the format a date is written in when it is a recognisable date that is not
 * `YYYY-MM-DD` (e.g. `30/03/2020` → `DD/MM/YYYY`), else undefined (an ISO date, or something
 * that is no date at all: a row-level problem). Day-first and month-first slashes are told
 * apart by a part above 12; when neither is, both are named. Pure.
 */
export function otherDateFormat(value: string): string | undefined {
  let match = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})$/.exec(value);
  if (match) {
    const [, a, separator, b, year] = match as unknown as [string, string, string, string, string];
    const y = year.length === 4 ? 'YYYY' : 'YY';
    const dayFirst = `DD${separator}MM${separator}${y}`;
    const monthFirst = `MM${separator}DD${separator}${y}`;
    if (Number(a) > 12 && Number(b) <= 12) return dayFirst;
    if (Number(b) > 12 && Number(a) <= 12) return monthFirst;
    return `${dayFirst} or ${monthFirst}`;
  }
  match = /^\d{4}([/.])\d{1,2}\1\d{1,2}$/.exec(value);
  if (match) return `YYYY${match[1]}MM${match[1]}DD`;
  if (/^\d{4}-\d{1,2}-\d{1,2}$/.test(value) && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'YYYY-M-D';
  if (/^\d{8}$/.test(value) && /^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/.test(value)) return 'YYYYMMDD';
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value)) return 'YYYY-MM-DDTHH:MM (a timestamp)';
  return undefined;
}
