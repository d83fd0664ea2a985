import { createReadStream } from 'node:fs';
import { sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { assertChunkSize, extractJhuRows, extractNytRows, MAX_CHUNK_BYTES, transformSources } from '../src/index.js';
import { collect } from './helpers.js';

const describeReal = sharedDataAvailable() ? describe : describe.skip;

describeReal('the real source snapshots', () => {
  it('joins NYT final with JHU 2021-03-17 into 420 records, 2020-01-22 to 2021-03-16, none rejected', async () => {
    // Prepare
    const nyt = createReadStream(snapshotPath('nytFinal'));
    const jhu = createReadStream(snapshotPath('jhuFinal'));

    // Act
    const result = await transformSources(nyt, jhu);

    // Assess
    expect(result.records).toHaveLength(420);
    expect(result.records[0]).toEqual({ date: '2020-01-22', cases: 1, deaths: 0, recovered: 0 });
    expect(result.records.at(-1)?.date).toBe('2021-03-16');
    expect(result.rejected).toEqual([]);
    expect(result.unmatched.jhuOnly).toEqual([]);
    expect(result.unmatched.nytOnly[0]).toBe('2020-01-21');
    expect(result.chunks).toHaveLength(39);
  });

  it('keeps every chunk under the message size limit', async () => {
    // Prepare
    const result = await transformSources(
      createReadStream(snapshotPath('nytFinal')),
      createReadStream(snapshotPath('jhuFinal')),
    );

    // Act
    const sizes = result.chunks.map((chunk) => assertChunkSize(chunk));

    // Assess
    expect(Math.max(...sizes)).toBeLessThan(MAX_CHUNK_BYTES);
  });

  it('reads both JHU snapshots (with and without Lat/Long) with equal Recovered on the dates they share', async () => {
    // Prepare
    const withLatLong = createReadStream(snapshotPath('jhuWithLatLong'));
    const withoutLatLong = createReadStream(snapshotPath('jhuFinal'));

    // Act
    const early = await collect(extractJhuRows(withLatLong));
    const late = await collect(extractJhuRows(withoutLatLong));

    // Assess
    expect(early).toHaveLength(263);
    expect(late).toHaveLength(420);
    expect(early[0]).toEqual({ line: 63648, date: '2020-01-22', recovered: '0' });
    expect(late[0]).toEqual({ line: 104582, date: '2020-01-22', recovered: '0' });
    const lateByDate = new Map(late.map((row) => [row.date, row.recovered]));
    const shared = early.filter((row) => lateByDate.has(row.date));
    expect(shared).toHaveLength(263);
    expect(shared.filter((row) => lateByDate.get(row.date) !== row.recovered)).toEqual([]);
  });

  it('reads the early NYT snapshots, which use CRLF line endings, with the right line numbers', async () => {
    // Prepare
    const early = createReadStream(snapshotPath('nytEarly'));
    const next = createReadStream(snapshotPath('nytNext'));

    // Act
    const earlyRows = await collect(extractNytRows(early));
    const nextRows = await collect(extractNytRows(next));

    // Assess
    expect(earlyRows[0]).toEqual({ line: 2, date: '2020-01-21', cases: '1', deaths: '0' });
    expect(earlyRows.every((row, index) => row.line === index + 2)).toBe(true);
    expect(nextRows.length).toBeGreaterThan(earlyRows.length);
    expect(nextRows.every((row) => /^\d+$/.test(row.deaths))).toBe(true);
  });
});
