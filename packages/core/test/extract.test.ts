import { dateRange, jhuCsv, nytCsv, toStream } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { extractJhuRows, extractNytRows, StructuralError } from '../src/index.js';
import { collect, structuralErrorOf } from './helpers.js';

const threeDays = [
  { date: '2020-01-21', cases: 1, deaths: 0 },
  { date: '2020-01-22', cases: 1, deaths: 0 },
  { date: '2020-01-23', cases: 3, deaths: 1 },
];

describe('extractNytRows', () => {
  it('streams every row as trimmed raw strings with its physical line number', async () => {
    // Prepare
    const text = 'date,cases,deaths\n2020-01-21, 1 ,0\n2020-01-22,abc,-3\n';

    // Act
    const rows = await collect(extractNytRows(toStream(text)));

    // Assess
    expect(rows).toEqual([
      { line: 2, date: '2020-01-21', cases: '1', deaths: '0' },
      { line: 3, date: '2020-01-22', cases: 'abc', deaths: '-3' },
    ]);
  });

  it.each([
    ['LF', {}],
    ['CRLF', { eol: '\r\n' as const }],
    ['BOM', { bom: true }],
    ['BOM + CRLF', { bom: true, eol: '\r\n' as const }],
    ['trailing blank lines', { trailingBlankLines: 3 }],
    ['CRLF + trailing blank lines', { eol: '\r\n' as const, trailingBlankLines: 2 }],
  ])('gives the same rows and line numbers with %s, whatever the chunk size', async (_, layout) => {
    // Prepare
    const text = nytCsv(threeDays, layout);

    for (const chunkSize of [1, 2, 3, 5, 64 * 1024]) {
      // Act
      const rows = await collect(extractNytRows(toStream(text, { chunkSize })));

      // Assess
      expect(rows.map((row) => [row.line, row.date, row.cases, row.deaths])).toEqual([
        [2, '2020-01-21', '1', '0'],
        [3, '2020-01-22', '1', '0'],
        [4, '2020-01-23', '3', '1'],
      ]);
    }
  });

  it('counts blank lines in between and a last line without a line break', async () => {
    // Prepare
    const text = '\uFEFFdate,cases,deaths\r\n\r\n2020-01-21,1,0\r\n   \r\n2020-01-22,1,0';

    // Act
    const rows = await collect(extractNytRows(toStream(text, { chunkSize: 4 })));

    // Assess
    expect(rows.map((row) => row.line)).toEqual([3, 5]);
  });

  it('numbers a row after a quoted multi-line field by the line it starts on', async () => {
    // Prepare
    const text = 'date,cases,deaths,note\n2020-01-21,1,0,"two\nlines"\n2020-01-22,2,0,x\n';

    // Act
    const rows = await collect(extractNytRows(toStream(text)));

    // Assess
    expect(rows.map((row) => row.line)).toEqual([2, 4]);
  });

  it('accepts string chunks as well as bytes', async () => {
    // Prepare
    const text = nytCsv(threeDays, { bom: true, eol: '\r\n' });

    // Act
    const rows = await collect(extractNytRows(toStream(text, { chunkSize: 3, as: 'string' })));

    // Assess
    expect(rows.map((row) => row.line)).toEqual([2, 3, 4]);
  });

  it('keeps multi-byte characters intact when a chunk ends inside one', async () => {
    // Prepare
    const text = 'date,cases,deaths,note\n2020-01-21,1,0,Curaçao ✓\n2020-01-2é,1,0,x\n';

    // Act
    const rows = await collect(extractNytRows(toStream(text, { chunkSize: 1 })));

    // Assess
    expect(rows.map((row) => [row.line, row.date])).toEqual([
      [2, '2020-01-21'],
      [3, '2020-01-2é'],
    ]);
  });

  it('finds the columns by name when they are reordered or extra columns are present', async () => {
    // Prepare
    const text = 'deaths,state,date,cases,fips\n0,all,2020-01-21,1,00\n2,all,2020-01-22,5,00\n';

    // Act
    const rows = await collect(extractNytRows(toStream(text)));

    // Assess
    expect(rows).toEqual([
      { line: 2, date: '2020-01-21', cases: '1', deaths: '0' },
      { line: 3, date: '2020-01-22', cases: '5', deaths: '2' },
    ]);
  });

  it('refuses a renamed column, naming the source, line, column and the columns found', async () => {
    // Prepare
    const text = 'date,cases,death\n2020-01-21,1,0\n';

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text)));

    // Assess
    expect(error).toBeInstanceOf(StructuralError);
    expect(error.name).toBe('StructuralError');
    expect(error).toMatchObject({ source: 'nyt', line: 1, column: 'deaths' });
    expect(error.message).toBe('nyt line 1: required column "deaths" is missing (found columns: date, cases, death)');
  });

  it('refuses a missing column', async () => {
    // Prepare
    const text = 'date,deaths\n2020-01-21,0\n';

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'nyt', line: 1, column: 'cases' });
    expect(error.message).toContain('required column "cases" is missing (found columns: date, deaths)');
  });

  it('refuses a column that appears twice', async () => {
    // Prepare
    const text = 'date,cases,deaths,cases\n2020-01-21,1,0,2\n';

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'nyt', line: 1, column: 'cases' });
    expect(error.reason).toContain('appears more than once');
  });

  it.each([
    ['an empty file', ''],
    ['a file of blank lines', '\n\r\n\n'],
    ['a BOM alone', '\uFEFF'],
  ])('refuses %s', async (_, text) => {
    // Prepare
    const input = toStream(text);

    // Act
    const error = await structuralErrorOf(extractNytRows(input));

    // Assess
    expect(error).toMatchObject({ source: 'nyt', line: 1 });
    expect(error.message).toBe('nyt line 1: the file is empty; expected a header line such as "date,cases,deaths"');
  });

  it('refuses a header without data rows', async () => {
    // Prepare
    const text = 'date,cases,deaths\n\n';

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text)));

    // Assess
    expect(error.source).toBe('nyt');
    expect(error.reason).toContain('no data rows');
  });

  it.each([
    ['<!DOCTYPE html>\n<html lang="en"><head><title>404</title></head><body>Not Found</body></html>\n'],
    ['\n  <html>\n<body>rate limited</body></html>'],
    ['<html>'],
  ])('refuses an HTML error page served instead of the file: %j', async (text) => {
    // Prepare
    const input = toStream(text, { chunkSize: 2 });

    // Act
    const error = await structuralErrorOf(extractNytRows(input));

    // Assess
    expect(error.source).toBe('nyt');
    expect(error.line).toBe(text.startsWith('\n') ? 2 : 1);
    expect(error.message).toMatch(/not CSV but looks like an HTML page \(it starts with "<(!DOCTYPE html|html)>/);
  });

  it('refuses a body that is not CSV at all (a plain-text error)', async () => {
    // Prepare
    const text = '404: Not Found';

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'nyt', line: 1, column: 'date' });
    expect(error.message).toContain('found columns: 404: Not Found');
  });

  it('refuses a JSON error body', async () => {
    // Prepare
    const text = '{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com"}';

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'nyt', line: 1 });
    expect(error.message).toContain('not valid CSV');
  });

  it('refuses an unclosed quote, reporting the line where the quoted field opens', async () => {
    // Prepare
    const text = 'date,cases,deaths\n2020-01-21,1,0\n2020-01-22,"2,0\n2020-01-23,3,0\n';

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'nyt', line: 3 });
    expect(error.reason).toContain('never closed');
    expect(error.cause).toBeDefined();
  });

  it('refuses a quote inside an unquoted field, with its line', async () => {
    // Prepare
    const text = 'date,cases,deaths\r\n2020-01-21,1,0\r\n2020-01-22,2 "x",0\r\n';

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'nyt', line: 3 });
    expect(error.reason).toContain('double quote');
  });

  it('refuses a row whose field count differs from the header, with its line (CRLF and BOM)', async () => {
    // Prepare
    const text = '\uFEFFdate,cases,deaths\r\n2020-01-21,1,0\r\n\r\n2020-01-22,2,0,7\r\n';

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text, { chunkSize: 1 })));

    // Assess
    expect(error).toMatchObject({ source: 'nyt', line: 4 });
    expect(error.message).toBe('nyt line 4: found 4 fields; expected 3 like the header ("date,cases,deaths")');
  });

  it('refuses a record far longer than any CSV line (a binary body)', async () => {
    // Prepare
    const text = `date,cases,deaths\n${'x'.repeat(20_000)}`;

    // Act
    const error = await structuralErrorOf(extractNytRows(toStream(text, { chunkSize: 4096 })));

    // Assess
    expect(error).toMatchObject({ source: 'nyt', line: 2 });
    expect(error.reason).toContain('longer than');
  });

  it('passes errors of the input stream through unchanged (they are not structural)', async () => {
    // Prepare
    const networkError = new Error('socket hang up');
    async function* failing() {
      yield 'date,cases,deaths\n2020-01-21,1,0\n';
      throw networkError;
    }

    // Act
    const outcome = collect(extractNytRows(failing()));

    // Assess
    await expect(outcome).rejects.toBe(networkError);
  });

  it('stops reading the input when the consumer stops early', async () => {
    // Prepare
    let finished = false;
    async function* endless() {
      try {
        yield 'date,cases,deaths\n';
        for (const date of dateRange('2020-01-01', 100_000)) yield `${date},1,0\n`;
      } finally {
        finished = true;
      }
    }

    // Act
    const first: string[] = [];
    for await (const row of extractNytRows(endless())) {
      first.push(row.date);
      if (first.length === 2) break;
    }
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(first).toEqual(['2020-01-01', '2020-01-02']);
    expect(finished).toBe(true);
  });
});

describe('extractJhuRows', () => {
  const places = [
    { date: '2020-01-22', country: 'Korea, South', recovered: 0 },
    { date: '2020-01-22', country: 'US', recovered: 0, confirmed: 1 },
    { date: '2020-01-22', country: 'US', province: 'Washington', recovered: 9 },
    { date: '2020-01-23', country: 'US', recovered: 2 },
    { date: '2020-01-22', country: 'Curaçao', recovered: 4 },
    { date: '2020-01-22', country: 'USA', recovered: 5 },
  ];

  it.each([
    ['with Lat/Long', true],
    ['without Lat/Long', false],
  ])('keeps only the US-national rows %s, with their physical lines', async (_, latLong) => {
    // Prepare
    const text = jhuCsv(places, { latLong });

    // Act
    const rows = await collect(extractJhuRows(toStream(text, { chunkSize: 3 })));

    // Assess
    expect(rows).toEqual([
      { line: 3, date: '2020-01-22', recovered: '0' },
      { line: 5, date: '2020-01-23', recovered: '2' },
    ]);
  });

  it('selects columns by header name when the order changes and extra columns appear', async () => {
    // Prepare
    const text = [
      'Recovered,Extra,Province/State,Deaths,Date,Country/Region,Confirmed',
      '7,x,,1,2020-02-01,US,10',
      '8,x,Ontario,1,2020-02-01,Canada,10',
      '9,y, ,1,2020-02-02, US ,10',
    ].join('\r\n');

    // Act
    const rows = await collect(extractJhuRows(toStream(`\uFEFF${text}\r\n\r\n`)));

    // Assess
    expect(rows).toEqual([
      { line: 2, date: '2020-02-01', recovered: '7' },
      { line: 4, date: '2020-02-02', recovered: '9' },
    ]);
  });

  it('refuses a file without the Recovered column', async () => {
    // Prepare
    const text = 'Date,Country/Region,Province/State,Confirmed,Deaths\n2020-01-22,US,,1,0\n';

    // Act
    const error = await structuralErrorOf(extractJhuRows(toStream(text)));

    // Assess
    expect(error.message).toBe(
      'jhu line 1: required column "Recovered" is missing (found columns: Date, Country/Region, Province/State, Confirmed, Deaths)',
    );
  });

  it('refuses a file with no US-national row', async () => {
    // Prepare
    const text = jhuCsv([{ date: '2020-01-22', country: 'France', recovered: 0 }]);

    // Act
    const error = await structuralErrorOf(extractJhuRows(toStream(text)));

    // Assess
    expect(error.source).toBe('jhu');
    expect(error.reason).toContain('no US national row');
  });

  it('refuses an HTML page', async () => {
    // Prepare
    const text = '\uFEFF<!doctype html><html><body>503 Service Unavailable</body></html>';

    // Act
    const error = await structuralErrorOf(extractJhuRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'jhu', line: 1 });
    expect(error.reason).toContain('HTML page');
  });

  it('keeps a US row whose country field is quoted, and reads quoted commas of other countries as one field', async () => {
    // Prepare
    const text = [
      'Date,Country/Region,Province/State,Confirmed,Recovered,Deaths',
      '2020-01-22,"Korea, South",,1,9,0',
      '2020-01-22,"US","",1,3,0',
      '2020-01-23," US ",,1,4,0',
      '2020-01-24,"U""S",,1,5,0',
      '2020-01-25,\u00a0US\u2003,,1,6,0',
      '2020-01-26,US,"Washington, D.C.",1,7,0',
    ].join('\n');

    // Act
    const rows = await collect(extractJhuRows(toStream(text)));

    // Assess
    expect(rows).toEqual([
      { line: 3, date: '2020-01-22', recovered: '3' },
      { line: 4, date: '2020-01-23', recovered: '4' },
      { line: 6, date: '2020-01-25', recovered: '6' },
    ]);
  });

  it('numbers US rows by their physical line after quoted line breaks in other rows (LF and CRLF)', async () => {
    for (const eol of ['\n', '\r\n']) {
      // Prepare
      const text = [
        '\uFEFFDate,Country/Region,Province/State,Confirmed,Recovered,Deaths',
        `2020-01-22,"Somewhere${eol}with${eol}breaks",,1,9,0`,
        '2020-01-22,US,,1,3,0',
        '',
        '2020-01-23,US,,1,4,0',
      ].join(eol);

      // Act
      const rows = await collect(extractJhuRows(toStream(text, { chunkSize: 5 })));

      // Assess
      expect(rows.map((row) => row.line)).toEqual([5, 7]);
    }
  });

  it('gives the same rows and lines when a file spans many read batches, whatever the chunk size', async () => {
    // Prepare: ~300 KB, with quoted countries, CRLF and a BOM, so records are cut between batches
    const dates = dateRange('2020-01-22', 420);
    const others = Array.from({ length: 18 }, (_, index) => `"Land, ${index}"`);
    const lines = ['\uFEFFDate,Country/Region,Province/State,Confirmed,Recovered,Deaths'];
    for (const [day, date] of dates.entries()) {
      for (const other of others) lines.push(`${date},${other},,${day},${day},0`);
      lines.push(`${date},"US",,${day},${day * 3},0`);
    }
    const text = `${lines.join('\r\n')}\r\n`;
    const expected = dates.map((date, day) => ({ line: 2 + day * 19 + 18, date, recovered: String(day * 3) }));

    for (const chunkSize of [997, 4096, 65_537]) {
      // Act
      const rows = await collect(extractJhuRows(toStream(text, { chunkSize })));

      // Assess
      expect(rows).toEqual(expected);
    }
  });

  it('refuses the whole file for a malformed row of another country (structure is checked on every row)', async () => {
    // Prepare
    const text = `${jhuCsv(places)}2020-01-24,"France,,1,2,0\n2020-01-25,Spain,,1,2,0\n`;

    // Act
    const error = await structuralErrorOf(extractJhuRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'jhu', line: 8 });
    expect(error.reason).toContain('never closed');
  });

  it('does not validate the values of rows it drops (another country with a bad date is ignored)', async () => {
    // Prepare
    const text = jhuCsv([...places, { date: 'not a date', country: 'France', recovered: 'lots' }]);

    // Act
    const rows = await collect(extractJhuRows(toStream(text)));

    // Assess
    expect(rows.map((row) => row.line)).toEqual([3, 5]);
  });

  it('reports the line of an inconsistent row counted over all rows, not only US ones', async () => {
    // Prepare
    const text = `${jhuCsv(places)}2020-01-24,US,,1,2\n`;

    // Act
    const error = await structuralErrorOf(extractJhuRows(toStream(text)));

    // Assess
    expect(error).toMatchObject({ source: 'jhu', line: 8 });
    expect(error.reason).toContain('found 5 fields; expected 6');
  });
});
