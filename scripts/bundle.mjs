#!/usr/bin/env node
/**
 * Bundles one service into a reproducible Lambda zip.
 *
 *   node ../../scripts/bundle.mjs [--entry src/handler.ts] [--name <service>]
 *
 * Run from a service folder (its package `build` script does). esbuild bundles the entry
 * with every dependency, `@aws-sdk/*` included (the runtime's copy is not pinned), as ESM
 * for Node 22, minified, names kept, with a linked source map. The zip holds `index.mjs`
 * and `index.mjs.map` with a fixed timestamp and mode, so building the same sources twice
 * gives the same sha256. Prints the zip's size and digest.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import yazl from 'yazl';

const { values } = parseArgs({
  options: {
    entry: { type: 'string', default: 'src/handler.ts' },
    name: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'Usage: node scripts/bundle.mjs [--entry src/handler.ts] [--name <service>]\n\nRun in a service folder; writes dist/<name>.zip.',
  );
  process.exit(0);
}

const serviceDir = process.cwd();
const name = values.name ?? JSON.parse(readFileSync('package.json', 'utf8')).name.replace(/^@[^/]+\//, '');
const outDir = path.join(serviceDir, 'dist');
const bundleDir = path.join(outDir, 'bundle');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(bundleDir, { recursive: true });

await build({
  entryPoints: { index: path.join(serviceDir, values.entry) },
  outdir: bundleDir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  // Source paths in the map are relative to the bundle, never absolute: reproducible anywhere.
  sourceRoot: '',
  legalComments: 'none',
  logLevel: 'warning',
  // ESM bundles of CommonJS dependencies need a real `require`.
  banner: {
    js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
  },
});

const FIXED_TIME = new Date('1980-01-01T00:00:00Z');
const zipPath = path.join(outDir, `${name}.zip`);
const zip = new yazl.ZipFile();
for (const file of ['index.mjs', 'index.mjs.map']) {
  zip.addBuffer(readFileSync(path.join(bundleDir, file)), file, {
    mtime: FIXED_TIME,
    mode: 0o100644,
    compressionLevel: 9,
    forceDosTimestamp: true,
  });
}
zip.end();
const chunks = [];
for await (const chunk of zip.outputStream) chunks.push(chunk);
const bytes = Buffer.concat(chunks);
writeFileSync(zipPath, bytes);

const sha256 = createHash('sha256').update(bytes).digest('hex');
const kib = (bytes.length / 1024).toFixed(1);
console.log(`${name}: dist/${name}.zip ${kib} KiB sha256=${sha256}`);
