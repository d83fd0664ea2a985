import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dateRange, jhuCsv, nytCsv } from '@covid-etl/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import { LocalPipeline } from '../src/pipeline.js';

/**
 * The local log file, `logs/pipeline.log`: one JSON object per line, each naming the service that
 * wrote it once, as each Lambda's lines do in CloudWatch.
 */
describe('the local log file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'etl-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names each line's service exactly once: the local stack's and every function's", async () => {
    // Prepare
    const days = dateRange('2020-03-01', 40);
    const nyt = path.join(dir, 'nyt.csv');
    const jhu = path.join(dir, 'jhu.csv');
    writeFileSync(nyt, nytCsv(days.map((date, i) => ({ date, cases: 100 + i, deaths: i }))));
    writeFileSync(jhu, jhuCsv(days.map((date) => ({ date, recovered: 0 }))));
    const pipeline = await LocalPipeline.open({ dir: path.join(dir, 'state') });

    // Act
    try {
      const run = await pipeline.run({
        trigger: 'manual',
        sources: { nyt: pathToFileURL(nyt).href, jhu: pathToFileURL(jhu).href },
      });
      expect(run.status).toBe('SUCCEEDED');
    } finally {
      await pipeline.close();
    }

    // Assess
    const lines = readFileSync(pipeline.logFile, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(line.match(/"service":/g)).toHaveLength(1);
    const services = new Set(lines.map((line) => (JSON.parse(line) as { service: string }).service));
    expect([...services].sort()).toEqual(['fetcher', 'loader', 'local-stack', 'notifier', 'transformer']);
  });
});
