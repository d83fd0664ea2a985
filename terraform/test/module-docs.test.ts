/**
 * The module READMEs' Inputs/Outputs tables are written from the code by
 * scripts/terraform-docs.mjs; its --check (run by terraform-check.sh) fails on a stale one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { TERRAFORM_DIR } from './plan.js';

const script = path.join(TERRAFORM_DIR, '..', 'scripts', 'terraform-docs.mjs');
const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

describe('module READMEs', () => {
  let copy: string | undefined;
  afterEach(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('list exactly the inputs and outputs of the code', () => {
    // Act
    const result = run('--check');

    // Assess
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('fail the check when an output changes and the README does not, and are rewritten on demand', () => {
    // Prepare
    copy = mkdtempSync(path.join(tmpdir(), 'terraform-docs-'));
    cpSync(path.join(TERRAFORM_DIR, 'modules', 'table'), path.join(copy, 'table'), { recursive: true });
    const outputs = path.join(copy, 'table', 'outputs.tf');
    writeFileSync(
      outputs,
      `${readFileSync(outputs, 'utf8')}\noutput "extra_name" {\n  description = "A new output."\n  value       = 1\n}\n`,
    );

    // Act
    const stale = run('--check', '--modules-dir', copy);
    const rewrite = run('--modules-dir', copy);
    const after = run('--check', '--modules-dir', copy);

    // Assess
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/stale Inputs\/Outputs tables in .*table\/README\.md/);
    expect(rewrite.status).toBe(0);
    expect(readFileSync(path.join(copy, 'table', 'README.md'), 'utf8')).toMatch(
      /^\| `extra_name` +\| A new output\. +\|$/m,
    );
    expect(after.status).toBe(0);
  });
});
