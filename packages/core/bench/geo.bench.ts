/**
 * Benchmark of the states and counties path on a synthetic full county file (~3,200 series x
 * 1,100 days, ~3.5 M rows: bench/geo-generate.ts): generates it in a temp folder (or reads
 * `--file`), then measures, each in a fresh process so each peak RSS is its own:
 *
 * - parse: `extractGeoRows` over the whole file, streamed from disk (rows/s, peak RSS);
 * - plan: parse + `GeoChunkPlanner` + every chunk's day hashes and message parts, what the
 *   fetcher of a full backfill does before sending (rows/s, chunks, parts, largest part, peak RSS).
 *
 * Exits 1 when the rows are wrong or a peak RSS is over its budget (parse 250 MB, plan 500 MB:
 * the target for the whole backfill). `--size small` for CI (300 series x 120 days),
 * `--json` prints the figures as one JSON line last.
 *
 *   pnpm --filter @covid-etl/core exec tsx bench/geo.bench.ts [--size full|small] [--file F] [--json]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assertGeoPartSize, extractGeoRows, GeoChunkPlanner, planParts } from '../src/index.js';
import { generateCounties } from './geo-generate.js';

const MB = 1_000_000;
/**
 * Peak RSS budgets, Node and tsx included (~100 MB before the phase starts): the parse holds
 * one input batch and the duplicate index; the plan holds every record in typed columns.
 */
const BUDGET_MB = { parse: 250, plan: 500 } as const;
const SIZES = { full: { series: 3200, days: 1100 }, small: { series: 300, days: 120 } } as const;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'full' },
    file: { type: 'string' },
    phase: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: tsx bench/geo.bench.ts [--size full|small] [--file us-counties.csv] [--json]

Generates a synthetic county file (full: ~3,200 series x 1,100 days; small: 300 x 120) in a temp
folder, or reads --file, and measures in fresh processes: the parse alone, and parse + chunk
plan + message parts. Prints rows/s and peak RSS of each; exits 1 over budget (parse
${BUDGET_MB.parse} MB, plan ${BUDGET_MB.plan} MB) or on wrong rows. --json: one JSON line last.`);
  process.exit(0);
}

interface PhaseResult {
  phase: 'parse' | 'plan';
  rows: number;
  rejected: number;
  seconds: number;
  /** RSS when the phase starts (Node, tsx and the modules loaded): what the phase adds is the rest. */
  startRssMb: number;
  maxRssMb: number;
  chunks?: number;
  parts?: number;
  largestPartBytes?: number;
}

/** One phase, in this process (the child). */
async function runPhase(phase: 'parse' | 'plan', file: string): Promise<PhaseResult> {
  const startRssMb = Number((process.memoryUsage().rss / MB).toFixed(1));
  const started = performance.now();
  // Default 64 KiB reads, like an HTTP body's chunks: 256 KiB reads made the scanner hold 4x
  // larger batches of results and took peak RSS from ~190 to ~250 MB.
  const input = createReadStream(file);
  const results = extractGeoRows(input, { kind: 'counties', file: path.basename(file) });
  let rows = 0;
  let rejected = 0;
  if (phase === 'parse') {
    for await (const result of results) {
      if (result.ok) rows++;
      else rejected++;
    }
    return { phase, rows, rejected, seconds: (performance.now() - started) / 1000, startRssMb, maxRssMb: maxRssMb() };
  }
  const planner = new GeoChunkPlanner('county');
  await planner.addAll(results);
  rows = planner.records;
  rejected = planner.rejected.length;
  let chunks = 0;
  let parts = 0;
  let largestPartBytes = 0;
  for (const chunk of planner.chunks()) {
    chunks++;
    for (const part of planParts(chunk)) {
      parts++;
      largestPartBytes = Math.max(largestPartBytes, assertGeoPartSize(chunk, part));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { phase, rows, rejected, seconds, startRssMb, maxRssMb: maxRssMb(), chunks, parts, largestPartBytes };
}

function maxRssMb(): number {
  return Number(((process.resourceUsage().maxRSS * 1024) / MB).toFixed(1));
}

if (values.phase !== undefined) {
  if (values.phase !== 'parse' && values.phase !== 'plan') throw new Error(`--phase must be parse or plan`);
  if (values.file === undefined) throw new Error('--phase needs --file');
  console.log(JSON.stringify(await runPhase(values.phase, values.file)));
  process.exit(0);
}

if (values.size !== 'full' && values.size !== 'small') {
  console.error(`--size must be full or small, got "${values.size}"`);
  process.exit(2);
}
const size = SIZES[values.size];
let file = values.file;
let generatedDir: string | undefined;
let expectedRows: number | undefined;
let bytes = values.file === undefined ? 0 : statSync(values.file).size;
if (file === undefined) {
  console.error(`generating ${size.series} series x ${size.days} days ...`);
  const started = performance.now();
  const generated = await generateCounties({
    ...size,
    progress: (done, total) => {
      if (done % 500 === 0 || done === total) console.error(`  ${done}/${total} days`);
    },
  });
  console.error(
    `generated ${generated.full}: ${generated.rows} rows, ${(generated.bytes / MB).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  file = generated.full;
  generatedDir = generated.dir;
  expectedRows = generated.rows;
  bytes = generated.bytes;
}

const self = fileURLToPath(import.meta.url);
let failed = false;
const phases: PhaseResult[] = [];
try {
  for (const phase of ['parse', 'plan'] as const) {
    const child = spawnSync(process.execPath, [...process.execArgv, self, '--phase', phase, '--file', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * MB,
    });
    const line = child.stdout.split('\n').findLast((text) => text.startsWith('{'));
    if (child.status !== 0 || !line) {
      console.error(`${phase}: failed (exit ${child.status})`);
      failed = true;
      continue;
    }
    phases.push(JSON.parse(line) as PhaseResult);
  }
} finally {
  if (generatedDir) rmSync(generatedDir, { recursive: true, force: true });
}

const figures: Record<string, number | string> = { 'input (MB)': Number((bytes / MB).toFixed(1)) };
for (const result of phases) {
  const rowsPerSecond = Math.round(result.rows / result.seconds);
  figures[`${result.phase} rows`] = result.rows;
  figures[`${result.phase} time (s)`] = Number(result.seconds.toFixed(2));
  figures[`${result.phase} rows/s`] = rowsPerSecond;
  figures[`${result.phase} RSS at start (MB)`] = result.startRssMb;
  figures[`${result.phase} maxRSS (MB)`] = result.maxRssMb;
  if (result.chunks !== undefined) figures['plan chunks'] = result.chunks;
  if (result.parts !== undefined) figures['plan parts'] = result.parts;
  if (result.largestPartBytes !== undefined) figures['largest part (bytes)'] = result.largestPartBytes;
  if (expectedRows !== undefined && result.rows !== expectedRows) {
    console.error(`${result.phase}: read ${result.rows} rows; expected ${expectedRows}`);
    failed = true;
  }
  if (result.rejected !== 0) {
    console.error(`${result.phase}: ${result.rejected} rows rejected; expected none`);
    failed = true;
  }
  if (result.maxRssMb > BUDGET_MB[result.phase]) {
    console.error(
      `${result.phase}: peak RSS ${result.maxRssMb} MB is over its budget of ${BUDGET_MB[result.phase]} MB`,
    );
    failed = true;
  }
}
console.table(figures);
if (values.json) {
  console.log(JSON.stringify({ benchmark: 'geo', size: values.size, ...figures }));
}
if (failed) process.exit(1);
