#!/usr/bin/env node
/**
 * Runs the project's benchmarks and prints their figures as one table (`pnpm bench`):
 * the core extractor against Python's csv.DictReader (packages/core/bench), the states and
 * counties parser on a synthetic full county file (packages/core/bench/geo.bench.ts), module init and zip
 * size of each built Lambda (scripts/bench-lambda.mjs, after `pnpm build`), the `etl` command's
 * start-up (scripts/bench-cli.mjs), the cost of a local queue change by queue length
 * (packages/local-stack/bench) and the local pipeline against an in-process monolith, with
 * DynamoDB requests and the estimated AWS cost per run (packages/local-pipeline/bench), and the
 * counties backfill, daily and unchanged runs on the local stack against a monolith
 * (packages/local-pipeline/bench/counties.bench.ts). No
 * thresholds here: the figures and the method are in docs/performance.md.
 *
 *   pnpm bench                 the sizes of docs/performance.md (minutes)
 *   pnpm bench --size small    once each at a small size (CI: they keep working)
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'full' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('Usage: pnpm bench [--size full|small]\n\nRuns every benchmark and prints one table.');
  process.exit(0);
}
if (values.size !== 'full' && values.size !== 'small') {
  console.error(`--size must be full or small, got "${values.size}"`);
  process.exit(2);
}
const small = values.size === 'small';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs one benchmark with --json, showing its own output, and returns its JSON line. */
function run(label, cwd, command, args, env = {}) {
  console.error(`\n==> ${label}`);
  const child = spawnSync(command, args, {
    cwd: path.join(root, cwd),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stderr.write(child.stdout ?? '');
  const line = (child.stdout ?? '').split('\n').findLast((text) => text.startsWith('{'));
  if (child.status !== 0 || !line) {
    console.error(`${label}: failed (exit ${child.status ?? child.error?.message})`);
    process.exitCode = 1;
    return undefined;
  }
  return JSON.parse(line);
}

const rows = [];
const add = (area, figure, min, median, note = '') => rows.push({ area, figure, min, median, note });

const core = run(
  'core extractor vs Python csv.DictReader',
  'packages/core',
  'pnpm',
  ['exec', 'tsx', 'bench/core.bench.ts', '--json'],
  small ? { BENCH_SCALE: '1', BENCH_REPEATS: '1' } : {},
);
if (core) {
  const note = `${core.scale}x JHU, ${core['input (MB)']} MB, ${core.repeats} repeats`;
  add('core', 'extract+transform (s)', core['wall time min (s)'], core['wall time median (s)'], note);
  add('core', 'python DictReader (s)', core['python DictReader min (s)'], core['python DictReader median (s)'], note);
  add('core', 'speed vs python (x)', '', core['speed vs python (median)'], 'target >= 3');
  add('core', 'peak RSS (MB)', '', core['maxRSS (MB)'], 'target < 200');
}

const geo = run('states and counties parser (synthetic county file)', 'packages/core', 'pnpm', [
  'exec',
  'tsx',
  'bench/geo.bench.ts',
  '--json',
  '--size',
  small ? 'small' : 'full',
]);
if (geo) {
  const note = `${geo['parse rows']} rows, ${geo['input (MB)']} MB`;
  add('geo', 'parse (rows/s)', '', geo['parse rows/s'], note);
  add('geo', 'parse peak RSS (MB)', '', geo['parse maxRSS (MB)'], 'budget 250 (tsx included)');
  add(
    'geo',
    'parse + chunk plan (rows/s)',
    '',
    geo['plan rows/s'],
    `${geo['plan chunks']} chunks, ${geo['plan parts']} parts`,
  );
  add('geo', 'parse + chunk plan peak RSS (MB)', '', geo['plan maxRSS (MB)'], 'budget 500 (backfill target)');
}

console.error('\n==> pnpm build (the Lambda bundles)');
const build = spawnSync('pnpm', ['build', '--output-logs=errors-only'], { cwd: root, stdio: 'inherit' });
const lambda =
  build.status === 0
    ? run('Lambda module init', '.', process.execPath, [
        'scripts/bench-lambda.mjs',
        '--json',
        '--runs',
        small ? '1' : '7',
      ])
    : undefined;
if (build.status !== 0) process.exitCode = 1;
for (const row of lambda?.rows ?? []) {
  const zip = `zip ${row['zip (KiB)']} KiB`;
  add(`lambda ${row.function}`, 'module init (ms)', row['init min (ms)'], row['init median (ms)'], zip);
  add(
    `lambda ${row.function}`,
    'module init CPU (ms)',
    row['init CPU min (ms)'],
    row['init CPU median (ms)'],
    'target <= 150',
  );
}
if (lambda)
  add('lambda', 'reference loop CPU (ms)', '', lambda.referenceLoopCpuMs, '1e8 iterations; ~70-100 on a quiet core');

const cli = run('cli start-up', '.', process.execPath, [
  'scripts/bench-cli.mjs',
  '--json',
  '--runs',
  small ? '1' : '7',
]);
for (const row of cli?.rows ?? []) {
  add('cli start-up', `${row.figure} (s)`, row['wall min (s)'], row['wall median (s)'], cliNote(row));
}

const queue = run(
  'local queue changes',
  'packages/local-stack',
  'pnpm',
  ['exec', 'tsx', '--expose-gc', 'bench/queue.bench.ts', '--json'],
  small ? { BENCH_QUEUE_LENGTHS: '100', BENCH_REPEATS: '1' } : {},
);
for (const row of queue?.rows ?? []) {
  add(
    'local queue',
    `µs per change, ${row['queue length']} messages`,
    row['µs/change min'],
    row['µs/change median'],
    `${row['bytes written/change']} bytes written/change`,
  );
}

const pipeline = run('pipeline vs monolith', 'packages/local-pipeline', 'pnpm', [
  'exec',
  'tsx',
  'bench/pipeline.bench.ts',
  '--json',
  '--size',
  values.size,
]);
for (const row of pipeline?.rows ?? []) {
  const area = `pipeline ${row.dataset.replace(/ \(.*\)$/, '')} ${row.run}`;
  add(area, 'pipeline (s)', row['pipeline min (s)'], row['pipeline median (s)']);
  add(area, 'monolith (s)', row['monolith min (s)'], row['monolith median (s)']);
  add(area, 'ratio (x)', '', row['ratio (median)'], `target ${row.target}`);
  add(
    area,
    'est. AWS cost/run (USD)',
    '',
    row['est. cost pipeline (USD)'],
    `monolith ${row['est. cost monolith (USD)']}; DynamoDB requests ${row['DynamoDB requests (pipeline)']} vs ${row['DynamoDB requests (monolith)']}; ledger items read ${row['ledger items read']}`,
  );
}

// The full county backfill takes about an hour on the shared 2-core machine: `pnpm bench` runs the
// medium size (1,000 series x 120 days); the full one runs alone (docs/performance.md).
const counties = run('counties on the local stack vs monolith', 'packages/local-pipeline', 'pnpm', [
  'exec',
  'tsx',
  'bench/counties.bench.ts',
  '--json',
  '--size',
  small ? 'small' : 'medium',
]);
for (const row of counties?.results ?? []) {
  const area = `counties ${row.run}`;
  add(
    area,
    `${row.engine} wall (s)`,
    '',
    row['wall (s)'],
    `CPU ${row['CPU (s)']} s; peak RSS ${row['peak RSS (MB)']} MB${row.run === 'backfill' ? ' (target < 500)' : ''}`,
  );
  add(
    area,
    `${row.engine} est. AWS cost/run (USD)`,
    '',
    row['est. AWS cost (USD)'],
    `${row['changed days']} changed days: ${row['day items written']} days + ${row['versions written']} versions written; ${row['data-table requests']} data-table requests; ${row['ledger chunks read']} ledger chunks read`,
  );
}
if (counties) {
  for (const ratio of counties.ratios) {
    add(
      `counties ${ratio.run}`,
      'ratio pipeline/monolith (x)',
      '',
      ratio['wall ratio (pipeline / monolith)'],
      `CPU ratio ${ratio['CPU ratio']}`,
    );
  }
  add(
    'counties',
    'checks',
    '',
    counties.failures.length === 0 ? 'passed' : 'FAILED',
    `${counties.rows} rows, ${counties.series} series`,
  );
}

/** The note of a CLI row: its CPU time when measured, and what it is. */
function cliNote(row) {
  return [row['CPU median (s)'] === '' ? '' : `CPU ${row['CPU median (s)']} s`, row.note].filter(Boolean).join('; ');
}

console.log(`\npnpm bench --size ${values.size} (${new Date().toISOString()}, node ${process.version})`);
console.table(rows);
if (pipeline) {
  console.log(
    `Pipeline ratio at ${pipeline.factor}x vs 1x (target: no worse): ${pipeline.scaling
      .map((s) => `${s.run} ${s['ratio 1x']} -> ${s[`ratio ${pipeline.factor}x`]}`)
      .join(', ')}. Prices: us-east-1 as of ${pipeline.prices.date} (docs/performance.md).`,
  );
}
