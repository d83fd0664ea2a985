/**
 * Counties on the local stack (issue 13), beside an in-process monolith on the same data:
 *
 * 1. generates a synthetic full county file (packages/core/bench/geo-generate.ts) and the
 *    matching rolling file of the next day (its last 30 days: one new day, and every 97th row of
 *    the earlier days revised up by one case) in a temporary folder, deleted at the end;
 * 2. runs, for each engine in its own state folder: the full **backfill**, the **daily** run
 *    with the recent file, and an **unchanged** daily re-run (the same file under another name,
 *    so the run cannot stop at "source unchanged" and must compare its days);
 * 3. prints for each: wall time, CPU time and peak RSS of the process that ran it (each phase of
 *    each engine in a fresh child process: its `maxRSS` is its own), the counts, the data-table
 *    items written by kind against the changed days, the data-table and ledger reads (the months
 *    and chunks read), and the estimated AWS cost from the run's own counters.
 *
 * Checks, exit 1 on failure: both engines' counts equal the generated changes; the daily run
 * writes exactly one day item and one version per changed day; the unchanged re-run writes no
 * data item and reads no month outside the recent file's.
 *
 * _Pipeline_: `LocalPipeline.open` + `run` + `close` (what `pnpm etl run --levels county
 * [--backfill counties]` does once started), the files read from `file://` URLs. _Monolith_,
 * written plainly below: its own (same, tuned) dynalite, `extractGeoRows` on the file, one Query
 * per geography over the file's dates, the changed days written with BatchWriteItem (25 a
 * request); no versions, no ledger, no queues, no catalogue.
 *
 *   pnpm --filter @covid-etl/local-pipeline bench:counties [--size small|medium|full] [--json]
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { extractGeoRows } from '@covid-etl/core';
import { type CostCounts, processCosts } from '@covid-etl/platform';
import { generateCounties } from '../../core/bench/geo-generate.js';
import { LocalPipeline } from '../src/pipeline.js';
import { DynamoRequestCounter, type TableRequests } from '../src/request-counter.js';
import { type Engine, estimateCost, lambdaGbSeconds, PRICES, PRICES_LINE } from './aws-cost.js';
import { openMonolithDb, putAll } from './monolith-db.js';

const SIZES = {
  /** CI: ~80 series (every state's `Unknown` included) x 8 days in one month, a 5-day recent file. */
  small: { series: 20, days: 8, recentDays: 5 },
  /** `pnpm bench`, profiling: ~120k rows. */
  medium: { series: 1000, days: 120, recentDays: 30 },
  /** Issue 13: ~3,200 series x 1,100 days, ~3.6 M rows, and the 30-day recent file. */
  full: { series: 3200, days: 1100, recentDays: 30 },
} as const;
type Size = keyof typeof SIZES;
const PHASES = ['backfill', 'daily', 'unchanged'] as const;
type Phase = (typeof PHASES)[number];
/** Every REVISE_EVERY-th row of the recent file's earlier days is revised up by one case. */
const REVISE_EVERY = 97;
const MB = 1024 * 1024;
const MONOLITH_TABLE = 'monolith-data';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: 'full' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
    // A child: one phase of one engine.
    phase: { type: 'string' },
    engine: { type: 'string' },
    dir: { type: 'string' },
    file: { type: 'string' },
  },
});

if (args.help) {
  console.log(`Usage: pnpm --filter @covid-etl/local-pipeline bench:counties [--size small|medium|full] [--json]

Generates a synthetic county file (small: ${SIZES.small.series} series x ${SIZES.small.days} days, medium: ${SIZES.medium.series} x ${SIZES.medium.days},
full: ${SIZES.full.series} x ${SIZES.full.days}) and the next day's recent file in a temp folder, then runs the backfill, the daily run
and an unchanged daily re-run through the local pipeline and through an in-process monolith,
each in a fresh process. Prints wall time, CPU, peak RSS, counts, data-table writes against
changed days, reads, and the estimated AWS cost. --json adds one JSON line last.`);
  process.exit(0);
}

/** What one phase of one engine measured (a child's JSON line). */
interface PhaseResult {
  engine: Engine;
  phase: Phase;
  ms: number;
  cpuMs: number;
  maxRssMb: number;
  counts: { inserted: number; updated: number; unchanged: number; rejected: number };
  /** Data-table items written, by kind (`day`, `version`, `catalogue`, `county-summary`). */
  dataWritten: Record<string, number>;
  dataRequests: Record<string, number>;
  /** Data-table keys and partitions read, by kind. */
  dataRead: Record<string, number>;
  dataMonthsRead: string[];
  ledgerRequests: number;
  ledgerChunksRead: number;
  ledgerMonthsRead: string[];
  /** The run's own cost drivers (the run summary's `costs`, the notifier's email added), or the monolith's meter. */
  costs: CostCounts;
  invocations: number;
}

if (args.phase) {
  const result = await child(args.phase as Phase, args.engine as Engine, args.dir as string, args.file as string);
  console.log(JSON.stringify(result));
  process.exit(0);
}

if (!(args.size in SIZES)) {
  console.error(`--size must be small, medium or full, got "${args.size}"`);
  process.exit(2);
}
await parent(args.size as Size);

// ---------------------------------------------------------------------------------------------
// The parent: data, children, table.
// ---------------------------------------------------------------------------------------------

async function parent(size: Size): Promise<void> {
  const { series, days, recentDays } = SIZES[size];
  const work = mkdtempSync(path.join(tmpdir(), 'etl-bench-counties-'));
  try {
    const data = await prepare(work, series, days, recentDays);
    console.error(
      `==> ${data.rows.toLocaleString('en-US')} rows (${data.series} series x ${days} days, ${(data.bytes / 1e6).toFixed(1)} MB); ` +
        `recent file: ${data.recentRows.toLocaleString('en-US')} rows, ${data.newDays} new + ${data.revised} revised (${data.recentMonths.join(', ')})`,
    );
    const script = bundleChild();
    console.error(`==> children: node ${[...etlNodeFlags(), path.relative(process.cwd(), script)].join(' ')}`);
    const results: PhaseResult[] = [];
    for (const engine of ['pipeline', 'monolith'] as const) {
      const dir = path.join(work, engine);
      mkdirSync(dir);
      for (const phase of PHASES) {
        const file = phase === 'backfill' ? data.full : phase === 'daily' ? data.recent : data.recentCopy;
        console.error(`==> ${engine}: ${phase}`);
        results.push(runChild(script, phase, engine, dir, file));
      }
    }
    const failures = check(results, data);
    report(size, data, results, failures);
    if (failures.length > 0) {
      for (const failure of failures) console.error(`bench:counties: ${failure}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface BenchData {
  full: string;
  recent: string;
  recentCopy: string;
  series: number;
  rows: number;
  bytes: number;
  recentRows: number;
  newDays: number;
  revised: number;
  recentMonths: string[];
}

/**
 * The files: a county history of `days + 1` days is generated; the backfill file is its first
 * `days` days, the recent file its last `recentDays` (30 at full size) with some earlier rows revised up by one case.
 */
async function prepare(work: string, series: number, days: number, recentDays: number): Promise<BenchData> {
  const started = performance.now();
  const generated = await generateCounties({
    out: path.join(work, 'data'),
    series,
    days: days + 1,
    recentDays,
    progress: (done, total) =>
      console.error(`  generated ${done}/${total} days (${((performance.now() - started) / 1000).toFixed(0)} s)`),
  });
  const lastDate = dropLastDay(generated.full);
  const recent = path.join(work, 'data', 'us-counties-recent-next.csv');
  const out = createWriteStream(recent);
  let index = 0;
  let newDays = 0;
  let revised = 0;
  let recentRows = 0;
  const dates = new Set<string>();
  for await (const line of createInterface({ input: createReadStream(generated.recent), crlfDelay: Infinity })) {
    let text = line;
    if (index > 0 && line !== '') {
      recentRows += 1;
      const fields = line.split(',');
      dates.add(fields[0] as string);
      if (fields[0] === lastDate) newDays += 1;
      else if (recentRows % REVISE_EVERY === 0) {
        fields[4] = String(Number(fields[4]) + 1);
        text = fields.join(',');
        revised += 1;
      }
    }
    index += 1;
    if (!out.write(`${text}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  rmSync(generated.recent);
  // The unchanged re-run: the same content under another name (its own URL and source baseline).
  const recentCopy = path.join(work, 'data', 'copy', 'us-counties-recent-next.csv');
  mkdirSync(path.dirname(recentCopy));
  copyFileSync(recent, recentCopy);
  const months = [...new Set([...dates].map((date) => date.slice(0, 7)))].sort();
  return {
    full: generated.full,
    recent,
    recentCopy,
    series: generated.series,
    rows: generated.rows - newDays,
    bytes: statSync(generated.full).size,
    recentRows,
    newDays,
    revised,
    recentMonths: months,
  };
}

/** Cuts the file's last date (rows are in date order); returns that date. */
function dropLastDay(file: string): string {
  const size = statSync(file).size;
  const tail = Math.min(size, 4 * MB);
  const buffer = Buffer.alloc(tail);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, tail, size - tail);
  } finally {
    closeSync(fd);
  }
  const text = buffer.toString('utf8');
  const lines = text.trimEnd().split('\n');
  const lastDate = (lines.at(-1) as string).split(',')[0] as string;
  const first = text.indexOf(`\n${lastDate},`);
  if (first < 0) throw new Error(`the last day of ${file} is longer than ${tail} bytes`);
  truncateSync(file, size - tail + Buffer.byteLength(text.slice(0, first + 1)));
  return lastDate;
}

/** packages/local-pipeline (a function: the parent runs before this module's later constants exist). */
function packageDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
}

/**
 * This file bundled as the `etl` command is (`scripts/bundle.mjs --script`): the children run
 * it with plain `node`, so a phase measures what `pnpm etl run` runs (no tsx transpiling at
 * start, none of its memory).
 */
function bundleChild(): string {
  const built = spawnSync(process.execPath, ['../../scripts/bundle.mjs', '--script', 'bench/counties.bench.ts'], {
    cwd: packageDir(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (built.status !== 0) throw new Error(`bundling the bench child failed (exit ${built.status})`);
  return path.join(packageDir(), 'dist/scripts/counties.bench.mjs');
}

/**
 * The Node flags of the root `etl` script (package.json): every child runs with them, as
 * `pnpm etl run` does, the monolith's too (one process setting for both engines).
 */
function etlNodeFlags(): string[] {
  const root = JSON.parse(readFileSync(path.join(packageDir(), '../../package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const etl = root.scripts.etl ?? '';
  return etl.split(/\s+/).filter((token) => token.startsWith('--'));
}

function runChild(script: string, phase: Phase, engine: Engine, dir: string, file: string): PhaseResult {
  const child = spawnSync(
    process.execPath,
    [...etlNodeFlags(), script, '--phase', phase, '--engine', engine, '--dir', dir, '--file', file],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * MB },
  );
  const line = (child.stdout ?? '').split('\n').findLast((text) => text.startsWith('{'));
  if (child.status !== 0 || !line) {
    throw new Error(`${engine} ${phase}: the child process failed (exit ${child.status ?? child.error?.message})`);
  }
  const result = JSON.parse(line) as PhaseResult;
  console.error(
    `  ${secs(result.ms)} s, CPU ${secs(result.cpuMs)} s, peak RSS ${result.maxRssMb} MB, ` +
      `${result.counts.inserted} inserted / ${result.counts.updated} updated / ${result.counts.unchanged} unchanged`,
  );
  return result;
}

function check(results: PhaseResult[], data: BenchData): string[] {
  const failures: string[] = [];
  const expected: Record<Phase, { inserted: number; updated: number }> = {
    backfill: { inserted: data.rows, updated: 0 },
    daily: { inserted: data.newDays, updated: data.revised },
    unchanged: { inserted: 0, updated: 0 },
  };
  for (const r of results) {
    const want = expected[r.phase];
    if (r.counts.inserted !== want.inserted || r.counts.updated !== want.updated) {
      failures.push(
        `${r.engine} ${r.phase}: ${r.counts.inserted} inserted + ${r.counts.updated} updated, expected ${want.inserted} + ${want.updated}`,
      );
    }
    const changed = r.counts.inserted + r.counts.updated;
    const days = r.dataWritten.day ?? 0;
    if (days !== changed)
      failures.push(`${r.engine} ${r.phase}: ${days} day items written for ${changed} changed days`);
    if (r.engine === 'pipeline' && (r.dataWritten.version ?? 0) !== changed) {
      failures.push(
        `${r.engine} ${r.phase}: ${r.dataWritten.version ?? 0} versions written for ${changed} changed days`,
      );
    }
    if (r.phase === 'unchanged') {
      const written = Object.values(r.dataWritten).reduce((a, b) => a + b, 0);
      if (written > 0) failures.push(`${r.engine} unchanged re-run: ${written} data-table items written, expected 0`);
      const outside = [...r.dataMonthsRead, ...r.ledgerMonthsRead].filter((m) => !data.recentMonths.includes(m));
      if (outside.length > 0) {
        failures.push(`${r.engine} unchanged re-run: read months outside the recent file's: ${[...new Set(outside)]}`);
      }
    }
  }
  return failures;
}

function report(size: Size, data: BenchData, results: PhaseResult[], failures: string[]): void {
  const rows = results.map((r) => {
    const lambda = { invocations: r.invocations, gbSeconds: lambdaGbSeconds(r.ms, r.engine) };
    const changed = r.counts.inserted + r.counts.updated;
    return {
      run: r.phase,
      engine: r.engine,
      'wall (s)': secs(r.ms),
      'CPU (s)': secs(r.cpuMs),
      'peak RSS (MB)': r.maxRssMb,
      'changed days': changed,
      'unchanged days': r.counts.unchanged,
      'day items written': r.dataWritten.day ?? 0,
      'versions written': r.dataWritten.version ?? 0,
      'catalogue items written': (r.dataWritten.catalogue ?? 0) + (r.dataWritten['county-summary'] ?? 0),
      'data-table requests': sum(Object.values(r.dataRequests)),
      'data-table keys read': r.dataRead.day ?? 0,
      'data months read': r.dataMonthsRead.length,
      'ledger requests': r.ledgerRequests,
      'ledger chunks read': r.ledgerChunksRead,
      'est. AWS cost (USD)': Number(estimateCost({ costs: r.costs, lambda }, r.engine).toPrecision(3)),
    };
  });
  const ratios = PHASES.map((phase) => {
    const p = results.find((r) => r.phase === phase && r.engine === 'pipeline') as PhaseResult;
    const m = results.find((r) => r.phase === phase && r.engine === 'monolith') as PhaseResult;
    return {
      run: phase,
      'wall ratio (pipeline / monolith)': round2(p.ms / m.ms),
      'CPU ratio': round2(p.cpuMs / m.cpuMs),
      'pipeline rows/s': Math.round((p.counts.inserted + p.counts.updated + p.counts.unchanged) / (p.ms / 1000)),
      'monolith rows/s': Math.round((m.counts.inserted + m.counts.updated + m.counts.unchanged) / (m.ms / 1000)),
    };
  });
  console.log(
    `\npnpm bench:counties --size ${size} (${new Date().toISOString()}, node ${process.version}): ` +
      `${data.rows.toLocaleString('en-US')} rows, ${data.series} series; recent file ${data.recentRows.toLocaleString('en-US')} rows ` +
      `(${data.newDays} new, ${data.revised} revised; months ${data.recentMonths.join(', ')})`,
  );
  console.table(rows);
  console.table(ratios);
  console.log(`${PRICES_LINE} Peak RSS target (backfill): < 500 MB.`);
  console.log(failures.length === 0 ? 'Checks: all passed.' : `Checks: ${failures.length} failed.`);
  if (args.json) {
    console.log(
      JSON.stringify({ size, rows: data.rows, series: data.series, results: rows, ratios, prices: PRICES, failures }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// A child: one phase of one engine, in its own process.
// ---------------------------------------------------------------------------------------------

async function child(phase: Phase, engine: Engine, dir: string, file: string): Promise<PhaseResult> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const measured = engine === 'pipeline' ? await pipeline(phase, dir, file) : await monolith(dir, file);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    engine,
    phase,
    ms,
    cpuMs: (used.user + used.system) / 1000,
    // resourceUsage().maxRSS is in KiB: the peak of this process (a bundle run by node: no tsx).
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...measured,
  };
}

type Measured = Omit<PhaseResult, 'engine' | 'phase' | 'ms' | 'cpuMs' | 'maxRssMb'>;

async function pipeline(phase: Phase, dir: string, file: string): Promise<Measured> {
  const counter = new DynamoRequestCounter();
  const local = await LocalPipeline.open({ dir, onDynamoRequest: counter.record });
  try {
    const url = pathToFileURL(file).href;
    let lastProgress = 0;
    const run = await local.run(
      phase === 'backfill'
        ? { trigger: 'manual', levels: ['county'], backfill: 'counties', sources: { counties: url } }
        : { trigger: 'manual', levels: ['county'], sources: { 'counties-recent': url } },
      (progress) => {
        // A line every 30 s on long runs: parts left in each queue, memory so far.
        if (progress.elapsedMs - lastProgress < 30_000) return;
        lastProgress = progress.elapsedMs;
        const left = progress.queues.map((q) => `${q.queue.replace(/^.*-/, '')} ${q.visible + q.inFlight}`).join(', ');
        console.error(
          `  ${phase}: ${Math.round(progress.elapsedMs / 1000)} s into the drain, ${progress.invocations} invocations; left: ${left}; RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB (peak ${Math.round(process.resourceUsage().maxRSS / 1024)})`,
        );
      },
    );
    if (run.status !== 'SUCCEEDED')
      throw new Error(`pipeline ${phase} ended ${run.status}: ${run.summary?.failure?.reason}`);
    const counts = run.summary?.levels?.county ?? { inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
    const data = counter.table(local.tables.data);
    const ledger = counter.table(local.tables.ledger);
    // The run's own counters; its outcome's one email (the notifier publishes after the summary).
    const summaryCosts = run.summary?.costs ?? processCosts();
    return {
      counts: { ...counts, rejected: counts.rejected ?? 0 },
      ...tableFigures(data),
      ledgerRequests: sum(Object.values(ledger.requests)),
      ledgerChunksRead: ledger.chunksRead.size,
      ledgerMonthsRead: [...ledger.monthsRead].sort(),
      costs: { ...summaryCosts, snsPublishes: 1 },
      invocations: 1 + local.lambdaInvocations(),
    };
  } finally {
    await local.close();
  }
}

function tableFigures(data: TableRequests) {
  return {
    dataWritten: data.written as Record<string, number>,
    dataRequests: data.requests,
    dataRead: data.read as Record<string, number>,
    dataMonthsRead: [...data.monthsRead].sort(),
  };
}

// ---------------------------------------------------------------------------------------------
// The monolith: the floor to beat, written plainly (not a product feature).
// ---------------------------------------------------------------------------------------------

async function monolith(dir: string, file: string): Promise<Measured> {
  const before = processCosts();
  const counter = new DynamoRequestCounter();
  const db = await openMonolithDb(dir, MONOLITH_TABLE);
  try {
    const { client, doc } = db;
    client.middlewareStack.add(
      (next, context) => async (input) => {
        const result = await next(input);
        counter.record({
          operation: String(context.commandName).replace(/Command$/, ''),
          input: input.input as Record<string, unknown>,
          output: result.output as unknown as Record<string, unknown>,
        });
        return result;
      },
      { step: 'initialize', name: 'countByKey' },
    );

    // Parse: every row, by geography (dates are shared strings; numbers in plain arrays).
    const byGeo = new Map<string, { dates: string[]; cases: number[]; deaths: (number | null)[] }>();
    for await (const result of extractGeoRows(createReadStream(file), {
      kind: 'counties',
      file: path.basename(file),
    })) {
      if (!result.ok) continue;
      const { geo, date, cases, deaths } = result.record;
      let series = byGeo.get(geo);
      if (!series) {
        series = { dates: [], cases: [], deaths: [] };
        byGeo.set(geo, series);
      }
      series.dates.push(date);
      series.cases.push(cases);
      series.deaths.push(deaths);
    }

    // Per geography: Query what is loaded over the file's dates, write the changed days.
    const counts = { inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
    const updatedAt = new Date().toISOString();
    const geos = [...byGeo.keys()];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < geos.length; i = next++) {
        const geo = geos[i] as string;
        const series = byGeo.get(geo) as { dates: string[]; cases: number[]; deaths: (number | null)[] };
        const stored = new Map<string, { cases: number; deaths?: number }>();
        const sorted = [...series.dates].sort();
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        do {
          const page = await doc.send(
            new QueryCommand({
              TableName: MONOLITH_TABLE,
              KeyConditionExpression: 'pk = :geo AND sk BETWEEN :from AND :to',
              ExpressionAttributeValues: { ':geo': geo, ':from': sorted[0], ':to': sorted.at(-1) },
              ConsistentRead: true,
              ExclusiveStartKey,
            }),
          );
          for (const item of page.Items ?? [])
            stored.set(item.sk as string, item as { cases: number; deaths?: number });
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
        const changed: Record<string, unknown>[] = [];
        series.dates.forEach((date, j) => {
          const cases = series.cases[j] as number;
          const deaths = series.deaths[j] ?? undefined;
          const old = stored.get(date);
          if (!old) counts.inserted += 1;
          else if (old.cases !== cases || old.deaths !== deaths) counts.updated += 1;
          else {
            counts.unchanged += 1;
            return;
          }
          changed.push({ pk: geo, sk: date, cases, deaths, updatedAt });
        });
        await putAll(doc, MONOLITH_TABLE, changed);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const after = processCosts();
    const costs = { ...after };
    for (const key of Object.keys(costs) as (keyof CostCounts)[]) costs[key] = after[key] - before[key];
    return {
      counts,
      ...tableFigures(counter.table(MONOLITH_TABLE)),
      ledgerRequests: 0,
      ledgerChunksRead: 0,
      ledgerMonthsRead: [],
      costs,
      invocations: 1,
    };
  } finally {
    await db.close();
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
function secs(ms: number): number {
  return Math.round(ms / 10) / 100;
}
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
