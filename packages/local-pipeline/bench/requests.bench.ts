/**
 * DynamoDB requests of one local pipeline run on the real snapshots, by table: a full load into
 * an empty state folder, then an unchanged re-run. Prints, for each, the data-table requests per
 * changed day and the ledger's requests and items read (issue 12: ≤ 0.1 data-table requests per
 * changed day; ledger cost linear in chunks). Request counts do not depend on the machine's
 * speed, only (a little) on how the local stack batches messages.
 *
 *   pnpm exec tsx packages/local-pipeline/bench/requests.bench.ts       (from the repository root)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sharedDataAvailable, snapshotPath, startSourceServer } from '@covid-etl/testing';
import { LocalPipeline } from '../src/index.js';

if (process.argv.includes('--help')) {
  console.log(
    'Usage: pnpm exec tsx packages/local-pipeline/bench/requests.bench.ts\nPrints the DynamoDB requests, by table, of a full load and an unchanged re-run of the real snapshots on the local stack.',
  );
  process.exit(0);
}
if (!sharedDataAvailable()) process.exit(1);

const dir = mkdtempSync(path.join(tmpdir(), 'etl-requests-'));
const server = await startSourceServer({
  '/nyt.csv': { file: snapshotPath('nytFinal') },
  '/jhu.csv': { file: snapshotPath('jhuFinal') },
});
const input = { trigger: 'manual' as const, sources: { nyt: server.url('/nyt.csv'), jhu: server.url('/jhu.csv') } };

const requestsOf = (byOperation: Record<string, number> = {}) =>
  Object.values(byOperation).reduce((sum, n) => sum + n, 0);

try {
  for (const label of ['full load', 'unchanged re-run']) {
    const pipeline = await LocalPipeline.open({ dir });
    const run = await pipeline.run(input);
    const data = pipeline.dynamoRequestsByTable[pipeline.tables.data];
    const ledger = pipeline.dynamoRequestsByTable[pipeline.tables.ledger];
    const ledgerItemsRead = pipeline.itemsRead[pipeline.tables.ledger] ?? 0;
    await pipeline.close();
    const counts = run.summary?.counts;
    const changed = (counts?.inserted ?? 0) + (counts?.updated ?? 0) + (counts?.deleted ?? 0);
    const perDay = changed ? (requestsOf(data) / changed).toFixed(3) : '-';
    console.log(
      `${label.padEnd(16)} status=${run.summary?.status ?? run.status} changed days=${changed} chunks=${run.summary?.chunks.expected}  ` +
        `data table: ${requestsOf(data)} requests (${perDay} per changed day)  ledger: ${requestsOf(ledger)} requests, ${ledgerItemsRead} items read`,
    );
    console.log(`${''.padEnd(16)} by table and operation: ${JSON.stringify({ data, ledger })}`);
  }
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
