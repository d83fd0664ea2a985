import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { schemaMessages } from './fixtures/schema-messages.js';

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLER = path.resolve(PACKAGE_DIR, '../../scripts/bundle.mjs');

/**
 * The schemas use `zod/mini`, which ships no messages: `src/zod-locale.ts` sets English ones,
 * and `package.json` marks it as a side effect so that a bundle keeps it. Without it, every
 * issue a Lambda logs or a person reads would be "Invalid input".
 */
describe('the contracts as a Lambda bundle has them', () => {
  it('explain bad input in the same English sentences as the sources', () => {
    // Arrange
    const build = spawnSync(process.execPath, [BUNDLER, '--script', 'test/fixtures/bundled-schemas.ts'], {
      cwd: PACKAGE_DIR,
      encoding: 'utf8',
    });
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);

    // Act
    const run = spawnSync(process.execPath, [path.join(PACKAGE_DIR, 'dist/scripts/bundled-schemas.mjs')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });

    // Assess
    expect(run.stderr).toBe('');
    const bundled = JSON.parse(run.stdout) as string[];
    expect(bundled).toEqual(schemaMessages());
    expect(bundled).toEqual(
      expect.arrayContaining([
        ': Too small: expected number to be >=0',
        ': Invalid input: expected number, received string',
        'trigger: Invalid option: expected one of "schedule"|"manual"',
        'scheduledTime: Invalid ISO datetime',
        'levels: Too small: expected array to have >=1 items',
        'maxRevisedShare: Too big: expected number to be <=1',
        'runId: expected a run id such as s-20261125T000000Z',
        ': Unrecognized key: "extra"',
        'environment: Too small: expected string to have >=1 characters',
        'startedAt: Invalid ISO datetime',
        'records.0.geo: geography "123" is not a geography id; expected US, a state FIPS such as 06, a county FIPS such as 06037, or 36-nyc, 29-kansas-city, 29-joplin, <state FIPS>-unknown',
      ]),
    );
  });
});
