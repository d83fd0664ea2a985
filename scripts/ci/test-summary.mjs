#!/usr/bin/env node
// Adds up the per-package jest results written by the shared preset's summary reporter and
// prints one closing line: "Tests: N passed, N failed".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'test-output/jest-results';
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
if (existsSync(dir)) {
  for (const file of readdirSync(dir).sort()) {
    const result = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    passed += result.passed;
    failed += result.failed;
    skipped += result.skipped;
    rows.push(`  ${result.package.padEnd(28)} ${result.passed} passed, ${result.failed} failed`);
  }
}
console.log(rows.join('\n'));
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
