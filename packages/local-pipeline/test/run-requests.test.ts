import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dateRange, jhuCsv, nytCsv, startSourceServer } from '@covid-etl/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LocalPipeline } from '../src/pipeline.js';

/**
 * The DynamoDB requests of a national run, by table and operation: the fixed part of every
 * run (issue 12: an unchanged re-run is what a daily schedule mostly does).
 */
describe('DynamoDB requests of a national run', () => {
  let server: Awaited<ReturnType<typeof startSourceServer>>;
  const days = dateRange('2020-03-01', 61);
  beforeAll(async () => {
    server = await startSourceServer({
      '/nyt.csv': { body: nytCsv(days.map((date, i) => ({ date, cases: 100 + i, deaths: i }))) },
      '/jhu.csv': { body: jhuCsv(days.map((date) => ({ date, recovered: 0 }))) },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  /** The requests `act` made, by table and operation. */
  async function requestsOf(pipeline: LocalPipeline, act: () => Promise<unknown>) {
    const before = structuredClone(pipeline.dynamoRequestsByTable);
    await act();
    const made: Record<string, Record<string, number>> = {};
    for (const [table, byOperation] of Object.entries(pipeline.dynamoRequestsByTable)) {
      for (const [operation, count] of Object.entries(byOperation)) {
        const n = count - (before[table]?.[operation] ?? 0);
        if (n > 0) made[table] = { ...made[table], [operation]: n };
      }
    }
    return made;
  }

  it('an unchanged re-run (HTTP 304) writes its run once per step and reads no chunk, version or run list twice', async () => {
    // Prepare: a first run loads the series.
    const dir = mkdtempSync(path.join(tmpdir(), 'etl-run-requests-'));
    const input = { trigger: 'manual' as const, sources: { nyt: server.url('/nyt.csv'), jhu: server.url('/jhu.csv') } };
    const pipeline = await LocalPipeline.open({ dir });
    try {
      const first = await pipeline.run(input);
      expect(first.summary?.counts.inserted).toBe(61);

      // Act
      let again: Awaited<ReturnType<LocalPipeline['run']>> | undefined;
      const requests = await requestsOf(pipeline, async () => {
        again = await pipeline.run(input);
      });

      // Assess
      expect(again?.status).toBe('SUCCEEDED');
      expect(again?.summary?.counts).toMatchObject({ inserted: 0, updated: 0, unchanged: 0 });
      expect(again?.summary?.note).toMatch(/unchanged since/);
      expect(requests).toEqual({
        'covid-etl-local-ledger': {
          // The run created; the notifier's claim and mark of its notification.
          PutItem: 3,
          // Both sources' baselines (their validators) in one request.
          BatchGetItem: 1,
          // The run read back by `run()`.
          GetItem: 1,
          // Nothing to send (the empty plan and the dispatch in one write), the run finished,
          // its event marked published. No baseline is written: both answered 304.
          UpdateItem: 3,
          // The stalled-run check: one listing of the recent runs (unfinished ones, unpublished events).
          Query: 1,
        },
      });
    } finally {
      await pipeline.close();
    }
  });
});
