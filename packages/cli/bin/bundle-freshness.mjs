/**
 * Keeps `dist/etl.mjs` (the bundled `etl` command) in step with its sources: `ensureBundle()`
 * compares the project files the bundle was built from (`dist/etl.inputs.json`, written by
 * `scripts/bundle.mjs --cli`) with the files on disk (size and mtime, then sha256 when only the
 * mtime moved) and rebuilds the bundle when one changed, saying so on stderr. A build that
 * fails exits 1 with esbuild's errors: a stale CLI never runs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(cliDir, '../..');
export const BUNDLE = path.join(cliDir, 'dist', 'etl.mjs');
const MANIFEST = path.join(cliDir, 'dist', 'etl.inputs.json');

/**
 * Why the bundle must be rebuilt, or undefined when it is up to date. `paths` are for tests:
 * the bundle, its manifest, and the folder the manifest's paths are relative to.
 */
export function staleReason({ bundle = BUNDLE, manifest = MANIFEST, root = repoRoot } = {}) {
  if (!existsSync(bundle) || !existsSync(manifest)) return 'no build yet';
  let files;
  try {
    files = JSON.parse(readFileSync(manifest, 'utf8')).files;
  } catch {
    return 'its list of inputs is unreadable';
  }
  for (const [file, recorded] of Object.entries(files)) {
    const full = path.join(root, file);
    let stat;
    try {
      stat = statSync(full);
    } catch {
      return `${file} is gone`;
    }
    if (stat.size === recorded.size && stat.mtimeMs === recorded.mtimeMs) continue;
    if (
      stat.size !== recorded.size ||
      createHash('sha256').update(readFileSync(full)).digest('hex') !== recorded.sha256
    )
      return `${file} changed`;
  }
  return undefined;
}

/** Rebuilds the bundle when it is stale; returns its path. Exits 1 when the build fails. */
export function ensureBundle() {
  const reason = staleReason();
  if (reason === undefined) return BUNDLE;
  process.stderr.write(`etl: building packages/cli/dist/etl.mjs (${reason})\n`);
  const build = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'bundle.mjs'), '--cli'], {
    cwd: cliDir,
    encoding: 'utf8',
  });
  if (build.status !== 0) {
    process.stderr.write(`${build.stderr || build.error?.message || ''}`);
    process.stderr.write('etl: the CLI could not be built (see above); fix the sources and run the command again\n');
    process.exit(1);
  }
  return BUNDLE;
}
