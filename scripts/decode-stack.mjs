#!/usr/bin/env node
/**
 * Decodes the bundle positions of a deployed function's stack trace with the full source map
 * that `pnpm build` keeps beside the zip (`services/<name>/dist/<name>.mjs.map`). In Lambda,
 * the zip's lean map already names our own files; frames inside dependencies show as
 * `/var/task/index.mjs:<line>:<column>`, and this turns them into source positions too.
 *
 *   node scripts/decode-stack.mjs services/loader/dist/loader.mjs.map < trace.txt
 *
 * Reads the trace on stdin and prints it with each `index.mjs:<line>:<column>` replaced by
 * `<source>:<line>:<column>` (the build must be the deployed one: same sources, same zip).
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { text } from 'node:stream/consumers';

const [mapPath] = process.argv.slice(2);
if (!mapPath || mapPath === '--help' || mapPath === '-h') {
  console.log('Usage: node scripts/decode-stack.mjs services/<name>/dist/<name>.mjs.map < trace.txt');
  process.exit(mapPath ? 0 : 2);
}

const map = new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')));
const trace = await text(process.stdin);
process.stdout.write(
  trace.replace(/(?:file:\/\/)?[^\s()]*\bindex\.mjs:(\d+):(\d+)/g, (position, line, column) => {
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry) || entry.originalSource === undefined) return position;
    return `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  }),
);
