import type { JhuRawRow, NytRawRow } from '@covid-etl/contracts';
import { Sha256 } from '@covid-etl/contracts';
import { dateRange } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import {
  assertChunkSize,
  ChunkTooLargeError,
  chunkHash,
  chunkRawByMonth,
  MAX_CHUNK_BYTES,
  StructuralError,
  transformChunk,
} from '../src/index.js';

function nytRows(dates: string[], firstLine = 2): NytRawRow[] {
  return dates.map((date, index) => ({ line: firstLine + index, date, cases: digitsOf(date), deaths: '1' }));
}

function jhuRows(dates: string[], firstLine = 1000): JhuRawRow[] {
  return dates.map((date, index) => ({ line: firstLine + index, date, recovered: digitsOf(date) }));
}

/** A count that depends on the date only, so a day has the same values wherever it sits. */
function digitsOf(date: string): string {
  return date.replace(/\D/g, '').slice(-4) || '0';
}

describe('chunkRawByMonth', () => {
  it('groups both sources by calendar month, months sorted, rows in file order', () => {
    // Prepare
    const nyt = nytRows(dateRange('2020-01-21', 45));
    const jhu = jhuRows(dateRange('2020-01-22', 44));

    // Act
    const chunks = chunkRawByMonth(nyt, jhu);

    // Assess
    expect(chunks.map((chunk) => [chunk.month, chunk.nyt.length, chunk.jhu.length])).toEqual([
      ['2020-01', 11, 10],
      ['2020-02', 29, 29],
      ['2020-03', 5, 5],
    ]);
    expect(chunks[1]?.nyt[0]?.date).toBe('2020-02-01');
    expect(chunks.every((chunk) => Sha256.safeParse(chunk.hash).success)).toBe(true);
  });

  it('puts a row whose date has no month with the previous row of its source; the transformer rejects it by line', () => {
    // Prepare
    const nyt = nytRows(['2020-01-30', '2020-01-31', '02/01/2020', '2020-02-02']);
    const jhu = jhuRows(['2020-01-31', 'garbage', '2020-02-01', '2020-02-02']);

    // Act
    const chunks = chunkRawByMonth(nyt, jhu);
    const january = transformChunk(chunks[0] ?? { nyt: [], jhu: [] });

    // Assess
    expect(chunks.map((chunk) => [chunk.month, chunk.nyt.map((r) => r.line), chunk.jhu.map((r) => r.line)])).toEqual([
      ['2020-01', [2, 3, 4], [1000, 1001]],
      ['2020-02', [5], [1002, 1003]],
    ]);
    expect(january.rejected.map((row) => [row.source, row.line, row.column])).toEqual([
      ['nyt', 4, 'date'],
      ['jhu', 1001, 'Date'],
    ]);
  });

  it('puts leading rows without a month with the next row', () => {
    // Prepare
    const nyt = nytRows(['', 'x', '2020-03-01']);

    // Act
    const chunks = chunkRawByMonth(nyt, []);

    // Assess
    expect(chunks.map((chunk) => [chunk.month, chunk.nyt.length])).toEqual([['2020-03', 3]]);
  });

  it('uses the month prefix of a badly written date that still starts with a month', () => {
    // Prepare
    const nyt = nytRows(['2020-03-31', '2020-04-1', '2020-04-02']);

    // Act
    const chunks = chunkRawByMonth(nyt, []);

    // Assess
    expect(chunks.map((chunk) => [chunk.month, chunk.nyt.map((r) => r.date)])).toEqual([
      ['2020-03', ['2020-03-31']],
      ['2020-04', ['2020-04-1', '2020-04-02']],
    ]);
  });

  it('refuses a source in which no row has a month', () => {
    // Prepare
    const jhu = jhuRows(['1/22/20', '1/23/20']);

    // Act
    const act = () => chunkRawByMonth(nytRows(['2020-01-22']), jhu);

    // Assess
    expect(act).toThrow(StructuralError);
    expect(act).toThrow(/^jhu: none of the 2 rows has a date starting with a month/);
  });

  it('gives nothing for no rows', () => {
    // Prepare, Act
    const chunks = chunkRawByMonth([], []);

    // Assess
    expect(chunks).toEqual([]);
  });
});

describe('chunkHash', () => {
  const march = dateRange('2020-03-01', 31);

  it('ignores line numbers: days appended to other months leave a month hash unchanged', () => {
    // Prepare
    const before = chunkRawByMonth(nytRows(march, 42), jhuRows(march, 1000));
    const after = chunkRawByMonth(
      nytRows([...dateRange('2020-02-20', 10), ...march, ...dateRange('2020-04-01', 5)], 2),
      jhuRows([...dateRange('2020-02-25', 5), ...march], 50_000),
    );

    // Act
    const marchBefore = before.find((chunk) => chunk.month === '2020-03');
    const marchAfter = after.find((chunk) => chunk.month === '2020-03');

    // Assess
    expect(marchBefore?.nyt[0]?.line).not.toBe(marchAfter?.nyt[0]?.line);
    expect(marchAfter?.hash).toBe(marchBefore?.hash);
  });

  it('changes when a value is revised, in either source', () => {
    // Prepare
    const nyt = nytRows(march);
    const jhu = jhuRows(march);
    const original = chunkHash({ month: '2020-03', nyt, jhu });
    const revisedNyt = nyt.map((row) => (row.date === '2020-03-15' ? { ...row, deaths: '2' } : row));
    const revisedJhu = jhu.map((row) => (row.date === '2020-03-15' ? { ...row, recovered: '99' } : row));

    // Act
    const nytRevision = chunkHash({ month: '2020-03', nyt: revisedNyt, jhu });
    const jhuRevision = chunkHash({ month: '2020-03', nyt, jhu: revisedJhu });
    const dayRemoved = chunkHash({ month: '2020-03', nyt: nyt.slice(1), jhu });

    // Assess
    expect(new Set([original, nytRevision, jhuRevision, dayRemoved]).size).toBe(4);
  });

  it('does not mistake a value moved between sources or fields for the same content', () => {
    // Prepare
    const a = chunkHash({
      month: '2020-03',
      nyt: [{ line: 2, date: '2020-03-01', cases: '12', deaths: '3' }],
      jhu: [],
    });

    // Act
    const b = chunkHash({
      month: '2020-03',
      nyt: [{ line: 2, date: '2020-03-01', cases: '1', deaths: '23' }],
      jhu: [],
    });

    // Assess
    expect(a).not.toBe(b);
  });
});

describe('assertChunkSize', () => {
  it('accepts a month of real-sized rows and returns its message size', () => {
    // Prepare
    const [chunk] = chunkRawByMonth(nytRows(dateRange('2020-03-01', 31)), jhuRows(dateRange('2020-03-01', 31)));

    // Act
    const bytes = assertChunkSize(chunk ?? { month: '', hash: '', nyt: [], jhu: [] });

    // Assess
    expect(bytes).toBeGreaterThan(1000);
    expect(bytes).toBeLessThan(10_000);
  });

  it('throws when the message would exceed MAX_CHUNK_BYTES', () => {
    // Prepare
    const nyt = nytRows(dateRange('2020-03-01', 31)).map((row) => ({ ...row, cases: 'x'.repeat(7_000) }));
    const [chunk] = chunkRawByMonth(nyt, []);

    // Act
    const act = () => assertChunkSize(chunk ?? { month: '', hash: '', nyt: [], jhu: [] });

    // Assess
    expect(MAX_CHUNK_BYTES).toBe(200 * 1024);
    expect(act).toThrow(ChunkTooLargeError);
    expect(act).toThrow(/^month 2020-03: the chunk message would be \d+ bytes; expected at most 204800 bytes/);
  });
});
