import { SeriesRecord } from '@covid-etl/contracts';
import { dateRange, jhuCsv, nytCsv, toStream } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { StructuralError, transformChunk, transformSources } from '../src/index.js';

describe('transformChunk', () => {
  it('joins on date: cases and deaths from NYT, recovered from JHU, only dates in both (NYT starts a day early)', () => {
    // Prepare
    const nyt = [
      { line: 2, date: '2020-01-21', cases: '1', deaths: '0' },
      { line: 3, date: '2020-01-22', cases: '1', deaths: '0' },
      { line: 4, date: '2020-01-23', cases: '1', deaths: '0' },
    ];
    const jhu = [
      { line: 104582, date: '2020-01-22', recovered: '0' },
      { line: 104583, date: '2020-01-23', recovered: '0' },
      { line: 104584, date: '2020-01-24', recovered: '3' },
    ];

    // Act
    const result = transformChunk({ nyt, jhu });

    // Assess
    expect(result).toEqual({
      records: [
        { date: '2020-01-22', cases: 1, deaths: 0, recovered: 0 },
        { date: '2020-01-23', cases: 1, deaths: 0, recovered: 0 },
      ],
      rejected: [],
      unmatched: { nytOnly: ['2020-01-21'], jhuOnly: ['2020-01-24'] },
    });
    expect(result.records.every((record) => SeriesRecord.safeParse(record).success)).toBe(true);
  });

  it('sorts the records by date whatever the row order', () => {
    // Prepare
    const dates = ['2020-02-03', '2020-02-01', '2020-02-02'];
    const nyt = dates.map((date, index) => ({ line: index + 2, date, cases: '5', deaths: '0' }));
    const jhu = [...dates].reverse().map((date, index) => ({ line: index + 2, date, recovered: '1' }));

    // Act
    const { records } = transformChunk({ nyt, jhu });

    // Assess
    expect(records.map((record) => record.date)).toEqual(['2020-02-01', '2020-02-02', '2020-02-03']);
  });

  it('rejects the second and later rows of a date, naming the line of the first, and keeps the first', () => {
    // Prepare
    const nyt = [
      { line: 2, date: '2020-03-01', cases: '10', deaths: '0' },
      { line: 3, date: '2020-03-01', cases: '11', deaths: '0' },
      { line: 4, date: '2020-03-02', cases: '12', deaths: '0' },
      { line: 5, date: '2020-03-01', cases: 'bad', deaths: '0' },
    ];
    const jhu = [
      { line: 20, date: '2020-03-01', recovered: '1' },
      { line: 21, date: '2020-03-02', recovered: '2' },
      { line: 22, date: '2020-03-02', recovered: '2' },
    ];

    // Act
    const { records, rejected } = transformChunk({ nyt, jhu });

    // Assess
    expect(records).toEqual([
      { date: '2020-03-01', cases: 10, deaths: 0, recovered: 1 },
      { date: '2020-03-02', cases: 12, deaths: 0, recovered: 2 },
    ]);
    expect(rejected).toEqual([
      {
        source: 'nyt',
        line: 3,
        column: 'date',
        value: '2020-03-01',
        reason: 'date "2020-03-01" is duplicated: line 2 already has it; expected one row per date (the first is kept)',
      },
      expect.objectContaining({ source: 'nyt', line: 5, column: 'date' }),
      {
        source: 'jhu',
        line: 22,
        column: 'Date',
        value: '2020-03-02',
        reason:
          'Date "2020-03-02" is duplicated: line 21 already has it; expected one row per date (the first is kept)',
      },
    ]);
  });

  it('keeps a date out of the series when its first row is invalid, and rejects the later ones as duplicates', () => {
    // Prepare
    const nyt = [
      { line: 2, date: '2020-03-01', cases: '-1', deaths: '0' },
      { line: 3, date: '2020-03-01', cases: '5', deaths: '0' },
    ];
    const jhu = [{ line: 9, date: '2020-03-01', recovered: '0' }];

    // Act
    const { records, rejected, unmatched } = transformChunk({ nyt, jhu });

    // Assess
    expect(records).toEqual([]);
    expect(rejected.map((row) => [row.line, row.column])).toEqual([
      [2, 'cases'],
      [3, 'date'],
    ]);
    expect(unmatched).toEqual({ nytOnly: [], jhuOnly: ['2020-03-01'] });
  });

  it('rejects invalid rows of either source with their lines and joins the rest', () => {
    // Prepare
    const nyt = [
      { line: 2, date: '2020-04-01', cases: '1.5', deaths: '0' },
      { line: 3, date: '2020-04-02', cases: '7', deaths: '1' },
      { line: 4, date: '2020-04-31', cases: '8', deaths: '1' },
    ];
    const jhu = [
      { line: 7, date: '2020-04-01', recovered: '3' },
      { line: 8, date: '2020-04-02', recovered: '' },
    ];

    // Act
    const { records, rejected, unmatched } = transformChunk({ nyt, jhu });

    // Assess
    expect(records).toEqual([]);
    expect(rejected.map((row) => `${row.source}:${row.line}:${row.column}`)).toEqual([
      'nyt:2:cases',
      'nyt:4:date',
      'jhu:8:Recovered',
    ]);
    expect(unmatched).toEqual({ nytOnly: ['2020-04-02'], jhuOnly: ['2020-04-01'] });
  });
});

describe('transformSources', () => {
  it('extracts, chunks by month and transforms two whole files', async () => {
    // Prepare
    const nytDates = dateRange('2020-01-21', 45);
    const jhuDates = dateRange('2020-01-22', 44);
    const nyt = nytCsv(
      nytDates.map((date, day) => ({ date, cases: day + 1, deaths: date === '2020-02-10' ? -3 : 0 })),
      { bom: true, eol: '\r\n', trailingBlankLines: 2 },
    );
    const jhu = jhuCsv(
      jhuDates.flatMap((date, day) => [
        { date, country: 'France', recovered: 1 },
        { date, recovered: day },
      ]),
      { latLong: true },
    );

    // Act
    const result = await transformSources(toStream(nyt, { chunkSize: 100 }), toStream(jhu, { chunkSize: 100 }));

    // Assess
    expect(result.chunks.map((chunk) => chunk.month)).toEqual(['2020-01', '2020-02', '2020-03']);
    expect(result.records).toHaveLength(43);
    expect(result.records[0]).toEqual({ date: '2020-01-22', cases: 2, deaths: 0, recovered: 0 });
    expect(result.records.at(-1)?.date).toBe('2020-03-05');
    expect(result.rejected).toEqual([
      {
        source: 'nyt',
        line: 22,
        column: 'deaths',
        value: '-3',
        reason: 'deaths "-3" is negative; expected a whole number >= 0',
      },
    ]);
    expect(result.unmatched).toEqual({ nytOnly: ['2020-01-21'], jhuOnly: ['2020-02-10'] });
  });

  it('fails as a whole when either source is structurally broken', async () => {
    // Prepare
    const nyt = nytCsv([{ date: '2020-01-22', cases: 1, deaths: 0 }]);
    const jhu = '<!DOCTYPE html><html><body>Too Many Requests</body></html>';

    // Act
    const outcome = transformSources(toStream(nyt), toStream(jhu));

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(StructuralError);
    await expect(transformSources(toStream(nyt), toStream(jhu))).rejects.toMatchObject({ source: 'jhu', line: 1 });
  });
});
