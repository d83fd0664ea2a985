/**
 * Pipeline ÷ monolith (issue 12), side by side in one run: the local pipeline (`LocalPipeline`,
 * what `pnpm etl run` does once its process has started: every service's handler on the
 * embedded stack) against an in-process monolith written plainly below (the core parser on both
 * files, the join, one Query of the table, the changed days written with BatchWriteItem), both
 * on their own embedded DynamoDB (dynalite), each timed from opening its database to closing it.
 *
 * Scenarios: a full load into an empty state, an unchanged re-run, and a revision run (the state
 * of an earlier snapshot, then the final one). Datasets: the real snapshots (NYT us_2020-06-25
 * then us_2023-03-23, with JHU 2021-03-17: 420 days, then 265 new + 95 revised) and a synthetic
 * national history 8x longer (3,360 days, the same shape, written to a temporary folder).
 *
 * For each it prints min/median over the repeats, the ratio (median ÷ median) with its target,
 * the DynamoDB requests and ledger items read per run, and an estimated AWS cost per run at the
 * published us-east-1 prices below. `--json` adds one JSON line last (for `pnpm bench`).
 *
 *   pnpm bench:pipeline [--repeats 5] [--size full|small] [--json]
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SeriesRecord } from '@covid-etl/contracts';
import { transformSources } from '@covid-etl/core';
import { type CostCounts, processCosts } from '@covid-etl/platform';
import { dateRange, type Route, sharedDataAvailable, snapshotPath, startSourceServer } from '@covid-etl/testing';
import { LocalPipeline } from '../src/pipeline.js';
import { type Engine, estimateCost, lambdaGbSeconds, PRICES, PRICES_LINE } from './aws-cost.js';
import { openMonolithDb, putAll } from './monolith-db.js';

const { values: args } = parseArgs({
  options: {
    repeats: { type: 'string' },
    size: { type: 'string', default: 'full' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(
    'Usage: pnpm bench:pipeline [--repeats N] [--size full|small] [--json]\n\n' +
      'Runs the local pipeline and an in-process monolith side by side (full load, unchanged re-run,\n' +
      'revision) on the real snapshots and on a synthetic history 8x longer; prints min/median,\n' +
      'the ratios, DynamoDB requests, ledger items read and the estimated AWS cost per run.\n' +
      '--size small: once, and the synthetic history 2x instead of 8x (CI). --json adds a JSON line.',
  );
  process.exit(0);
}
if (args.size !== 'full' && args.size !== 'small') {
  console.error(`--size must be full or small, got "${args.size}"`);
  process.exit(2);
}
const SMALL = args.size === 'small';
const REPEATS = Math.max(1, Number(args.repeats ?? (SMALL ? 1 : 5)));
if (!Number.isInteger(REPEATS)) {
  console.error(`--repeats must be a whole number, got "${args.repeats}"`);
  process.exit(2);
}
const SYNTHETIC_FACTOR = SMALL ? 2 : 8;
if (!sharedDataAvailable()) process.exit(1);

interface Files {
  nyt: string;
  jhu: string;
}
interface Dataset {
  name: string;
  days: number;
  /** The earlier snapshot the revision scenario starts from, and the final one. */
  earlier: Files;
  final: Files;
  expect: { full: number; revisionNew: number; revisionRevised: number };
}
type Scenario = 'full' | 'unchanged' | 'revision';
const SCENARIOS: readonly Scenario[] = ['full', 'unchanged', 'revision'];

interface Measure {
  ms: number;
  counts: { inserted: number; updated: number };
  dynamoRequests: number;
  ledgerItemsRead: number;
  costs: CostCounts;
  lambda: { invocations: number; gbSeconds: number };
}

const work = mkdtempSync(path.join(tmpdir(), 'etl-bench-pipeline-'));
const server = await startSourceServer();

// ---------------------------------------------------------------------------------------------
// The monolith: the floor to beat, written plainly (not a product feature).
// ---------------------------------------------------------------------------------------------

const MONOLITH_TABLE = 'monolith-data';

async function monolith(dir: string, files: Files): Promise<Omit<Measure, 'ms' | 'lambda'>> {
  const before = processCosts();
  const db = await openMonolithDb(dir, MONOLITH_TABLE);
  try {
    const { doc } = db;
    const { records } = await transformSources(createReadStream(files.nyt), createReadStream(files.jhu));
    const stored = new Map<string, SeriesRecord>();
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new QueryCommand({
          TableName: MONOLITH_TABLE,
          KeyConditionExpression: 'pk = :us',
          ExpressionAttributeValues: { ':us': 'US' },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) stored.set(item.sk as string, item as SeriesRecord);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    const counts = { inserted: 0, updated: 0 };
    const changed = records.filter((record) => {
      const old = stored.get(record.date);
      if (!old) counts.inserted += 1;
      else if (old.cases !== record.cases || old.deaths !== record.deaths || old.recovered !== record.recovered)
        counts.updated += 1;
      else return false;
      return true;
    });
    const updatedAt = new Date().toISOString();
    await putAll(
      doc,
      MONOLITH_TABLE,
      changed.map((record) => ({ pk: 'US', sk: record.date, ...record, updatedAt })),
    );
    const costs = delta(processCosts(), before);
    return { counts, dynamoRequests: costs.dynamoReadRequests + costs.dynamoWriteRequests, ledgerItemsRead: 0, costs };
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The pipeline: what `pnpm etl run` runs once its process has started.
// ---------------------------------------------------------------------------------------------

async function pipeline(dir: string, files: Files): Promise<Omit<Measure, 'ms' | 'lambda'> & { invocations: number }> {
  server.set('/nyt.csv', servedFile(files.nyt));
  server.set('/jhu.csv', servedFile(files.jhu));
  const before = processCosts();
  const local = await LocalPipeline.open({ dir });
  try {
    const requestsBefore = sum(Object.values(local.dynamoRequests));
    const run = await local.run({
      trigger: 'manual',
      sources: { nyt: server.url('/nyt.csv'), jhu: server.url('/jhu.csv') },
    });
    if (run.status !== 'SUCCEEDED')
      throw new Error(`pipeline run ended ${run.status}: ${run.summary?.failure?.reason}`);
    const costs = delta(processCosts(), before);
    return {
      counts: { inserted: run.summary?.counts.inserted ?? 0, updated: run.summary?.counts.updated ?? 0 },
      dynamoRequests: sum(Object.values(local.dynamoRequests)) - requestsBefore,
      ledgerItemsRead: local.itemsRead[local.tables.ledger] ?? 0,
      costs,
      // The fetcher, and one invocation per batch of each queue's event source mapping.
      invocations: 1 + local.lambdaInvocations(),
    };
  } finally {
    await local.close();
  }
}

/**
 * A source file served from memory, one route object per file: the test server then computes
 * its ETag once, as a real server does on its own side, not within the pipeline's timing.
 */
const servedFiles = new Map<string, Route>();
function servedFile(file: string): Route {
  let route = servedFiles.get(file);
  if (!route) {
    route = { body: readFileSync(file) };
    servedFiles.set(file, route);
  }
  return route;
}

async function measure(engine: Engine, dir: string, files: Files): Promise<Measure> {
  const started = performance.now();
  const result: Omit<Measure, 'ms' | 'lambda'> & { invocations?: number } =
    engine === 'pipeline' ? await pipeline(dir, files) : await monolith(dir, files);
  const ms = performance.now() - started;
  const { invocations = 1, ...rest } = result;
  // Lambda time: the wall time of the run at the fetcher's memory for the monolith (one
  // function), split between the fetcher and the 256 MB consumers for the pipeline (estimate).
  return { ...rest, ms, lambda: { invocations, gbSeconds: lambdaGbSeconds(ms, engine) } };
}

// ---------------------------------------------------------------------------------------------
// Datasets
// ---------------------------------------------------------------------------------------------

function realDataset(): Dataset {
  return {
    name: 'real snapshots (1x)',
    days: 420,
    earlier: { nyt: snapshotPath('nytNext'), jhu: snapshotPath('jhuFinal') },
    final: { nyt: snapshotPath('nytFinal'), jhu: snapshotPath('jhuFinal') },
    expect: { full: 420, revisionNew: 265, revisionRevised: 95 },
  };
}

/**
 * A national history `factor` times the real one (420 days), ending where the real one does,
 * with as many other-country rows per day as the real JHU file (~273), so both files grow with
 * it. The earlier snapshot stops 265x`factor` days short and has the last 95x`factor` of its
 * days one case lower (cumulative counts still rising): the final one revises them up.
 */
async function syntheticDataset(factor: number): Promise<Dataset> {
  const days = 420 * factor;
  const added = 265 * factor;
  const revised = 95 * factor;
  const last = '2021-03-16';
  const start = new Date(Date.parse(`${last}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const dates = dateRange(start, days);
  const dir = path.join(work, `synthetic-${factor}x`);
  const value = (i: number) => ({ cases: 1 + i * 1000, deaths: i * 20, recovered: i * 300 });
  const write = async (file: string, lines: Iterable<string>) => {
    const out = createWriteStream(file);
    for (const line of lines) if (!out.write(line)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
  };
  const nytLines = function* (count: number, lowered: number) {
    yield 'date,cases,deaths\n';
    for (let i = 0; i < count; i += 1) {
      const v = value(i);
      yield `${dates[i]},${v.cases - (i >= count - lowered ? 1 : 0)},${v.deaths}\n`;
    }
  };
  const jhuLines = function* (count: number) {
    yield 'Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n';
    for (let i = 0; i < count; i += 1) {
      const v = value(i);
      for (let n = 0; n < 273; n += 1) yield `${dates[i]},Country ${n},,${i},${i},0\n`;
      yield `${dates[i]},US,,${v.cases},${v.recovered},${v.deaths}\n`;
    }
  };
  await mkdir(dir, { recursive: true });
  const files = {
    earlierNyt: path.join(dir, 'us-earlier.csv'),
    finalNyt: path.join(dir, 'us.csv'),
    jhu: path.join(dir, 'jhu.csv'),
  };
  await write(files.earlierNyt, nytLines(days - added, revised));
  await write(files.finalNyt, nytLines(days, 0));
  await write(files.jhu, jhuLines(days));
  return {
    name: `synthetic ${factor}x (${days.toLocaleString('en-US')} days)`,
    days,
    earlier: { nyt: files.earlierNyt, jhu: files.jhu },
    final: { nyt: files.finalNyt, jhu: files.jhu },
    expect: { full: days, revisionNew: added, revisionRevised: revised },
  };
}

// ---------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------

type Results = Record<Scenario, Record<Engine, Measure[]>>;

function check(dataset: Dataset, scenario: Scenario, engine: Engine, m: Measure): void {
  const want =
    scenario === 'full'
      ? { inserted: dataset.expect.full, updated: 0 }
      : scenario === 'unchanged'
        ? { inserted: 0, updated: 0 }
        : { inserted: dataset.expect.revisionNew, updated: dataset.expect.revisionRevised };
  if (m.counts.inserted !== want.inserted || m.counts.updated !== want.updated) {
    throw new Error(
      `${dataset.name}, ${scenario}, ${engine}: ${m.counts.inserted} new + ${m.counts.updated} revised, expected ${want.inserted} + ${want.updated}`,
    );
  }
}

async function runDataset(dataset: Dataset): Promise<Results> {
  const results = Object.fromEntries(
    SCENARIOS.map((s) => [s, { pipeline: [] as Measure[], monolith: [] as Measure[] }]),
  ) as Results;
  for (let repeat = 0; repeat < REPEATS; repeat += 1) {
    // Alternate which engine goes first, so a change of load hits both.
    const engines: Engine[] = repeat % 2 === 0 ? ['pipeline', 'monolith'] : ['monolith', 'pipeline'];
    for (const engine of engines) {
      const dir = mkdtempSync(path.join(work, `${engine}-`));
      const full = await measure(engine, dir, dataset.final);
      const unchanged = await measure(engine, dir, dataset.final);
      rmSync(dir, { recursive: true, force: true });
      const revisionDir = mkdtempSync(path.join(work, `${engine}-rev-`));
      await measure(engine, revisionDir, dataset.earlier);
      const revision = await measure(engine, revisionDir, dataset.final);
      rmSync(revisionDir, { recursive: true, force: true });
      for (const [scenario, m] of [
        ['full', full],
        ['unchanged', unchanged],
        ['revision', revision],
      ] as const) {
        check(dataset, scenario, engine, m);
        results[scenario][engine].push(m);
      }
      console.error(
        `  ${dataset.name}, repeat ${repeat + 1}/${REPEATS}, ${engine}: full ${secs(full.ms)} s, unchanged ${secs(unchanged.ms)} s, revision ${secs(revision.ms)} s`,
      );
    }
  }
  return results;
}

const TARGET: Record<Scenario, number> = { full: 1.5, unchanged: 1.0, revision: 1.5 };

interface Row {
  dataset: string;
  run: Scenario;
  'pipeline min (s)': number;
  'pipeline median (s)': number;
  'monolith min (s)': number;
  'monolith median (s)': number;
  'ratio (median)': number;
  target: string;
  'DynamoDB requests (pipeline)': number;
  'DynamoDB requests (monolith)': number;
  'ledger items read': number;
  'est. cost pipeline (USD)': number;
  'est. cost monolith (USD)': number;
}

function rowsOf(dataset: Dataset, results: Results): Row[] {
  return SCENARIOS.map((scenario) => {
    const p = results[scenario].pipeline;
    const m = results[scenario].monolith;
    const pMedian = median(p.map((x) => x.ms));
    const mMedian = median(m.map((x) => x.ms));
    return {
      dataset: dataset.name,
      run: scenario,
      'pipeline min (s)': secs(Math.min(...p.map((x) => x.ms))),
      'pipeline median (s)': secs(pMedian),
      'monolith min (s)': secs(Math.min(...m.map((x) => x.ms))),
      'monolith median (s)': secs(mMedian),
      'ratio (median)': Math.round((pMedian / mMedian) * 100) / 100,
      target: `<= ${TARGET[scenario]}`,
      'DynamoDB requests (pipeline)': median(p.map((x) => x.dynamoRequests)),
      'DynamoDB requests (monolith)': median(m.map((x) => x.dynamoRequests)),
      'ledger items read': median(p.map((x) => x.ledgerItemsRead)),
      'est. cost pipeline (USD)': usd(median(p.map((x) => estimateCost(x, 'pipeline')))),
      'est. cost monolith (USD)': usd(median(m.map((x) => estimateCost(x, 'monolith')))),
    };
  });
}

try {
  const datasets = [realDataset(), await syntheticDataset(SYNTHETIC_FACTOR)];
  const rows: Row[] = [];
  for (const dataset of datasets) {
    console.error(`==> ${dataset.name}: ${REPEATS} repeat(s)`);
    rows.push(...rowsOf(dataset, await runDataset(dataset)));
  }
  const ratioAt = (name: string, scenario: Scenario) =>
    rows.find((r) => r.dataset === name && r.run === scenario)?.['ratio (median)'] ?? Number.NaN;
  const scaling = SCENARIOS.map((scenario) => ({
    run: scenario,
    'ratio 1x': ratioAt(datasets[0]?.name ?? '', scenario),
    [`ratio ${SYNTHETIC_FACTOR}x`]: ratioAt(datasets[1]?.name ?? '', scenario),
    target: `${SYNTHETIC_FACTOR}x no worse than 1x`,
  }));
  console.log(
    `\npnpm bench:pipeline --size ${args.size} --repeats ${REPEATS} (${new Date().toISOString()}, node ${process.version})`,
  );
  console.table(rows);
  console.table(scaling);
  console.log(PRICES_LINE);
  if (args.json) {
    console.log(
      JSON.stringify({ size: args.size, repeats: REPEATS, factor: SYNTHETIC_FACTOR, rows, scaling, prices: PRICES }),
    );
  }
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
}

function delta(after: CostCounts, before: CostCounts): CostCounts {
  const out = { ...after };
  for (const key of Object.keys(out) as (keyof CostCounts)[])
    out[key] = Math.round((after[key] - before[key]) * 10) / 10;
  return out;
}
function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
function secs(ms: number): number {
  return Math.round(ms / 10) / 100;
}
function usd(value: number): number {
  return Number(value.toPrecision(3));
}
