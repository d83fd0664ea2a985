#!/usr/bin/env node
/**
 * The project's one esbuild configuration: bundles a service into a reproducible Lambda zip, or
 * the `etl` command into a bundle that `node` runs without transpiling.
 *
 *   node ../../scripts/bundle.mjs [--entry src/handler.ts] [--name <service>]   (a service folder)
 *   node ../../scripts/bundle.mjs --cli                                         (packages/cli)
 *   node ../../scripts/bundle.mjs --script bench/x.ts                           (a benchmark)
 *
 * Run from the package folder (its `build` script does). esbuild bundles the entry with every
 * dependency, `@aws-sdk/*` included (the runtime's copy is not pinned), as ESM for Node 22,
 * minified, names kept, with a linked source map.
 *
 * A service's bundle is code-split: `index.mjs` (the handler) and `chunk-<hash>.mjs` files that
 * the code loads with `import()`: the AWS SDK's protocol and HTTP code at the first request, its
 * SSO/STS clients and other credential providers never in Lambda, so module init parses and
 * evaluates less (issue 12). A service gets two artifacts, both reproducible (fixed timestamps
 * and modes: the same sources give the same sha256):
 *
 * - `dist/<name>.zip`, what Terraform deploys: the `.mjs` files, each with a lean `.mjs.map`
 *   that maps the project's own code only (no `sourcesContent`, no mappings into node_modules),
 *   so `--enable-source-maps` names our files and lines in Lambda while the zip stays small;
 * - `dist/<name>.maps/`, the full map of each file (every source, with its content), kept
 *   beside the zip to decode any frame of a deployed stack trace (`node scripts/decode-stack.mjs`).
 *
 * `dist/bundle/` holds the zip's files unpacked. Prints the sizes and digests, and fails when
 * the zip exceeds its budget of 400 KB (issue 12: smaller zips, faster cold starts).
 *
 * `--cli` writes `dist/etl.mjs` (the entry, `src/main.ts`) and its code-split chunks
 * (`dist/chunk-<hash>.mjs`: what a command loads with `import()` is read only when it runs),
 * and `dist/etl.inputs.json`, the project files it was built from with their size, mtime and
 * sha256, which `bin/etl.mjs` checks to rebuild a stale bundle (see packages/cli/README.md).
 * Dynalite stays external: its storage (`classic-level`) loads a native addon from its own
 * folder, so it is loaded from node_modules (a dependency of @covid-etl/cli for that reason).
 *
 * `--script <file>` writes `dist/scripts/<name>.mjs`, one file built as the `etl` command is (the
 * same options, dynalite external): a benchmark runs its measured child processes from it, so
 * they measure what `node` runs for `pnpm etl`, not tsx transpiling at start.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';
import yazl from 'yazl';

const { values } = parseArgs({
  options: {
    entry: { type: 'string', default: 'src/handler.ts' },
    name: { type: 'string' },
    cli: { type: 'boolean', default: false },
    script: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'Usage: node scripts/bundle.mjs [--entry src/handler.ts] [--name <service>]\n' +
      '       node scripts/bundle.mjs --cli\n' +
      '       node scripts/bundle.mjs --script <file.ts>\n\n' +
      'Run in a service folder (writes dist/<name>.zip), in packages/cli (writes dist/etl.mjs), or\n' +
      'with --script in any package (writes dist/scripts/<name>.mjs, a benchmark child).',
  );
  process.exit(0);
}

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

/**
 * pino without transports. Each `pino()` call records its callers' file names (`lib/caller.js`,
 * `util.getCallSites()`) to resolve transport targets; with `--enable-source-maps` that parses
 * the bundle's source map at module init (~25 ms of a Lambda's cold start, issue 12). The
 * project logs to stdout (Lambda's log stream) or a stream it passes, never through a
 * `transport`, so the caller lookup returns no files, and `pino.transport` (with thread-stream,
 * its worker) is left out: calling it throws rather than logging nowhere.
 */
const PINO_STUBS = {
  caller: 'module.exports = function getCallers() { return []; };',
  transport:
    "module.exports = function transport() { throw new Error('pino transports are left out of this bundle (scripts/bundle.mjs)'); };",
  worker_threads: 'module.exports = { isMainThread: true };',
  assert: 'module.exports = function assert(value, message) { if (!value) throw new Error(message); };',
};
const pinoWithoutTransports = {
  name: 'pino-without-transports',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/(lib\/)?(caller|transport)$/ }, (args) => {
      if (!/[\\/]pino([\\/]lib)?$/.test(args.resolveDir)) return undefined;
      return { path: path.basename(args.path), namespace: 'pino-stub' };
    });
    // pino's tools read `isMainThread` (to flush an asynchronous destination at exit) and
    // sonic-boom calls `assert` once: loading `node:worker_threads` and `node:assert` for them
    // cost ~4 ms of every cold start. Nothing in this project logs from a worker thread.
    pluginBuild.onResolve({ filter: /^(node:)?(worker_threads|assert)$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      const owner = name === 'assert' ? /[\\/]sonic-boom$/ : /[\\/]pino[\\/]lib$/;
      if (!owner.test(args.resolveDir)) return undefined;
      return { path: name, namespace: 'pino-stub' };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'pino-stub' }, (args) => ({
      contents: PINO_STUBS[args.path],
      loader: 'js',
    }));
  },
};

/**
 * Node's built-in modules are `require`d, not imported: an ES import of a built-in makes Node
 * build its ES facade, which reads every export, and reading `http`'s lazy exports loads undici
 * (`node:http` + `node:https` cost ~100 ms of CPU imported, ~25 ms required; issue 12). Each
 * built-in resolves to a one-line CommonJS module; esbuild reads its exports where they are used.
 */
const requireBuiltins = {
  name: 'require-builtins',
  setup(pluginBuild) {
    const names = new Set(builtinModules);
    pluginBuild.onResolve({ filter: /^[a-z_:/0-9]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!names.has(name) || args.namespace === 'builtin') return undefined;
      return { path: `node:${name}`, namespace: 'builtin' };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/** What every bundle shares: Node 22 ESM, minified with names kept, a linked source map. */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  // The ES module build of a package before its CommonJS one (esbuild's default for Node is the
  // reverse): the AWS SDK's CommonJS build is one file per client with every command, wrapped
  // and evaluated whole; its ES modules are tree-shaken to the commands used (issue 12).
  mainFields: ['module', 'main'],
  outExtension: { '.js': '.mjs' },
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
  plugins: [zodEnglishOnly, pinoWithoutTransports, requireBuiltins],
};

const packageDir = process.cwd();
const outDir = path.join(packageDir, 'dist');
if (values.cli) {
  await buildCli();
  process.exit(0);
}
if (values.script) {
  const entry = path.resolve(packageDir, values.script);
  const out = path.join(outDir, 'scripts', `${path.basename(entry).replace(/\.[cm]?[jt]s$/, '')}.mjs`);
  await build({ ...common, entryPoints: [entry], outfile: out, external: ['dynalite'] });
  console.log(`script: ${path.relative(packageDir, out)}`);
  process.exit(0);
}

const name = values.name ?? JSON.parse(readFileSync('package.json', 'utf8')).name.replace(/^@[^/]+\//, '');
const bundleDir = path.join(outDir, 'bundle');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(bundleDir, { recursive: true });

const built = await build({
  ...common,
  entryPoints: { index: path.join(packageDir, values.entry) },
  outdir: bundleDir,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  metafile: true,
});

// The full maps are the separate artifact; the zip gets the lean ones (see the header).
const codeFiles = Object.keys(built.metafile.outputs)
  .map((output) => path.basename(output))
  .filter((file) => file.endsWith('.mjs'))
  .sort();
const mapsDir = path.join(outDir, `${name}.maps`);
mkdirSync(mapsDir, { recursive: true });
let fullMapBytes = 0;
const fullMapDigest = createHash('sha256');
for (const file of codeFiles) {
  const fullMapText = readFileSync(path.join(bundleDir, `${file}.map`), 'utf8');
  writeFileSync(path.join(mapsDir, `${file}.map`), fullMapText);
  writeFileSync(path.join(bundleDir, `${file}.map`), leanSourceMap(JSON.parse(fullMapText)));
  fullMapBytes += Buffer.byteLength(fullMapText);
  fullMapDigest.update(`${file}\n${fullMapText}\n`);
}

const FIXED_TIME = new Date('1980-01-01T00:00:00Z');
const zipPath = path.join(outDir, `${name}.zip`);
const zip = new yazl.ZipFile();
for (const file of codeFiles.flatMap((code) => [code, `${code}.map`])) {
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

function digest(data) {
  return createHash('sha256').update(data).digest('hex');
}
function kib(size) {
  return `${(size / 1024).toFixed(1)} KiB`;
}
const index = statSync(path.join(bundleDir, 'index.mjs')).size;
console.log(
  `${name}: dist/${name}.zip ${kib(bytes.length)} (index.mjs ${kib(index)} + ${codeFiles.length - 1} chunks) sha256=${digest(bytes)}`,
);
console.log(`${name}: dist/${name}.maps/ ${kib(fullMapBytes)} sha256=${fullMapDigest.digest('hex')}`);
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

/**
 * The `etl` command: `dist/etl.mjs` and its chunks, written so that a CLI running meanwhile
 * never sees a half-written bundle (chunk names are content hashes; each file is written to a
 * temporary name and renamed, the entry last), then `dist/etl.inputs.json`.
 */
async function buildCli() {
  const repoRoot = path.resolve(packageDir, '../..');
  const started = Date.now();
  const result = await build({
    ...common,
    entryPoints: { etl: path.join(packageDir, 'src/main.ts') },
    outdir: outDir,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    external: ['dynalite'],
    metafile: true,
    write: false,
  });
  mkdirSync(outDir, { recursive: true });
  const entry = path.join(outDir, 'etl.mjs');
  const files = [...result.outputFiles].sort((a, b) => Number(a.path === entry) - Number(b.path === entry));
  for (const file of files) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
  // Chunks of earlier builds: kept a day for a CLI still running on them, then removed.
  const written = new Set(files.map((file) => path.basename(file.path)));
  for (const file of readdirSync(outDir)) {
    const full = path.join(outDir, file);
    if (/^chunk-.*\.mjs(\.map)?$/.test(file) && !written.has(file) && Date.now() - statSync(full).mtimeMs > 86_400_000)
      rmSync(full, { force: true });
  }
  // The project files the bundle was built from, and what changes when dependencies do.
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => !input.split('/').includes('node_modules') && !/^[a-z-]+:/.test(input))
    .map((input) => path.relative(repoRoot, path.resolve(packageDir, input)));
  inputs.push(
    'scripts/bundle.mjs',
    ...['node_modules/.pnpm/lock.yaml'].filter((file) => existsSync(path.join(repoRoot, file))),
  );
  const manifest = { files: {} };
  for (const input of [...new Set(inputs)].sort()) {
    const full = path.join(repoRoot, input);
    const stat = statSync(full);
    // Changed while the build ran: the bundle may hold the old text, so the next check rebuilds.
    const mtimeMs = stat.mtimeMs >= started ? 0 : stat.mtimeMs;
    manifest.files[input] = { size: stat.size, mtimeMs, sha256: digest(readFileSync(full)) };
  }
  const manifestPath = path.join(outDir, 'etl.inputs.json');
  writeFileSync(`${manifestPath}.${process.pid}.tmp`, `${JSON.stringify(manifest, null, 1)}\n`);
  renameSync(`${manifestPath}.${process.pid}.tmp`, manifestPath);
  const size = files.reduce((sum, file) => sum + (file.path.endsWith('.mjs') ? file.contents.length : 0), 0);
  console.log(
    `cli: dist/etl.mjs ${kib(files.find((file) => file.path === entry).contents.length)} + ${files.length - 1} files, ` +
      `${kib(size)} of code, from ${Object.keys(manifest.files).length} project files`,
  );
}
