#!/usr/bin/env node
/**
 * Measures each built Lambda bundle: zip size, full source map size, and module init (the
 * time to import `dist/bundle/index.mjs`: parse, evaluate, create the SDK clients), in a fresh
 * `node --enable-source-maps` process per run as Lambda starts it, with dummy configuration:
 * wall time, and CPU time (what the import needs of a core when the machine is not shared).
 * Prints min and median over `--runs` (default 7) per function; `--json` adds one JSON line.
 * `--node <path>` picks the Node.js binary (Lambda runs nodejs22.x; default: this one).
 * Run `pnpm build` first. No thresholds: the figures are for docs/performance.md.
 *
 *   node scripts/bench-lambda.mjs [--runs 7] [--node /path/to/node22] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
    node: { type: 'string', default: process.execPath },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('Usage: node scripts/bench-lambda.mjs [--runs 7] [--node <path>] [--json]\n\nRun `pnpm build` first.');
  process.exit(0);
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive integer, got "${values.runs}"`);
  process.exit(2);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Configuration every handler reads at start (values are never used: nothing is invoked). */
const ENV = {
  AWS_REGION: 'us-east-1',
  ETL_ENVIRONMENT: 'dev',
  DATA_TABLE: 'bench-data',
  LEDGER_TABLE: 'bench-ledger',
  TRANSFORMER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-transformer',
  LOADER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-loader',
  EVENT_BUS_NAME: 'bench-bus',
  TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:bench',
  NYT_URL: 'https://example.com/us.csv',
  JHU_URL: 'https://example.com/jhu.csv',
  SLACK_WEBHOOK_PARAMETER: '/bench/slack',
  STALL_AFTER_MINUTES: '60',
  LOG_LEVEL: 'error',
};
// Wall time, and the CPU time the import used (user + system, all threads): on a busy shared
// machine the wall time mostly measures waiting for a core; the CPU time is what a quiet one needs.
const CHILD = `
const start = performance.now();
const cpu = process.cpuUsage();
await import(process.argv[1]);
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify([performance.now() - start, (used.user + used.system) / 1000]));
`;

function initMs(bundle) {
  const child = spawnSync(
    values.node,
    ['--enable-source-maps', '--input-type=module', '-e', CHILD, pathToFileURL(bundle).href],
    { encoding: 'utf8', env: { PATH: process.env.PATH, ...ENV } },
  );
  if (child.status !== 0) {
    const reason = child.error?.message ?? child.stderr.trim().split('\n').at(-1)?.slice(0, 300);
    throw new Error(`${bundle} failed to initialise: ${reason}`);
  }
  return JSON.parse(child.stdout);
}

function median(sorted) {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const servicesDir = path.join(root, 'services');
const rows = [];
for (const name of readdirSync(servicesDir).sort()) {
  const dist = path.join(servicesDir, name, 'dist');
  const bundle = path.join(dist, 'bundle', 'index.mjs');
  if (!existsSync(bundle)) {
    console.error(`${name}: no ${path.relative(root, bundle)}; run pnpm build first`);
    process.exitCode = 1;
    continue;
  }
  const samples = Array.from({ length: runs }, () => initMs(bundle));
  const times = samples.map(([wall]) => wall).sort((a, b) => a - b);
  const cpuTimes = samples.map(([, cpu]) => cpu).sort((a, b) => a - b);
  const kib = (file) => Number((statSync(path.join(dist, file)).size / 1024).toFixed(1));
  const maps = path.join(dist, `${name}.maps`);
  const mapBytes = readdirSync(maps).reduce((sum, file) => sum + statSync(path.join(maps, file)).size, 0);
  rows.push({
    function: name,
    'zip (KiB)': kib(`${name}.zip`),
    'index.mjs (KiB)': kib('bundle/index.mjs'),
    'full maps (KiB)': Number((mapBytes / 1024).toFixed(1)),
    runs,
    'init min (ms)': Number(times[0].toFixed(1)),
    'init median (ms)': Number(median(times).toFixed(1)),
    'init CPU min (ms)': Number(cpuTimes[0].toFixed(1)),
    'init CPU median (ms)': Number(median(cpuTimes).toFixed(1)),
  });
}
console.table(rows);
const nodeVersion = spawnSync(values.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
// How fast this machine's cores are right now: the CPU time of a fixed loop (~70-100 ms on an
// unshared modern core), to scale the figures above when the machine is shared.
const reference = spawnSync(
  values.node,
  [
    '-e',
    'const c=process.cpuUsage();let x=0;for(let i=0;i<1e8;i++)x+=i;const u=process.cpuUsage(c);console.log((u.user+u.system)/1000)',
  ],
  { encoding: 'utf8' },
);
const referenceMs = Number(Number(reference.stdout).toFixed(1));
console.log(
  `node ${nodeVersion}, --enable-source-maps, ${runs} fresh processes per function; ` +
    `reference: a 1e8-iteration loop took ${referenceMs} ms of CPU`,
);
if (values.json)
  console.log(JSON.stringify({ benchmark: 'lambda', node: nodeVersion, referenceLoopCpuMs: referenceMs, rows }));
