import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/local-pipeline/src/paths.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The local stack's state folder: `ETL_LOCAL_DIR`, default `.etl-local/` at the repository root. */
export function localStateDir(env: Record<string, string | undefined> = process.env): string {
  return path.resolve(env.ETL_LOCAL_DIR?.trim() || path.join(REPO_ROOT, '.etl-local'));
}
