import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { BUNDLE, staleReason } from '../bin/bundle-freshness.mjs';
import { freshStateDir, runCli } from './helpers/cli.js';

const CLI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LAUNCHER = path.join(CLI_DIR, 'bin', 'etl.mjs');
const MANIFEST = path.join(CLI_DIR, 'dist', 'etl.inputs.json');

/** Code that marks what a loaded file holds (service ids of the SDK clients, the local stack). */
const MARKERS = {
  'the DynamoDB client': 'DynamoDB_20120810',
  'the SSM client': 'AmazonSSM',
  'the SQS client': 'AmazonSQS',
  'the EventBridge client': 'AWSEvents',
  'the Lambda client': 'AWSGirApiService',
  'the embedded local stack': 'dynalite',
};
type Part = keyof typeof MARKERS;

/**
 * Runs the launcher as `pnpm etl` does, with a module hook that records every file Node loads,
 * and returns what those files hold.
 */
async function partsLoaded(args: string[], env: Record<string, string> = {}): Promise<Set<Part>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'etl-loaded-'));
  const log = path.join(dir, 'loaded.txt');
  const hooks = `export async function load(url, context, next) {
    if (url.startsWith('file:')) (await import('node:fs')).appendFileSync(${JSON.stringify(log)}, url + '\\n');
    return next(url, context);
  }`;
  const register = path.join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});\n`,
  );
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', register, LAUNCHER, ...args], {
        env: { ...process.env, NODE_OPTIONS: '', ...env },
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(code).toBe(0);
    const files = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((url) => fileURLToPath(url));
    // The command ran in this process, from the bundle (not in a child the hook cannot see).
    expect(files).toContain(BUNDLE);
    const found = new Set<Part>();
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const [part, marker] of Object.entries(MARKERS) as Array<[Part, string]>) {
        if (file.includes(`/${marker}/`) || text.includes(marker)) found.add(part);
      }
    }
    return found;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('start-up: what the etl command loads', () => {
  it('etl --help loads no AWS client and not the local stack', async () => {
    // Prepare / Act
    const loaded = await partsLoaded(['--help']);
    // Assess
    expect([...loaded]).toEqual([]);
  });

  it('a local command loads the local stack and DynamoDB, and none of the deployed-only clients', async () => {
    // Prepare
    const dir = freshStateDir();
    try {
      // Act
      const loaded = await partsLoaded(['runs'], { ETL_LOCAL_DIR: dir });
      // Assess
      expect([...loaded].sort()).toEqual(['the DynamoDB client', 'the embedded local stack']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the bundle is rebuilt when a source changed', () => {
  it('names the reason: no build, a changed or removed source; a touched but unchanged file is fresh', () => {
    // Prepare
    const root = mkdtempSync(path.join(tmpdir(), 'etl-fresh-'));
    const bundle = path.join(root, 'etl.mjs');
    const manifest = path.join(root, 'etl.inputs.json');
    const source = path.join(root, 'a.ts');
    try {
      writeFileSync(source, 'export const a = 1;\n');
      const paths = { bundle, manifest, root };
      // Act / Assess
      expect(staleReason(paths)).toBe('no build yet');
      writeFileSync(bundle, '');
      const recorded = (sha256: string) => JSON.stringify({ files: { 'a.ts': { size: 20, mtimeMs: 1000, sha256 } } });
      writeFileSync(manifest, recorded('0'.repeat(64)));
      expect(staleReason(paths)).toBe('a.ts changed');
      writeFileSync(manifest, recorded(createHash('sha256').update(readFileSync(source)).digest('hex')));
      expect(staleReason(paths)).toBeUndefined(); // mtime differs, content is the same
      utimesSync(source, 1, 1);
      expect(staleReason(paths)).toBeUndefined();
      writeFileSync(source, 'export const a = 2;\n');
      expect(staleReason(paths)).toBe('a.ts changed');
      rmSync(source);
      expect(staleReason(paths)).toBe('a.ts is gone');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the launcher rebuilds a stale bundle before running it, and says so', async () => {
    // Prepare: the bundle was built from another version of main.ts
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as {
      files: Record<string, { mtimeMs: number; sha256: string }>;
    };
    const main = 'packages/cli/src/main.ts';
    const entry = manifest.files[main];
    if (!entry) throw new Error(`${main} is not in ${MANIFEST}`);
    manifest.files[main] = { ...entry, mtimeMs: 0, sha256: '0'.repeat(64) };
    writeFileSync(MANIFEST, JSON.stringify(manifest));
    // Act
    const rebuilt = await runCli(['--version']);
    const again = await runCli(['--version']);
    // Assess
    expect(rebuilt.stderr).toBe(`etl: building packages/cli/dist/etl.mjs (${main} changed)\n`);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/^etl \d+\.\d+\.\d+ /);
    expect(staleReason()).toBeUndefined();
    expect(again.stderr).toBe('');
    expect(again.stdout).toBe(rebuilt.stdout);
    expect(BUNDLE.endsWith(path.join('dist', 'etl.mjs'))).toBe(true);
  });
});
