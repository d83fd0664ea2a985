#!/usr/bin/env node
// Adds up the per-package jest results written by the shared preset's summary reporter and
// prints the slowest suites, then one closing line: "Tests: N passed, N failed".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'test-output/jest-results';
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
const suites = [];
if (existsSync(dir)) {
  for (const file of readdirSync(dir).sort()) {
    const result = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    passed += result.passed;
    failed += result.failed;
    skipped += result.skipped;
    suites.push(...(result.suites ?? []));
    rows.push(`  ${result.package.padEnd(28)} ${result.passed} passed, ${result.failed} failed`);
  }
}
console.log(rows.join('\n'));
const slowest = suites.sort((a, b) => b.seconds - a.seconds).slice(0, 12);
if (slowest.length > 0) {
  const total = suites.reduce((sum, suite) => sum + suite.seconds, 0);
  console.log(`Slowest suites (of ${suites.length}, ${Math.round(total)} s in all):`);
  for (const suite of slowest) console.log(`  ${suite.seconds.toFixed(1).padStart(6)} s  ${suite.file}`);
}
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
