/** The bundled `etl` command, `dist/etl.mjs`. */
export const BUNDLE: string;
/** Why the bundle must be rebuilt, or undefined when it is up to date. */
export function staleReason(paths?: { bundle?: string; manifest?: string; root?: string }): string | undefined;
/** Rebuilds the bundle when it is stale; returns its path. Exits 1 when the build fails. */
export function ensureBundle(): string;
