#!/usr/bin/env node
/**
 * The layers of the workspace, checked: composition roots → services → libraries.
 *
 * - composition roots (`packages/cli`, the `etl` command, and `packages/local-pipeline`, the
 *   services wired onto the local stack) are the only packages that may import a service;
 * - a service (`services/*`) imports libraries only: no other service, no composition root;
 * - a library (every other package under `packages/`) imports no service and no composition root;
 * - `terraform` (its jest tests over the plan) may run the local pipeline (a composition root)
 *   and lists the services as dependencies so that their zips are built first, but imports no
 *   service; `scripts` imports nothing of the workspace.
 *
 * Reads every workspace package.json (dependencies and devDependencies) and every import in its
 * sources (src/, test/, bench/, scripts/; `from '…'`, `import('…')`, `require('…')`), and fails
 * naming each offending dependency or import. Usage: node scripts/ci/check-layers.mjs [repo root]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../..'));
const COMPOSITION_ROOTS = new Set(['packages/cli', 'packages/local-pipeline']);

/** The workspace folders (pnpm-workspace.yaml: `packages/*`, `services/*`, `scripts`, `terraform`). */
function workspaceDirs() {
  const dirs = [];
  for (const group of ['packages', 'services']) {
    for (const name of readdirSync(path.join(root, group))) {
      if (statSync(path.join(root, group, name, 'package.json'), { throwIfNoEntry: false }))
        dirs.push(`${group}/${name}`);
    }
  }
  return [...dirs, 'scripts', 'terraform'];
}

function kindOf(dir) {
  if (COMPOSITION_ROOTS.has(dir)) return 'composition root';
  if (dir.startsWith('services/')) return 'service';
  if (dir === 'terraform') return 'terraform';
  if (dir === 'scripts') return 'scripts';
  return 'library';
}

/** Why `from` may not use `to` (both kinds), or undefined when it may. `how` is 'dependency' or 'import'. */
function violation(from, to, how) {
  if (from === 'composition root') return undefined;
  if (to === 'service') {
    if (from === 'terraform' && how === 'dependency') return undefined; // built first: the plan reads the zips
    return `only the composition roots (${[...COMPOSITION_ROOTS].join(', ')}) may use a service`;
  }
  if (to === 'composition root') {
    if (from === 'terraform') return undefined;
    return 'no library and no service may use a composition root';
  }
  if (from === 'scripts') return 'scripts use no workspace package';
  return undefined;
}

function sourceFiles(dir) {
  const files = [];
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (['node_modules', 'dist', 'generated', '.terraform'].includes(entry.name)) continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(c|m)?[jt]sx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(full);
    }
  };
  walk(path.join(root, dir));
  return files;
}

const IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](@covid-etl\/[^/'"]+|\.\.?\/[^'"]+)/gm;

const packages = workspaceDirs().map((dir) => {
  const json = JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
  return { dir, name: json.name, kind: kindOf(dir), json };
});
const byName = new Map(packages.map((p) => [p.name, p]));

/** The workspace package holding `file` (a relative import that leaves its package), if any. */
function packageOf(file) {
  const relative = path.relative(root, file);
  return packages.find((p) => relative === p.dir || relative.startsWith(`${p.dir}/`));
}

const problems = [];
for (const pkg of packages) {
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    for (const dep of Object.keys(pkg.json[field] ?? {})) {
      const target = byName.get(dep);
      const why = target && violation(pkg.kind, target.kind, 'dependency');
      if (why) problems.push(`${pkg.dir}/package.json: ${field} has ${dep} (a ${target.kind}): ${why}`);
    }
  }
  for (const file of sourceFiles(pkg.dir)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const target = match[1].startsWith('.')
        ? packageOf(path.resolve(path.dirname(file), match[1]))
        : byName.get(match[1]);
      const why = target && target !== pkg && violation(pkg.kind, target.kind, 'import');
      if (why) {
        const line = text.slice(0, match.index).split('\n').length;
        problems.push(`${path.relative(root, file)}:${line}: imports ${match[1]} (a ${target.kind}): ${why}`);
      }
    }
  }
}

if (problems.length > 0) {
  console.error(
    `Layer check failed (composition roots → services → libraries):\n${problems.map((p) => `  ${p}`).join('\n')}`,
  );
  process.exit(1);
}
console.log(
  `Layers OK: ${packages.length} workspace packages; only ${[...COMPOSITION_ROOTS].join(' and ')} use services.`,
);
