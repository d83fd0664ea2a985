#!/usr/bin/env node
/**
 * Measures the `etl` command's start-up (issue 12: `pnpm etl --help` <= 0.3 s, an unchanged
 * local re-run <= 1 s), each in fresh processes, min and median over `--runs` (default 7):
 *
 * - `node` alone (`node -e 0`) and `pnpm exec node -e 0`: what Node and pnpm cost before any
 *   of our code runs;
 * - `etl --help` three ways: the bundle (`node packages/cli/dist/etl.mjs`), the launcher
 *   (`node packages/cli/bin/etl.mjs`: the freshness check, then the bundle) and `pnpm etl`;
 * - an unchanged local re-run of the real snapshots (the README's snapshot command, after one
 *   full load into a fresh state folder), through the launcher and through `pnpm etl`.
 *
 * Wall time, and for the `node` runs the CPU time of the process (user + system, all threads):
 * on a shared machine the wall time mostly measures waiting for a core. `--json` adds one JSON
 * line. The snapshots come from SHARED_DATA_DIR (default ../shared/data); without them the
 * re-run is skipped. No thresholds: the figures are for docs/performance.md.
 *
 *   node scripts/bench-cli.mjs [--runs 7] [--json] [--root <another checkout>]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
    root: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'Usage: node scripts/bench-cli.mjs [--runs 7] [--json]\n\nTimes etl --help and an unchanged local re-run.',
  );
  process.exit(0);
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive integer, got "${values.runs}"`);
  process.exit(2);
}

// `--root <checkout>` measures another checkout of the project (e.g. an older commit) the same way.
const root = path.resolve(values.root ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
const launcher = path.join(root, 'packages/cli/bin/etl.mjs');
const bundle = path.join(root, 'packages/cli/dist/etl.mjs');
const dataDir = path.resolve(
  process.env.SHARED_DATA_DIR ?? path.join(fileURLToPath(import.meta.url), '../../../shared/data'),
);
const snapshots = ['nyt/us_2023-03-23.csv', 'jhu/time-series-19-covid-combined_2021-03-17.csv'].map((file) =>
  path.join(dataDir, file),
);
const cpuFile = path.join(mkdtempSync(path.join(tmpdir(), 'etl-bench-cli-')), 'cpu.json');
// Preloaded into the measured `node` processes: writes the process's CPU time when it exits.
const CPU_HOOK = `data:text/javascript,${encodeURIComponent(
  `import{writeFileSync}from'node:fs';process.on('exit',()=>{const u=process.cpuUsage();writeFileSync(${JSON.stringify(cpuFile)},String((u.user+u.system)/1000))})`,
)}`;

/** One fresh process: wall time (ms) and, for `node`, its CPU time (ms). Fails on a non-zero exit. */
function once(command, args, env = {}) {
  const measured = command === process.execPath;
  rmSync(cpuFile, { force: true });
  const started = performance.now();
  const child = spawnSync(command, measured ? ['--import', CPU_HOOK, ...args] : args, {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  const wall = performance.now() - started;
  if (child.status !== 0) {
    const reason = child.error?.message ?? child.stderr.trim().split('\n').at(-1);
    throw new Error(`${[command, ...args].join(' ')} failed (exit ${child.status}): ${reason}`);
  }
  return [wall, measured && existsSync(cpuFile) ? Number(readFileSync(cpuFile, 'utf8')) : undefined];
}

const median = (sorted) => {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const seconds = (ms) => Number((ms / 1000).toFixed(3));

const rows = [];
/** Times `runs` fresh processes and adds a row (seconds). */
function measure(figure, command, args, { env, note = '' } = {}) {
  const samples = Array.from({ length: runs }, () => once(command, args, env));
  const walls = samples.map(([wall]) => wall).sort((a, b) => a - b);
  const cpus = samples.map(([, cpu]) => cpu).filter((cpu) => cpu !== undefined);
  cpus.sort((a, b) => a - b);
  rows.push({
    figure,
    runs,
    'wall min (s)': seconds(walls[0]),
    'wall median (s)': seconds(median(walls)),
    'CPU median (s)': cpus.length ? seconds(median(cpus)) : '',
    note,
  });
}

// The bundle must be current before it is timed (the launcher rebuilds a stale one).
once(process.execPath, [launcher, '--version']);

measure('node -e 0', process.execPath, ['-e', '0'], { note: "Node's own start" });
measure('pnpm exec node -e 0', 'pnpm', ['exec', 'node', '-e', '0'], { note: "pnpm's own start, plus Node's" });
if (existsSync(bundle))
  measure('node dist/etl.mjs --help', process.execPath, [bundle, '--help'], { note: 'the bundle alone' });
measure('node bin/etl.mjs --help', process.execPath, [launcher, '--help'], { note: 'freshness check + bundle' });
measure('pnpm etl --help', 'pnpm', ['--silent', 'etl', '--help'], { note: 'target <= 0.3' });

if (snapshots.every((file) => existsSync(file))) {
  const state = mkdtempSync(path.join(tmpdir(), 'etl-bench-cli-state-'));
  const run = ['run', '--nyt-url', snapshots[0], '--jhu-url', snapshots[1]];
  const env = { ETL_LOCAL_DIR: state };
  try {
    const [fullMs] = once(process.execPath, [launcher, ...run], env);
    console.error(`full load (not in the table): ${seconds(fullMs)} s`);
    measure('unchanged re-run, node bin/etl.mjs', process.execPath, [launcher, ...run], {
      env,
      note: 'real snapshots',
    });
    measure('unchanged re-run, pnpm etl', 'pnpm', ['--silent', 'etl', ...run], { env, note: 'target <= 1' });
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
} else {
  console.error(`no snapshots in ${dataDir} (SHARED_DATA_DIR): the unchanged re-run is not measured`);
}
rmSync(path.dirname(cpuFile), { recursive: true, force: true });

console.table(rows);
console.log(`node ${process.version}, ${runs} fresh processes per figure`);
if (values.json) console.log(JSON.stringify({ benchmark: 'cli', node: process.version, rows }));
