#!/usr/bin/env node
/**
 * Decodes the bundle positions of a deployed function's stack trace with the full source maps
 * that `pnpm build` keeps beside the zip (`services/<name>/dist/<name>.maps/`, one map per file
 * of the code-split bundle). In Lambda, the zip's lean maps already name our own files; frames
 * inside dependencies show as `/var/task/<file>.mjs:<line>:<column>` (`index.mjs` or a
 * `chunk-<hash>.mjs`), and this turns them into source positions too.
 *
 *   node scripts/decode-stack.mjs services/loader/dist/loader.maps < trace.txt
 *
 * Reads the trace on stdin and prints it with each `<file>.mjs:<line>:<column>` whose map is in
 * the folder replaced by `<source>:<line>:<column>` (the build must be the deployed one: same
 * sources, same zip). A single `.map` file may be given instead of the folder: it decodes
 * `index.mjs` frames only.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { text } from 'node:stream/consumers';

const [mapsPath] = process.argv.slice(2);
if (!mapsPath || mapsPath === '--help' || mapsPath === '-h') {
  console.log('Usage: node scripts/decode-stack.mjs services/<name>/dist/<name>.maps < trace.txt');
  process.exit(mapsPath ? 0 : 2);
}
if (!existsSync(mapsPath)) {
  console.error(`decode-stack: ${mapsPath} does not exist; run \`pnpm build\` of the deployed commit first`);
  process.exit(2);
}

const maps = new Map();
/** The map of a bundle file (`index.mjs`, `chunk-<hash>.mjs`), read once; undefined when absent. */
function mapOf(file) {
  if (!maps.has(file)) {
    const mapFile = statSync(mapsPath).isDirectory()
      ? path.join(mapsPath, `${file}.map`)
      : file === 'index.mjs' && mapsPath;
    maps.set(
      file,
      mapFile && existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined,
    );
  }
  return maps.get(file);
}

const trace = await text(process.stdin);
process.stdout.write(
  trace.replace(
    /(?:file:\/\/)?[^\s()]*?\b((?:index|chunk-[A-Z0-9]+)\.mjs):(\d+):(\d+)/g,
    (position, file, line, column) => {
      const entry = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1);
      if (!entry || !('originalSource' in entry) || entry.originalSource === undefined) return position;
      return `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    },
  ),
);
