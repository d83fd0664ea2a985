import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import { LocalPipeline } from '../src/pipeline.js';
import { DynamoRequestCounter } from '../src/request-counter.js';

const describeReal = sharedDataAvailable() ? describe : describe.skip;

/** Two small states and the District, with their `Unknown` rows: every level of the real files, loaded in seconds. */
const STATES = new Set(['Delaware', 'Rhode Island', 'District of Columbia']);

/** The rows of `file` in STATES, written to `target`; returns its file URL, its row count and its months. */
function subset(file: string, target: string) {
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const kept = lines.filter((line) => STATES.has(line.split(',')[2] as string));
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, `${header}\n${kept.join('\n')}\n`);
  const months = [...new Set(kept.map((line) => line.slice(0, 7)))].sort();
  return { url: pathToFileURL(target).href, rows: kept.length, months };
}

describeReal('the DynamoDB requests of a daily county run (real files, counted by key)', () => {
  it('an unchanged daily re-run writes no data-table item and reads no month outside the recent file', async () => {
    // Prepare: the April 2020 county file (these states: 2020-03 and 2020-04) loaded as a backfill, then the
    // rolling 30-day file of 2021-03-18 (2021-02-16 to 2021-03-17) as a daily run.
    const dir = mkdtempSync(path.join(tmpdir(), 'etl-county-requests-'));
    const april = subset(snapshotPath('countiesApril'), path.join(dir, 'files', 'us-counties.csv'));
    const recent = subset(snapshotPath('countiesRecent'), path.join(dir, 'files', 'us-counties-recent.csv'));
    // The same content under another name: the run cannot stop at "source unchanged".
    const copy = path.join(dir, 'files', 'again', 'us-counties-recent.csv');
    mkdirSync(path.dirname(copy));
    copyFileSync(new URL(recent.url), copy);
    const daily = new DynamoRequestCounter();
    const again = new DynamoRequestCounter();
    let counter = new DynamoRequestCounter();
    const pipeline = await LocalPipeline.open({
      dir: path.join(dir, 'state'),
      onDynamoRequest: (r) => counter.record(r),
    });
    try {
      const backfill = await pipeline.run({
        trigger: 'manual',
        levels: ['county'],
        backfill: 'counties',
        sources: { counties: april.url },
      });
      expect(backfill.summary?.levels?.county?.inserted).toBe(april.rows);

      // Act
      counter = daily;
      const first = await pipeline.run({
        trigger: 'manual',
        levels: ['county'],
        sources: { 'counties-recent': recent.url },
      });
      counter = again;
      const second = await pipeline.run({
        trigger: 'manual',
        levels: ['county'],
        sources: { 'counties-recent': pathToFileURL(copy).href },
      });

      // Assess
      const { data, ledger } = pipeline.tables;
      expect(april.months).toEqual(['2020-03', '2020-04']);
      expect(recent.months).toEqual(['2021-02', '2021-03']);
      expect(first.summary?.levels?.county).toEqual({ inserted: recent.rows, updated: 0, unchanged: 0, rejected: 0 });
      expect(second.status).toBe('SUCCEEDED');
      expect(second.summary?.levels?.county).toEqual({ inserted: 0, updated: 0, unchanged: recent.rows, rejected: 0 });

      // The daily run: one day item and one version per new day; reads only the recent months.
      expect(daily.table(data).written.day).toBe(recent.rows);
      expect(daily.table(data).written.version).toBe(recent.rows);
      expect([...daily.table(data).monthsRead].every((month) => recent.months.includes(month))).toBe(true);
      expect([...daily.table(ledger).monthsRead].sort()).toEqual(recent.months);
      // The counties of each loaded day are recorded beside its hash (one item per chunk, set per part).
      expect(daily.table(ledger).written['day-geographies']).toBe(daily.table(ledger).written['day-hashes']);

      // The unchanged re-run: no data-table write of any kind, no day read, and of the ledger's
      // day hashes only chunks of the recent file's months (the (county, state, month) chunks
      // those dates can touch); none of the backfill's 2020 chunks.
      const dataAgain = again.table(data);
      expect(dataAgain.written).toEqual({});
      for (const operation of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']) {
        expect(dataAgain.requests[operation] ?? 0).toBe(0);
      }
      expect(dataAgain.read.day ?? 0).toBe(0);
      expect([...dataAgain.monthsRead]).toEqual([]);
      const ledgerAgain = again.table(ledger);
      expect([...ledgerAgain.monthsRead].sort()).toEqual(recent.months);
      const chunks = [...ledgerAgain.chunksRead];
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.filter((chunk) => !recent.months.includes(chunk.split('/').at(-1) as string))).toEqual([]);
      expect(chunks).toEqual(expect.arrayContaining(['county/10/2021-02', 'county/44/2021-03']));
      expect(ledgerAgain.written['day-hashes'] ?? 0).toBe(0);
      expect(ledgerAgain.read['day-geographies'] ?? 0).toBe(0);
      expect(ledgerAgain.written['day-geographies'] ?? 0).toBe(0);
    } finally {
      await pipeline.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('honours MAX_SOURCE_BYTES as the fetcher Lambda does (the full county file needs more than the default)', async () => {
    // Prepare: a 1 KiB cap, and a county file over it.
    const dir = mkdtempSync(path.join(tmpdir(), 'etl-county-cap-'));
    const file = subset(snapshotPath('countiesRecent'), path.join(dir, 'files', 'us-counties.csv'));
    const previous = process.env.MAX_SOURCE_BYTES;
    process.env.MAX_SOURCE_BYTES = '1024';
    const pipeline = await LocalPipeline.open({ dir: path.join(dir, 'state') });
    try {
      // Act
      const run = await pipeline.run({
        trigger: 'manual',
        levels: ['county'],
        backfill: 'counties',
        sources: { counties: file.url },
      });

      // Assess
      expect(run.status).toBe('FAILED');
      expect(run.summary?.failure?.reason).toMatch(/the limit is 1024 \(MAX_SOURCE_BYTES\)/);
    } finally {
      if (previous === undefined) delete process.env.MAX_SOURCE_BYTES;
      else process.env.MAX_SOURCE_BYTES = previous;
      await pipeline.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
