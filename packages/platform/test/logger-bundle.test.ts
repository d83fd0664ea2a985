import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLER = path.resolve(PACKAGE_DIR, '../../scripts/bundle.mjs');

/**
 * The logger as the bundler ships it (scripts/bundle.mjs: pino without transports). pino looks
 * up its callers' files at every `pino()` call, for transports; with `--enable-source-maps`
 * that parsed the bundle's source map at every Lambda's module init (issue 12). Nor does it load
 * `node:worker_threads` (pino's `isMainThread`) or `node:assert` (sonic-boom's one check).
 */
describe('the bundled logger', () => {
  it('logs JSON lines without looking up its callers or loading worker_threads and assert, and refuses a transport by name', () => {
    // Arrange: build the fixture as a Lambda is built; a preload counts util.getCallSites calls.
    const build = spawnSync(process.execPath, [BUNDLER, '--script', 'test/fixtures/bundled-logger.ts'], {
      cwd: PACKAGE_DIR,
      encoding: 'utf8',
    });
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    const probe = path.join(PACKAGE_DIR, 'test/fixtures/count-call-sites.cjs');

    // Act
    const run = spawnSync(
      process.execPath,
      ['--enable-source-maps', '--require', probe, path.join(PACKAGE_DIR, 'dist/scripts/bundled-logger.mjs')],
      { encoding: 'utf8', env: { PATH: process.env.PATH } },
    );

    // Assess
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ level: 'info', service: 'probe', n: 1, msg: 'hello' });
    expect(run.stderr).toContain('getCallSites: 0\n');
    expect(run.stderr).toContain('worker_threads: false, assert: false\n');
    expect(run.stderr).toContain('transport: pino transports are left out of this bundle (scripts/bundle.mjs)\n');
  });
});
