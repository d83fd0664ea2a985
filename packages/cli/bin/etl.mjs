#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `pnpm etl …` needs no build step.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = require.resolve('tsx/cli');
const main = path.join(here, '..', 'src', 'main.ts');
// Ctrl-C reaches the CLI too (same process group): let it say what it left unfinished and exit.
process.on('SIGINT', () => undefined);
const result = spawnSync(process.execPath, [tsx, main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
