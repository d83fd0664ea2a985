import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `--env` name of the embedded local stack. */
export const LOCAL_ENVIRONMENT = 'local';

/** The repository root (this file is packages/local-pipeline/src/paths.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The local stack's state folder: `ETL_LOCAL_DIR`, default `.etl-local/` at the repository root. */
export function localStateDir(env: Record<string, string | undefined> = process.env): string {
  return path.resolve(env.ETL_LOCAL_DIR?.trim() || path.join(REPO_ROOT, '.etl-local'));
}

/** The local state folder cannot be created or written. */
export class LocalStateDirError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalStateDirError';
  }
}

/**
 * The local state folder, created when missing and checked writable: a path that is a file,
 * or a folder without write permission, throws a LocalStateDirError saying what to do.
 */
export function prepareLocalStateDir(env: Record<string, string | undefined> = process.env): string {
  const dir = localStateDir(env);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why: Record<string, string> = {
      EACCES: 'permission denied',
      EPERM: 'permission denied',
      EEXIST: 'a file of that name is in the way',
      ENOTDIR: 'a part of the path is a file',
      EROFS: 'read-only file system',
    };
    throw new LocalStateDirError(
      `ETL_LOCAL_DIR ${dir} cannot be used as the local state folder (${why[code] ?? code}): set ETL_LOCAL_DIR to a folder you can write`,
      { cause: error },
    );
  }
  return dir;
}
