#!/usr/bin/env node
// The `etl` command: runs the bundle (dist/etl.mjs, `pnpm build`) in this process, rebuilding it
// first when one of its sources changed since it was built (see bundle-freshness.mjs). Node's
// compile cache (Node 22.1+, in the system's temporary folder) spares recompiling the bundle's
// code on every start; Node checks each cached entry against the file's content.
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { ensureBundle } from './bundle-freshness.mjs';

module.enableCompileCache?.();
await import(pathToFileURL(ensureBundle()).href);
