/**
 * Defaults that the help text (`main.ts`, loaded on every start) and the commands (loaded on
 * demand) share: kept here so that `etl --help` loads no command module.
 */

/** How many days of the states and of the counties `etl diff` lists without `--limit` (text). */
export const DEFAULT_GEO_DIFF_LIMIT = 20;

/**
 * The most days of the states and counties `etl diff` sorts in memory (`--json`, `--limit all`
 * or a larger `--limit`): ~1 M rows and their text fit a default heap; a full county backfill
 * changes ~3.6 M days, whose sorted JSON would pass V8's largest string.
 */
export const MAX_SORTED_GEO_DIFF_DAYS = 1_000_000;
