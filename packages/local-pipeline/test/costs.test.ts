import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunCosts } from '@covid-etl/contracts';
import { dateRange, jhuCsv, nytCsv, sharedDataAvailable, snapshotPath, startSourceServer } from '@covid-etl/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LocalPipeline } from '../src/pipeline.js';

/**
 * Every run summary carries its own cost drivers, counted where the requests are made: the
 * figures here are real counts of a local run, checked against what the run must have done.
 */
const describeReal = sharedDataAvailable() ? describe : describe.skip;

const requestsOf = (pipeline: LocalPipeline, operations: string[]) =>
  operations.reduce((sum, name) => sum + (pipeline.dynamoRequests[name] ?? 0), 0);
const writeRequests = (pipeline: LocalPipeline) =>
  requestsOf(pipeline, ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const readRequests = (pipeline: LocalPipeline) => requestsOf(pipeline, ['GetItem', 'BatchGetItem', 'Query', 'Scan']);

describeReal('run costs on the real snapshots', () => {
  let server: Awaited<ReturnType<typeof startSourceServer>>;
  beforeAll(async () => {
    server = await startSourceServer({
      '/nyt.csv': { file: snapshotPath('nytFinal') },
      '/jhu.csv': { file: snapshotPath('jhuFinal') },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('a full load reports 1 event, 2 SQS messages per chunk, the bytes of both files; an unchanged re-run downloads nothing', async () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'etl-costs-'));
    const input = { trigger: 'manual' as const, sources: { nyt: server.url('/nyt.csv'), jhu: server.url('/jhu.csv') } };
    const pipeline = await LocalPipeline.open({ dir });
    try {
      // Act
      const full = await pipeline.run(input);
      const writesOfFull = writeRequests(pipeline);
      const readsOfFull = readRequests(pipeline);
      const again = await pipeline.run(input);

      // Assess
      const costs = full.summary?.costs as RunCosts;
      const chunks = full.summary?.chunks.expected ?? 0;
      expect(full.status).toBe('SUCCEEDED');
      expect(chunks).toBeGreaterThan(10);
      expect(costs.eventsPut).toBe(1);
      expect(costs.sqsMessagesSent).toBe(chunks * 2);
      expect(costs.sqsMessagesReceived).toBe(chunks * 2);
      expect(costs.sqsSendRequests).toBe(Math.ceil(chunks / 10) + chunks);
      expect(costs.bytesDownloaded).toBe(
        statSync(snapshotPath('nytFinal')).size + statSync(snapshotPath('jhuFinal')).size,
      );
      // Every day is inserted: a day and its version are 2 items, 25 to a BatchWriteItem request
      // (each item at least a write unit); all counted, and no more than the process made. Not in
      // the summary, whatever the run's size: the writes after it (status, event mark, source
      // baselines) and the notifier's (its claim, then marked sent).
      const inserted = full.summary?.counts.inserted ?? Infinity;
      expect(costs.dynamoWriteRequests).toBeGreaterThanOrEqual(Math.ceil((inserted * 2) / 25));
      expect(costs.dynamoWriteUnits).toBeGreaterThanOrEqual(inserted * 2);
      expect(costs.dynamoWriteRequests).toBeLessThanOrEqual(writesOfFull);
      expect(writesOfFull - costs.dynamoWriteRequests).toBeLessThanOrEqual(8);
      // Reads: every one the run made (the loader reads each invocation's run and chunks once),
      // all counted but the few after the summary (the notifier's, the finish's last).
      expect(costs.dynamoReadRequests).toBeGreaterThan(chunks / 10);
      expect(costs.dynamoReadRequests).toBeLessThanOrEqual(readsOfFull);
      expect(readsOfFull - costs.dynamoReadRequests).toBeLessThanOrEqual(8);
      // Units come from DynamoDB's answers: about one per small write (a failed condition and
      // the write that records the costs report none to the meter).
      expect(costs.dynamoWriteUnits).toBeGreaterThan(costs.dynamoWriteRequests * 0.9);
      expect(costs.dynamoReadUnits).toBeGreaterThan(0);

      const unchanged = again.summary?.costs as RunCosts;
      expect(again.summary?.counts.inserted).toBe(0);
      expect(unchanged).toMatchObject({ eventsPut: 1, sqsMessagesSent: 0, sqsMessagesReceived: 0, bytesDownloaded: 0 });
      expect(unchanged.dynamoReadRequests).toBeGreaterThan(0);
    } finally {
      await pipeline.close();
    }
  });
});

describe('run costs under redelivery', () => {
  it('count every delivery (real requests) while the data counts stay exact', async () => {
    // Prepare: every loader message is delivered twice (the first attempt fails).
    const dir = mkdtempSync(path.join(tmpdir(), 'etl-costs-redeliver-'));
    const days = dateRange('2020-03-01', 61);
    const nyt = path.join(dir, 'nyt.csv');
    const jhu = path.join(dir, 'jhu.csv');
    writeFileSync(nyt, nytCsv(days.map((date, i) => ({ date, cases: 100 + i, deaths: i }))));
    writeFileSync(jhu, jhuCsv(days.map((date) => ({ date, recovered: 0 }))));
    const sources = { nyt: pathToFileURL(nyt).href, jhu: pathToFileURL(jhu).href };
    const clean = await LocalPipeline.open({ dir: path.join(dir, 'clean') });
    const faulty = await LocalPipeline.open({ dir: path.join(dir, 'faulty'), faults: { loader: 'fail-first' } });
    try {
      // Act
      const once = await clean.run({ trigger: 'manual', sources });
      const twice = await faulty.run({ trigger: 'manual', sources });

      // Assess
      expect(twice.summary?.counts).toEqual(once.summary?.counts);
      const a = once.summary?.costs as RunCosts;
      const b = twice.summary?.costs as RunCosts;
      expect(a.sqsMessagesReceived).toBe(2 * (once.summary?.chunks.expected ?? 0));
      expect(b.sqsMessagesReceived).toBeGreaterThan(a.sqsMessagesReceived);
      expect(b.dynamoWriteRequests).toBeGreaterThan(a.dynamoWriteRequests);
      expect(b.bytesDownloaded).toBe(a.bytesDownloaded);
      expect(b.bytesDownloaded).toBe(statSync(nyt).size + statSync(jhu).size);
    } finally {
      await clean.close();
      await faulty.close();
    }
  });
});
