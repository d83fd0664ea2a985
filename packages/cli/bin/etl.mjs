#!/usr/bin/env node
// The `etl` command: runs the bundle (dist/etl.mjs, `pnpm build`) in this process, rebuilding it
// first when one of its sources changed since it was built (see bundle-freshness.mjs).
import { pathToFileURL } from 'node:url';
import { ensureBundle } from './bundle-freshness.mjs';

await import(pathToFileURL(ensureBundle()).href);
