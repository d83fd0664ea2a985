import { RejectedRow } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import { validateJhuRow, validateNytRow } from '../src/index.js';

const nyt = (overrides: Partial<{ date: string; cases: string; deaths: string }> = {}) => ({
  line: 7,
  date: '2020-03-01',
  cases: '75',
  deaths: '1',
  ...overrides,
});

describe('validateNytRow', () => {
  it('turns a valid row into numbers', () => {
    // Prepare
    const raw = nyt({ cases: '103910034', deaths: '0' });

    // Act
    const result = validateNytRow(raw);

    // Assess
    expect(result).toEqual({ ok: true, value: { date: '2020-03-01', cases: 103910034, deaths: 0 } });
  });

  it.each([
    ['an empty date', { date: '' }, 'date', 'date is empty; expected a date as YYYY-MM-DD'],
    [
      'a date in another format',
      { date: '03/01/2020' },
      'date',
      'date "03/01/2020" is not written as YYYY-MM-DD; expected a date such as 2020-03-01',
    ],
    [
      'a date with a time',
      { date: '2020-03-01T00:00:00Z' },
      'date',
      'date "2020-03-01T00:00:00Z" is not written as YYYY-MM-DD; expected a date such as 2020-03-01',
    ],
    [
      'an impossible date',
      { date: '2021-02-29' },
      'date',
      'date "2021-02-29" does not exist in the calendar; expected a real date',
    ],
    [
      'a month 13',
      { date: '2020-13-01' },
      'date',
      'date "2020-13-01" does not exist in the calendar; expected a real date',
    ],
    ['an empty count', { cases: '' }, 'cases', 'cases is empty; expected a whole number >= 0'],
    [
      'a count that is not a number',
      { cases: 'abc' },
      'cases',
      'cases "abc" is not a number; expected a whole number >= 0',
    ],
    [
      'a non-integer count',
      { deaths: '1.5' },
      'deaths',
      'deaths "1.5" is not a whole number; expected a whole number >= 0',
    ],
    ['a negative count', { deaths: '-3' }, 'deaths', 'deaths "-3" is negative; expected a whole number >= 0'],
    [
      'a count in exponent notation',
      { cases: '1e3' },
      'cases',
      'cases "1e3" is not written in plain decimal digits; expected a whole number >= 0 such as 1234',
    ],
    [
      'a count with a sign',
      { cases: '+3' },
      'cases',
      'cases "+3" is not written in plain decimal digits; expected a whole number >= 0 such as 1234',
    ],
    [
      'a count with a thousands separator',
      { cases: '1,234' },
      'cases',
      'cases "1,234" is not a number; expected a whole number >= 0',
    ],
    [
      'a count beyond exact integers',
      { cases: '99999999999999999999' },
      'cases',
      'cases "99999999999999999999" is too large; expected at most 9007199254740991',
    ],
  ])('rejects %s with the column, raw value and what was expected', (_, overrides, column, reason) => {
    // Prepare
    const raw = nyt(overrides);

    // Act
    const result = validateNytRow(raw);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejected).toEqual({
      source: 'nyt',
      line: 7,
      column,
      value: (overrides as Record<string, string>)[column],
      reason,
    });
    expect(RejectedRow.safeParse(result.rejected).success).toBe(true);
  });

  it('reports the first broken column: date, then cases, then deaths', () => {
    // Prepare
    const raw = nyt({ date: '2020-02-30', cases: 'x', deaths: '-1' });

    // Act
    const result = validateNytRow(raw);

    // Assess
    expect(result.ok ? undefined : result.rejected.column).toBe('date');
  });

  it('cuts a very long raw value in the rejection', () => {
    // Prepare
    const raw = nyt({ cases: 'x'.repeat(5_000) });

    // Act
    const result = validateNytRow(raw);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejected.value?.length).toBe(100);
    expect(result.rejected.reason.length).toBeLessThan(200);
  });
});

describe('validateJhuRow', () => {
  it('turns a valid row into a number', () => {
    // Prepare
    const raw = { line: 104582, date: '2020-01-22', recovered: '0' };

    // Act
    const result = validateJhuRow(raw);

    // Assess
    expect(result).toEqual({ ok: true, value: { date: '2020-01-22', recovered: 0 } });
  });

  it.each([
    ['2020-1-22', '5', 'Date', 'Date "2020-1-22" is not written as YYYY-MM-DD; expected a date such as 2020-03-01'],
    ['2020-04-31', '5', 'Date', 'Date "2020-04-31" does not exist in the calendar; expected a real date'],
    ['2020-04-01', '', 'Recovered', 'Recovered is empty; expected a whole number >= 0'],
    ['2020-04-01', '-3', 'Recovered', 'Recovered "-3" is negative; expected a whole number >= 0'],
    ['2020-04-01', '2.5', 'Recovered', 'Recovered "2.5" is not a whole number; expected a whole number >= 0'],
    ['2020-04-01', 'n/a', 'Recovered', 'Recovered "n/a" is not a number; expected a whole number >= 0'],
  ])('rejects date %j recovered %j', (date, recovered, column, reason) => {
    // Prepare
    const raw = { line: 9, date, recovered };

    // Act
    const result = validateJhuRow(raw);

    // Assess
    expect(result).toEqual({
      ok: false,
      rejected: { source: 'jhu', line: 9, column, value: column === 'Date' ? date : recovered, reason },
    });
  });
});
