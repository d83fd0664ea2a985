import { toStream } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { describeGeoRejection, extractGeoRows, type GeoRowResult, StructuralError } from '../src/index.js';
import { collect, structuralErrorOf } from './helpers.js';

const COUNTIES_HEADER = 'date,county,state,fips,cases,deaths';
const STATES_HEADER = 'date,state,fips,cases,deaths';

function counties(lines: string[], chunkSize?: number) {
  const text = [COUNTIES_HEADER, ...lines].join('\n');
  return extractGeoRows(toStream(text, chunkSize === undefined ? {} : { chunkSize }), {
    kind: 'counties',
    file: 'us-counties.csv',
  });
}

function states(lines: string[]) {
  return extractGeoRows(toStream([STATES_HEADER, ...lines].join('\n')), { kind: 'states', file: 'us-states.csv' });
}

function rejections(results: GeoRowResult[]) {
  return results.flatMap((result) => (result.ok ? [] : [result.rejected]));
}

describe('extractGeoRows on a counties file', () => {
  it('keys rows by county FIPS and gives the rows without FIPS their own ids, whatever the chunk boundaries', async () => {
    // Prepare
    const lines = [
      '2020-04-01,Harris,Texas,48201,1000,10',
      '2020-04-01,Unknown,Texas,,12,0',
      '2020-04-01,New York City,New York,,47000,1800',
      '2020-04-01,Kansas City,Missouri,,120,2',
      '2020-04-01,Joplin,Missouri,,3,0',
      '2020-04-01,Bristol Bay plus Lake and Peninsula,Alaska,02997,1,0',
    ];

    for (const chunkSize of [1, 7, 1000]) {
      // Act
      const results = await collect(counties(lines, chunkSize));

      // Assess
      expect(rejections(results)).toEqual([]);
      expect(results.map((result) => (result.ok ? [result.record.geo, result.record.line] : []))).toEqual([
        ['48201', 2],
        ['48-unknown', 3],
        ['36-nyc', 4],
        ['29-kansas-city', 5],
        ['29-joplin', 6],
        ['02997', 7],
      ]);
      expect(results[0]).toEqual({
        ok: true,
        record: { geo: '48201', date: '2020-04-01', cases: 1000, deaths: 10, line: 2 },
        name: 'Harris',
      });
      expect(results.map((result) => (result.ok ? result.name : undefined))).toEqual([
        'Harris',
        'Unknown',
        'New York City',
        'Kansas City',
        'Joplin',
        'Bristol Bay plus Lake and Peninsula',
      ]);
    }
  });

  it('keeps an empty deaths as null ("not reported", as for the Puerto Rico municipios), never as 0', async () => {
    // Act
    const results = await collect(counties(['2021-02-16,Adjuntas,Puerto Rico,72001,1093,']));

    // Assess
    expect(results).toEqual([
      { ok: true, record: { geo: '72001', date: '2021-02-16', cases: 1093, deaths: null, line: 2 }, name: 'Adjuntas' },
    ]);
  });

  it('rejects each bad row with file, line, column, value and a one-line reason, and keeps the others', async () => {
    // Prepare
    const lines = [
      '2020-04-01,Harris,Texas,48201,1000,10',
      '2020-04-31,Harris,Texas,48201,1000,10',
      '2020-04-02,Harris,Texas,48201,-5,10',
      '2020-04-02,Harris,Tejas,48201,5,10',
      '2020-04-02,Harris,Texas,06037,5,10',
      '2020-04-02,Harris,Texas,4820,5,10',
      '2020-04-02,Harris,Texas,48000,5,10',
      '2020-04-02,Brooklyn,New York,,5,1',
      '2020-04-02,Joplin,Kansas,,5,1',
      '2020-04-02,Harris,Texas,48201,5,x',
      '2020-04-01,Harris,Texas,48201,1001,10',
      '2020-04-02,Harris,Texas,48201,5,',
    ];

    // Act
    const results = await collect(counties(lines));

    // Assess
    const rejected = rejections(results);
    expect(rejected.map((row) => [row.line, row.column, row.value])).toEqual([
      [3, 'date', '2020-04-31'],
      [4, 'cases', '-5'],
      [5, 'state', 'Tejas'],
      [6, 'fips', '06037'],
      [7, 'fips', '4820'],
      [8, 'fips', '48000'],
      [9, 'fips', ''],
      [10, 'fips', ''],
      [11, 'deaths', 'x'],
      [12, 'date', '2020-04-01'],
    ]);
    expect(rejected.every((row) => row.file === 'us-counties.csv' && !row.reason.includes('\n'))).toBe(true);
    expect(rejected[0]?.reason).toBe('date "2020-04-31" does not exist in the calendar; expected a real date');
    expect(rejected[3]?.reason).toBe('fips "06037" is not in state "Texas"; expected a code starting with 48');
    expect(rejected[6]?.reason).toContain(
      'fips is empty and county "Brooklyn" of New York is not one of the publisher\'s areas without a code',
    );
    expect(rejected[7]?.reason).toContain('county "Joplin" of Kansas');
    expect(rejected[9]?.reason).toBe(
      '48201 on 2020-04-01 is duplicated: line 2 already has it; expected one row per geography and date (the first is kept)',
    );
    expect(rejected[9]?.chunk).toBe('county/48/2020-04');
    expect(describeGeoRejection(rejected[1] as never)).toBe(
      'us-counties.csv line 4, column cases: cases "-5" is negative; expected a whole number >= 0',
    );
    expect(rejected[2]?.chunk).toBeUndefined();
    // Every source row is accounted for: kept or rejected.
    expect(results).toHaveLength(lines.length);
    expect(results.filter((result) => result.ok).map((result) => (result.ok ? result.record.line : 0))).toEqual([
      2, 13,
    ]);
  });

  it('refuses an unusable file as a whole, naming the file and the line', async () => {
    // Act
    const missing = await structuralErrorOf(
      extractGeoRows(toStream('date,county,state,cases,deaths\n2020-04-01,Harris,Texas,1,0\n'), {
        kind: 'counties',
        file: 'us-counties-recent.csv',
      }),
    );
    const fields = await structuralErrorOf(counties(['2020-04-01,Harris,Texas,48201,1000']));
    const dates = await structuralErrorOf(
      counties([
        '04/13/2020,Harris,Texas,48201,1,0',
        '04/14/2020,Harris,Texas,48201,1,0',
        '04/15/2020,Harris,Texas,48201,1,0',
      ]),
    );

    const empty = await structuralErrorOf(extractGeoRows(toStream(''), { kind: 'states', file: 'us-states.csv' }));
    const html = await structuralErrorOf(
      extractGeoRows(toStream('<!DOCTYPE html><html><body>rate limited, try again later</body></html>\n'), {
        kind: 'states',
        file: 'us-states.csv',
      }),
    );

    // Assess
    expect(empty.message).toMatch(/^us-states\.csv line 1: the file is empty; expected a header line/);
    expect(html.message).toMatch(/^us-states\.csv line 1: the body is not CSV but looks like an HTML page/);
    expect(missing).toBeInstanceOf(StructuralError);
    expect(missing.message).toMatch(/^us-counties-recent\.csv line 1: required column "fips" is missing/);
    expect(fields.message).toMatch(/^us-counties\.csv line 2: found 5 fields; expected 6 like the header/);
    expect(dates.message).toMatch(/^us-counties\.csv line 2: column "date" is written as MM\/DD\/YYYY/);
    for (const error of [missing, fields, dates, empty, html]) expect(error.message).not.toContain('\n');
  });
});

describe('extractGeoRows on a states file', () => {
  it('keys rows by state FIPS, checks the FIPS against the name and requires deaths', async () => {
    // Act
    const results = await collect(
      states([
        '2020-03-01,Texas,48,10,0',
        '2020-03-01,Virgin Islands,78,1,0',
        '2020-03-01,Texas,,10,0',
        '2020-03-02,Texas,06,10,0',
        '2020-03-02,Texas,48,10,',
        '2020-03-02,Texas,48,11,0',
      ]),
    );

    // Assess
    expect(results.flatMap((result) => (result.ok ? [result.record] : []))).toEqual([
      { geo: '48', date: '2020-03-01', cases: 10, deaths: 0, line: 2 },
      { geo: '78', date: '2020-03-01', cases: 1, deaths: 0, line: 3 },
      { geo: '48', date: '2020-03-02', cases: 11, deaths: 0, line: 7 },
    ]);
    expect(rejections(results).map((row) => [row.file, row.line, row.column, row.reason])).toEqual([
      ['us-states.csv', 4, 'fips', 'fips is empty; expected 48, the code of Texas'],
      ['us-states.csv', 5, 'fips', 'fips "06" does not match state "Texas"; expected 48'],
      ['us-states.csv', 6, 'deaths', 'deaths is empty; expected a whole number >= 0'],
    ]);
  });
});
