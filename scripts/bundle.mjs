#!/usr/bin/env node
/**
 * Bundles one service into a reproducible Lambda zip.
 *
 *   node ../../scripts/bundle.mjs [--entry src/handler.ts] [--name <service>]
 *
 * Run from a service folder (its package `build` script does). esbuild bundles the entry
 * with every dependency, `@aws-sdk/*` included (the runtime's copy is not pinned), as ESM
 * for Node 22, minified, names kept, with a linked source map. Two artifacts, both
 * reproducible (fixed timestamps and modes: the same sources give the same sha256):
 *
 * - `dist/<name>.zip`, what Terraform deploys: `index.mjs` and a lean `index.mjs.map` that maps
 *   the project's own code only (no `sourcesContent`, no mappings into node_modules), so
 *   `--enable-source-maps` names our files and lines in Lambda while the zip stays small;
 * - `dist/<name>.mjs.map`, the full map (every source, with its content), kept beside the zip
 *   to decode any frame of a deployed stack trace (`node scripts/decode-stack.mjs`).
 *
 * `dist/bundle/` holds the zip's two files unpacked. Prints the sizes and digests, and fails
 * when the zip exceeds its budget of 400 KB (issue 12: smaller zips, faster cold starts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decode, encode } from '@jridgewell/sourcemap-codec';
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

/**
 * zod's `z` namespace re-exports every locale (`z.locales.*`, ~260 KB minified, a fifth of a
 * bundle); being a namespace object, esbuild cannot drop the unused ones. The project uses
 * zod's default English messages only, so its locale index resolves to English alone. Module
 * init compiles less code; `z.locales.<other>` would be undefined (nothing here uses it).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir)) return undefined;
      // A fixed virtual name (the source map must hold no absolute path: reproducible anywhere).
      return { path: 'english-only', namespace: 'zod-locales', pluginData: path.join(args.resolveDir, '../locales') };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: args.pluginData,
    }));
  },
};

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
  plugins: [zodEnglishOnly],
});

// The full map is the separate artifact; the zip gets the lean one (see the header).
const fullMapText = readFileSync(path.join(bundleDir, 'index.mjs.map'), 'utf8');
const fullMapPath = path.join(outDir, `${name}.mjs.map`);
writeFileSync(fullMapPath, fullMapText);
writeFileSync(path.join(bundleDir, 'index.mjs.map'), leanSourceMap(JSON.parse(fullMapText)));

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

/** The zip budget (bytes). A dependency that breaks it deserves a look before the budget moves. */
const MAX_ZIP_BYTES = 400_000;

const digest = (data) => createHash('sha256').update(data).digest('hex');
const kib = (size) => `${(size / 1024).toFixed(1)} KiB`;
console.log(`${name}: dist/${name}.zip ${kib(bytes.length)} sha256=${digest(bytes)}`);
console.log(`${name}: dist/${name}.mjs.map ${kib(Buffer.byteLength(fullMapText))} sha256=${digest(fullMapText)}`);
if (bytes.length > MAX_ZIP_BYTES) {
  console.error(
    `${name}: dist/${name}.zip is ${bytes.length} bytes; the budget is ${MAX_ZIP_BYTES} (see docs/performance.md)`,
  );
  process.exit(1);
}

/**
 * The map of the project's own sources only: node_modules sources are dropped, their segments
 * become unmapped (a frame there shows its bundle position), and no source content is kept.
 */
function leanSourceMap(map) {
  // Our files only: not under node_modules, not a plugin's virtual module (`namespace:name`).
  const keep = map.sources.map((source) => !source.split('/').includes('node_modules') && !/^[a-z-]+:/.test(source));
  const newIndex = [];
  const sources = [];
  map.sources.forEach((source, index) => {
    if (keep[index]) {
      newIndex[index] = sources.length;
      sources.push(source);
    }
  });
  const lines = decode(map.mappings).map((line) =>
    line.map((segment) => {
      if (segment.length === 1) return segment;
      const [column, source, ...rest] = segment;
      return keep[source] ? [column, newIndex[source], ...rest] : [column];
    }),
  );
  const usedNames = new Map();
  const names = [];
  for (const line of lines) {
    for (const segment of line) {
      if (segment.length !== 5) continue;
      const original = map.names[segment[4]];
      if (!usedNames.has(original)) {
        usedNames.set(original, names.length);
        names.push(original);
      }
      segment[4] = usedNames.get(original);
    }
  }
  // An unmapped segment right after another is redundant.
  const compact = lines.map((line) =>
    line.filter((segment, index) => segment.length !== 1 || line[index - 1]?.length !== 1),
  );
  return JSON.stringify({ version: 3, sources, sourceRoot: map.sourceRoot, names, mappings: encode(compact) });
}
