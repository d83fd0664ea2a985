/**
 * Defaults that the help text (`main.ts`, loaded on every start) and the commands (loaded on
 * demand) share: kept here so that `etl --help` loads no command module.
 */

/** How many days of the states and of the counties `etl diff` lists without `--limit` (text). */
export const DEFAULT_GEO_DIFF_LIMIT = 20;
