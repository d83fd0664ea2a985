import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { runSoak } from '../soak/run-soak.js';

/** A short soak, as CI runs it: a few runs under random faults and snapshot changes, no violation. */
describe('pnpm soak', () => {
  it('passes a short soak with a fixed seed', async () => {
    // Act
    const lines: string[] = [];
    const result = await runSoak({ runs: 4, seed: 20261130, log: (line) => lines.push(line) });

    // Assess
    expect(result.violations).toEqual([]);
    expect(lines).toHaveLength(4);
  });

  it('explains itself with --help', () => {
    // Act
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    const soak = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../soak/soak.ts');
    const result = spawnSync(process.execPath, [tsx, soak, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: pnpm soak \[--runs N\] \[--seed S\]/);
    expect(result.stdout).toContain('exits 1 on any violation');
  });
});
