/**
 * `pnpm soak`: a bounded loop of local pipeline runs under random faults and snapshot changes,
 * checked after each run (see run-soak.ts). Prints the seed to reproduce; exits 1 on any
 * violation.
 *
 *   pnpm soak [--runs N] [--seed S]
 */
import { parseArgs } from 'node:util';
import { runSoak } from './run-soak.js';

const USAGE = `Usage: pnpm soak [--runs N] [--seed S]

A bounded loop of local pipeline runs (default 20) on one fresh state folder, each under a random
fault (ETL_FAULTS fail-first or crash-mid-batch for one service, or none, and sometimes failing
PutEvents entries) and a random change of the source snapshot (none, revised days, new days).
After each run it checks: the data table equals the series computed independently from the files,
the run's counts are exact, exactly one email was sent for the run, and no message is left in a
queue or DLQ. It prints the seed first (reproduce a soak with --seed) and exits 1 on any violation.`;

let values: { runs?: string; seed?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: { runs: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean' } },
  }));
} catch (error) {
  process.stderr.write(`error: ${(error as Error).message}\n(add --help for usage)\n`);
  process.exit(1);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const runs = Number(values.runs ?? 20);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isInteger(runs) || runs < 1 || runs > 10_000 || !Number.isInteger(seed) || seed < 0) {
  process.stderr.write('error: --runs must be an integer from 1 to 10000 and --seed a non-negative integer\n');
  process.exit(1);
}
console.log(`soak: seed ${seed}, ${runs} run(s) (reproduce with: pnpm soak --seed ${seed} --runs ${runs})`);
const result = await runSoak({ runs, seed, log: (line) => console.log(line) });
if (result.violations.length > 0) {
  console.log(`soak: ${result.violations.length} violation(s) (seed ${seed}):`);
  for (const violation of result.violations) console.log(`  - ${violation}`);
  process.exit(1);
}
console.log(`soak: ${runs} run(s), no violation (seed ${seed})`);
