import { toStream } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { otherDateFormat } from '../src/date-format.js';
import { extractJhuRows, extractNytRows } from '../src/index.js';
import { collect, structuralErrorOf } from './helpers.js';

describe('a date column in another format is one structural failure', () => {
  it('refuses a JHU snapshot dated like 30/03/2020 (early 2020), naming the found and expected formats', async () => {
    // Prepare: the layout of a real early-2020 JHU snapshot, with day-first dates.
    const text = [
      'Date,Country/Region,Province/State,Lat,Long,Confirmed,Recovered,Deaths',
      '28/03/2020,Afghanistan,,33.0,65.0,110,2,4',
      '29/03/2020,Afghanistan,,33.0,65.0,120,2,4',
      '30/03/2020,Afghanistan,,33.0,65.0,170,2,4',
      '30/03/2020,US,,37.1,-95.7,161807,5644,2978',
    ].join('\n');

    // Act
    const error = await structuralErrorOf(extractJhuRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'jhu', line: 2, column: 'Date' });
    expect(error.message).toBe(
      'jhu line 2: column "Date" is written as DD/MM/YYYY (e.g. "28/03/2020"); expected YYYY-MM-DD, such as 2020-03-30',
    );
  });

  it('refuses an NYT file with month-first two-digit-year dates, even with fewer than three rows', async () => {
    // Act
    const error = await structuralErrorOf(extractNytRows(toStream('date,cases,deaths\n3/30/20,1,0\n3/31/20,2,0\n')));

    // Assess
    expect(error.message).toBe(
      'nyt line 2: column "date" is written as MM/DD/YY (e.g. "3/30/20"); expected YYYY-MM-DD, such as 2020-03-30',
    );
  });

  it('leaves one odd date among ISO dates to row-level validation', async () => {
    // Act
    const rows = await collect(
      extractNytRows(toStream('date,cases,deaths\n30/03/2020,1,0\n2020-03-31,2,0\n2020-04-01,3,0\n')),
    );

    // Assess
    expect(rows.map((row) => row.date)).toEqual(['30/03/2020', '2020-03-31', '2020-04-01']);
  });
});

describe('otherDateFormat', () => {
  it.each([
    ['2020-03-30', undefined],
    ['30/03/2020', 'DD/MM/YYYY'],
    ['03/30/2020', 'MM/DD/YYYY'],
    ['03/04/2020', 'DD/MM/YYYY or MM/DD/YYYY'],
    ['30.03.2020', 'DD.MM.YYYY'],
    ['2020/03/30', 'YYYY/MM/DD'],
    ['2020-3-30', 'YYYY-M-D'],
    ['20200330', 'YYYYMMDD'],
    ['2020-03-30T00:00:00Z', 'YYYY-MM-DDTHH:MM (a timestamp)'],
    ['yesterday', undefined],
    ['', undefined],
  ])('%s → %s', (value, format) => {
    expect(otherDateFormat(value)).toBe(format);
  });
});
