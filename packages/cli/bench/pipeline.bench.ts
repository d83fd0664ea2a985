/**
 * Benchmark of one local pipeline run on the real snapshots: a full load into an empty state
 * folder, then an unchanged re-run. Prints wall time, peak RSS, DynamoDB write requests and
 * SQS messages sent for each.
 *
 *   pnpm bench:pipeline            (from the repository root)
 *   SHARED_DATA_DIR=/path/to/data pnpm bench:pipeline
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalPipeline } from '@covid-etl/local-pipeline';
import { sharedDataAvailable, snapshotPath, startSourceServer } from '@covid-etl/testing';

if (process.argv.includes('--help')) {
  console.log(
    'Usage: pnpm bench:pipeline\nRuns a full load and an unchanged re-run of the real snapshots on the local stack and prints their figures.',
  );
  process.exit(0);
}
if (!sharedDataAvailable()) process.exit(1);

const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'Put', 'Update', 'Delete', 'BatchWrite'];
const dir = mkdtempSync(path.join(tmpdir(), 'etl-bench-'));
const server = await startSourceServer({
  '/nyt.csv': { file: snapshotPath('nytFinal') },
  '/jhu.csv': { file: snapshotPath('jhuFinal') },
});
const input = { trigger: 'manual' as const, sources: { nyt: server.url('/nyt.csv'), jhu: server.url('/jhu.csv') } };

async function measure(label: string) {
  const pipeline = await LocalPipeline.open({ dir });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  const run = await pipeline.run(input);
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const writes = Object.entries(pipeline.dynamoRequests)
    .filter(([name]) => WRITES.includes(name))
    .reduce((sum, [, n]) => sum + n, 0);
  const sent = Object.values(pipeline.messagesSent()).reduce((sum, n) => sum + n, 0);
  await pipeline.close();
  const counts = run.summary?.counts;
  console.log(
    `${label.padEnd(16)} status=${run.summary?.status ?? run.status} wall=${(wallMs / 1000).toFixed(2)} s  peakRSS=${(peak / 2 ** 20).toFixed(0)} MB  ` +
      `dynamoWrites=${writes}  sqsMessagesSent=${sent}  inserted=${counts?.inserted} updated=${counts?.updated} unchanged=${counts?.unchanged}`,
  );
  console.log(`${''.padEnd(16)} requests by operation: ${JSON.stringify(pipeline.dynamoRequests)}`);
}

try {
  await measure('full load');
  await measure('unchanged re-run');
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
