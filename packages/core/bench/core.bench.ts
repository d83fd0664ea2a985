/**
 * Benchmark of the core ETL path on a synthetic JHU file 100x the 2021-03-17 snapshot (~420 MB:
 * thousands of fake countries and provinces plus one US national series) and a matching NYT
 * file. Both are streamed to a temporary folder, then extract + chunk + transform runs on them
 * streaming from disk. Prints rows/s, MB/s, wall time and peak RSS; exits non-zero when peak
 * RSS exceeds 200 MB or the result is wrong.
 *
 *   pnpm --filter @covid-etl/core bench          (BENCH_SCALE=10 for a quick run)
 *   pnpm bench:core                              (from the repository root)
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dateRange, snapshotPath } from '@covid-etl/testing';
import { assertChunkSize, transformSources } from '../src/index.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'Usage: pnpm bench:core\n\nParses and joins a synthetic JHU file 100x the 2021-03-17 snapshot, streamed from disk,\n' +
      'and prints rows/s, MB/s, wall time and peak RSS; exits 1 when peak RSS exceeds 200 MB.\n' +
      'BENCH_SCALE=<n> changes the size (default 100); BENCH_RSS_LIMIT_MB=<n> the budget.',
  );
  process.exit(0);
}

const MB = 1_000_000;
/** The budget: 200 MB (BENCH_RSS_LIMIT_MB overrides it, e.g. to see the failure path). */
const RSS_LIMIT_BYTES = Number(process.env.BENCH_RSS_LIMIT_MB ?? '200') * MB;
/** Size of jhu/time-series-19-covid-combined_2021-03-17.csv, when the snapshot is not here. */
const SNAPSHOT_BYTES_FALLBACK = 4_187_033;
const SCALE = Number(process.env.BENCH_SCALE ?? '100');

const JHU_DATES = dateRange('2020-01-22', 420); // 2020-01-22 .. 2021-03-16, as in the snapshot
const NYT_DATES = dateRange('2020-01-21', 421); // NYT starts a day earlier

interface Written {
  file: string;
  bytes: number;
  rows: number;
}

/** Writes `lines()` to `file` with backpressure, never holding more than one block in memory. */
async function writeLines(file: string, blocks: () => Generator<string>): Promise<Written> {
  const out = createWriteStream(file);
  let bytes = 0;
  let rows = -1; // the header is not a row
  for (const block of blocks()) {
    bytes += Buffer.byteLength(block);
    for (let at = block.indexOf('\n'); at !== -1; at = block.indexOf('\n', at + 1)) rows++;
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { file, bytes, rows };
}

function usRecovered(day: number): number {
  return day * 997;
}

/** The synthetic JHU file: location after location, 420 days each, the US national series near 40%. */
function* jhuBlocks(targetBytes: number): Generator<string> {
  yield 'Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n';
  let written = 0;
  let usWritten = false;
  const location = (country: string, province: string, recovered: (day: number) => number) => {
    const quotedCountry = country.includes(',') ? `"${country}"` : country;
    let block = '';
    JHU_DATES.forEach((date, day) => {
      block += `${date},${quotedCountry},${province},${day * 13 + 7},${recovered(day)},${day * 3}\n`;
    });
    written += block.length;
    return block;
  };
  for (let index = 0; written < targetBytes; index++) {
    if (!usWritten && written >= targetBytes * 0.4) {
      yield location('US', 'Washington', (day) => day);
      yield location('US', '', usRecovered);
      yield location('US', 'Wyoming', (day) => day);
      usWritten = true;
    }
    const country = index % 50 === 0 ? `Korea, Fake ${index}` : `Country ${index % 997}`;
    const province = index % 3 === 0 ? '' : `Province ${index}`;
    yield location(country, province, (day) => day * 2);
  }
}

function* nytBlocks(): Generator<string> {
  yield 'date,cases,deaths\n';
  let block = '';
  NYT_DATES.forEach((date, day) => {
    block += `${date},${day * 101 + 1},${day * 7}\n`;
  });
  yield block;
}

async function main(): Promise<number> {
  const jhuSnapshot = snapshotPath('jhuFinal');
  const snapshotBytes = existsSync(jhuSnapshot) ? statSync(jhuSnapshot).size : SNAPSHOT_BYTES_FALLBACK;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'covid-etl-bench-'));
  try {
    console.log(`generating a JHU file of ~${((SCALE * snapshotBytes) / MB).toFixed(0)} MB (${SCALE}x) in ${dir} ...`);
    const generationStart = performance.now();
    const jhu = await writeLines(path.join(dir, 'jhu.csv'), () => jhuBlocks(SCALE * snapshotBytes));
    const nyt = await writeLines(path.join(dir, 'us.csv'), nytBlocks);
    console.log(`generated in ${((performance.now() - generationStart) / 1000).toFixed(1)} s`);

    console.log(
      `RSS before the run: ${(process.memoryUsage().rss / MB).toFixed(1)} MB, heap ${(process.memoryUsage().heapUsed / MB).toFixed(1)} MB`,
    );
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    const start = performance.now();
    const result = await transformSources(createReadStream(nyt.file), createReadStream(jhu.file));
    const largestChunk = Math.max(...result.chunks.map((chunk) => assertChunkSize(chunk)));
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const maxRss = process.resourceUsage().maxRSS * 1024; // whole process lifetime, generation included

    const rows = jhu.rows + nyt.rows;
    const bytes = jhu.bytes + nyt.bytes;
    const peak = Math.max(peakRss, maxRss);
    const recordsOk =
      result.records.length === 420 &&
      result.rejected.length === 0 &&
      result.records.every((record, day) => record.recovered === usRecovered(day));
    const table = {
      'input (MB)': (bytes / MB).toFixed(1),
      'rows parsed': rows,
      'wall time (s)': seconds.toFixed(2),
      'rows/s': Math.round(rows / seconds),
      'MB/s': (bytes / MB / seconds).toFixed(1),
      'peak RSS sampled (MB)': (peakRss / MB).toFixed(1),
      'maxRSS (MB)': (maxRss / MB).toFixed(1),
      records: result.records.length,
      rejected: result.rejected.length,
      chunks: result.chunks.length,
      'largest chunk (bytes)': largestChunk,
    };
    console.table(table);

    if (!recordsOk) {
      console.error('FAIL: expected 420 records with the generated US recoveries and no rejected row');
      return 1;
    }
    if (peak > RSS_LIMIT_BYTES) {
      console.error(`FAIL: peak RSS ${(peak / MB).toFixed(1)} MB exceeds ${RSS_LIMIT_BYTES / MB} MB`);
      return 1;
    }
    console.log(`OK: peak RSS ${(peak / MB).toFixed(1)} MB <= ${RSS_LIMIT_BYTES / MB} MB`);
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
