/**
 * Benchmark of the core ETL path on a synthetic JHU file 100x the 2021-03-17 snapshot (~420 MB:
 * thousands of fake countries and provinces plus one US national series) and a matching NYT
 * file. Both are streamed to a temporary folder, then extract + chunk + transform runs on them
 * streaming from disk, BENCH_REPEATS times, alternating with Python's `csv.DictReader` reading
 * the same JHU file (keeping the same US national rows), in the same run. Prints
 * min/median wall time, rows/s, the ratio to Python and peak RSS; exits non-zero when peak RSS
 * exceeds 200 MB or the result is wrong. `--json` prints the figures as one JSON line last.
 *
 *   pnpm --filter @covid-etl/core bench          (BENCH_SCALE=10 for a quick run)
 *   pnpm bench:core                              (from the repository root)
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dateRange, snapshotPath } from '@covid-etl/testing';
import { assertChunkSize, transformSources } from '../src/index.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'Usage: pnpm bench:core [--json]\n\nParses and joins a synthetic JHU file 100x the 2021-03-17 snapshot, streamed from disk,\n' +
      "runs Python's csv.DictReader on the same file, and prints min/median wall time, rows/s, the\n" +
      'ratio to Python and peak RSS; exits 1 when peak RSS exceeds 200 MB. --json adds one JSON line.\n' +
      'BENCH_SCALE=<n> changes the size (default 100), BENCH_REPEATS=<n> the repeats (default 3),\n' +
      'BENCH_RSS_LIMIT_MB=<n> the budget.',
  );
  process.exit(0);
}

const MB = 1_000_000;
/** The budget: 200 MB (BENCH_RSS_LIMIT_MB overrides it, e.g. to see the failure path). */
const RSS_LIMIT_BYTES = Number(process.env.BENCH_RSS_LIMIT_MB ?? '200') * MB;
/** Size of jhu/time-series-19-covid-combined_2021-03-17.csv, when the snapshot is not here. */
const SNAPSHOT_BYTES_FALLBACK = 4_187_033;
const SCALE = Number(process.env.BENCH_SCALE ?? '100');
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? '3'));
const JSON_OUTPUT = process.argv.includes('--json');

/**
 * The baseline: Python's csv.DictReader over the same file, keeping the same rows (Country/Region
 * "US", empty Province/State, both stripped). Prints `<rows> <kept> <seconds>`.
 */
const PYTHON_BASELINE = `
import csv, sys, time
start = time.perf_counter()
rows = kept = 0
with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:
    for row in csv.DictReader(f):
        rows += 1
        if row['Country/Region'].strip() == 'US' and row['Province/State'].strip() == '':
            kept += 1
print(rows, kept, time.perf_counter() - start)
`;

interface PythonRun {
  rows: number;
  kept: number;
  seconds: number;
}

/** One run of the Python baseline, or undefined when python3 is missing. */
function runPython(file: string): PythonRun | undefined {
  const child = spawnSync('python3', ['-c', PYTHON_BASELINE, file], { encoding: 'utf8' });
  if (child.error || child.status !== 0) {
    console.error(`python3 baseline not run: ${child.error?.message ?? child.stderr.trim()}`);
    return undefined;
  }
  const [rows, kept, seconds] = child.stdout.trim().split(' ').map(Number);
  return { rows: rows ?? 0, kept: kept ?? 0, seconds: seconds ?? 0 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

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
    const seconds: number[] = [];
    let result: Awaited<ReturnType<typeof transformSources>> | undefined;
    let largestChunk = 0;
    const pythonRuns: PythonRun[] = [];
    // Node and Python alternate, so a change in the machine's load affects both alike.
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const start = performance.now();
      result = await transformSources(createReadStream(nyt.file), createReadStream(jhu.file));
      largestChunk = Math.max(...result.chunks.map((chunk) => assertChunkSize(chunk)));
      seconds.push((performance.now() - start) / 1000);
      const run = runPython(jhu.file);
      if (run) pythonRuns.push(run);
    }
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const maxRss = process.resourceUsage().maxRSS * 1024; // whole process lifetime, generation included

    const rows = jhu.rows + nyt.rows;
    const bytes = jhu.bytes + nyt.bytes;
    const peak = Math.max(peakRss, maxRss);
    const records = result?.records ?? [];
    const recordsOk =
      records.length === 420 &&
      result?.rejected.length === 0 &&
      records.every((record, day) => record.recovered === usRecovered(day));
    const pythonOk = pythonRuns.every((run) => run.rows === jhu.rows && run.kept === 420);
    const nodeMedian = median(seconds);
    const pythonSeconds = pythonRuns.map((run) => run.seconds);
    // Python reads the JHU file only; Node also reads the (tiny) NYT file and joins: a fair-to-Python ratio.
    const ratio = pythonRuns.length > 0 ? median(pythonSeconds) / nodeMedian : undefined;
    const figures = {
      'input (MB)': Number((bytes / MB).toFixed(1)),
      'rows parsed': rows,
      repeats: REPEATS,
      'wall time min (s)': Number(Math.min(...seconds).toFixed(2)),
      'wall time median (s)': Number(nodeMedian.toFixed(2)),
      'rows/s (median)': Math.round(rows / nodeMedian),
      'MB/s (median)': Number((bytes / MB / nodeMedian).toFixed(1)),
      'python DictReader min (s)': pythonRuns.length > 0 ? Number(Math.min(...pythonSeconds).toFixed(2)) : null,
      'python DictReader median (s)': pythonRuns.length > 0 ? Number(median(pythonSeconds).toFixed(2)) : null,
      'python rows/s (median)': pythonRuns.length > 0 ? Math.round(jhu.rows / median(pythonSeconds)) : null,
      'speed vs python (median)': ratio === undefined ? null : Number(ratio.toFixed(2)),
      'peak RSS sampled (MB)': Number((peakRss / MB).toFixed(1)),
      'maxRSS (MB)': Number((maxRss / MB).toFixed(1)),
      records: records.length,
      rejected: result?.rejected.length ?? 0,
      chunks: result?.chunks.length ?? 0,
      'largest chunk (bytes)': largestChunk,
    };
    console.table(figures);
    if (JSON_OUTPUT) console.log(JSON.stringify({ benchmark: 'core', scale: SCALE, ...figures }));

    if (!pythonOk) {
      console.error('FAIL: the Python baseline did not read the same rows (expected every row and 420 kept)');
      return 1;
    }
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
