import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { WebAssets } from './ports.js';

const WEB_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'web');

/**
 * Bundles the front-end (`src/web/main.ts` with Chart.js, `src/web/styles.css`) with esbuild,
 * minified, in memory. The same sources give the same bytes (and `version`, a hash of them).
 * Licence comments of the bundled libraries are kept at the end of the script.
 */
export async function buildWebAssets(): Promise<WebAssets> {
  const result = await build({
    entryPoints: [
      { in: path.join(WEB_DIR, 'main.ts'), out: 'app' },
      { in: path.join(WEB_DIR, 'styles.css'), out: 'app' },
    ],
    outdir: '/virtual',
    write: false,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'warning',
  });
  const output = (extension: string) => {
    const file = result.outputFiles.find((candidate) => candidate.path.endsWith(extension));
    if (!file) throw new Error(`esbuild wrote no ${extension} file for the dashboard front-end`);
    return file.text;
  };
  const js = output('.js');
  const css = output('.css');
  const favicon = readFileSync(path.join(WEB_DIR, 'favicon.svg'), 'utf8');
  const version = createHash('sha256').update(js).update(css).update(favicon).digest('hex').slice(0, 12);
  return { version, js, css, favicon };
}
