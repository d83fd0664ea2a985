import { type Geo, GeoIdError, parseGeoId, TERMINAL_STATUSES } from '@covid-etl/contracts';
import {
  type DayValues,
  type DayVersion,
  type DiffRow,
  diffOfRun,
  type GeoDiffLevel,
  type GeoHistoryVersion,
  planRevert,
  type RevertPlan,
  type RevertPlanProgress,
  type RunItem,
  requireRun,
  revertChunkKeys,
  revertMessages,
  revertRunItem,
  summarizeGeoDiff,
} from '@covid-etl/platform';
import { DEFAULT_GEO_DIFF_LIMIT, MAX_SORTED_GEO_DIFF_DAYS } from '../defaults.js';
import { formatRunSummary, runStatus } from '../format.js';
import type { OperatorBackend } from '../ops/backend.js';
import { confirmChange } from '../ops/confirm.js';
import type { CommandDeps } from '../ops/dlq.js';
import { OperatorError } from '../ops/errors.js';
import { withBackend } from '../ops/open.js';
import { followRun } from '../ops/run-deployed.js';
import { UsageError } from './output.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const FIELDS = ['cases', 'deaths', 'recovered'] as const;
const number = (n: number) => n.toLocaleString('en-US');
const signed = (n: number) => `${n >= 0 ? '+' : '-'}${number(Math.abs(n))}`;
const envFlag = (environment: string) => (environment === 'local' ? '' : ` --env ${environment}`);

/** "cases 1,000, deaths 20, recovered 0", or "(none)". */
function formatValues(values: DayValues | null): string {
  return values ? FIELDS.map((f) => `${f} ${number(values[f])}`).join(', ') : '(none)';
}

/**
 * "deaths 34,621 → 36,773 (+2,152); cases …" for the values that changed; an inserted day's values,
 * or "was …" for a removed one (the line already names the kind of change).
 */
export function formatChange(before: DayValues | null, after: DayValues | null): string {
  if (!before) return formatValues(after);
  if (!after) return `was ${formatValues(before)}`;
  const changed = FIELDS.filter((f) => before[f] !== after[f]).map(
    (f) => `${f} ${number(before[f])} → ${number(after[f])} (${signed(after[f] - before[f])})`,
  );
  return changed.length ? changed.join('; ') : 'no value changed';
}

/** A state's or county's values: deaths null is "not reported". */
type GeoValues = { cases: number; deaths: number | null };
const GEO_FIELDS = ['cases', 'deaths'] as const;
const reported = (n: number | null) => (n === null ? 'not reported' : number(n));

/** "cases 1,000, deaths 20" (deaths "not reported" where the publisher gave none), or "(none)". */
function formatGeoValues(values: GeoValues | null): string {
  return values ? GEO_FIELDS.map((f) => `${f} ${reported(values[f])}`).join(', ') : '(none)';
}

/** {@link formatChange} of a state's or county's day: the values that changed, old → new. */
export function formatGeoChange(before: GeoValues | null, after: GeoValues | null): string {
  if (!before) return formatGeoValues(after);
  if (!after) return `was ${formatGeoValues(before)}`;
  const changed = GEO_FIELDS.filter((f) => before[f] !== after[f]).map((f) => {
    const [b, a] = [before[f], after[f]];
    const delta = a !== null && b !== null ? ` (${signed(a - b)})` : '';
    return `${f} ${reported(b)} → ${reported(a)}${delta}`;
  });
  return changed.length ? changed.join('; ') : 'no value changed';
}

/** `--geo <id>` parsed (US, a state or county id), or a one-line usage error. */
export function parseGeoOption(value: string): Geo {
  try {
    return parseGeoId(value);
  } catch (error) {
    if (error instanceof GeoIdError) throw new UsageError(`--geo: ${error.message}`);
    throw error;
  }
}

/** Reads the versions index; a local state made before it existed gets a one-line way out. */
export async function withVersionIndex<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Error && /specified index/i.test(error.message)) {
      throw new OperatorError(
        'The data table has no versionsByRun index (a local state made by an older version): ' +
          'remove the local state folder (ETL_LOCAL_DIR, default .etl-local/) and run again',
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * `etl history <date>`: every version of one day, oldest first, with the run that wrote it; with
 * `geo` (a state or county id), that geography's day (`--geo US` is the nation).
 */
export async function historyCommand(
  date: string,
  options: { env: string; json?: boolean; geo?: string },
  deps: CommandDeps,
): Promise<number> {
  if (!ISO_DATE.test(date)) throw new UsageError(`${date}: expected a date as YYYY-MM-DD`);
  const geo = options.geo === undefined ? undefined : parseGeoOption(options.geo);
  if (geo && geo.level !== 'nation') return geoHistoryCommand(geo, date, options, deps);
  return withBackend(
    options.env,
    async (backend) => {
      const versions = await backend.series.versions.history(date);
      if (options.json) {
        deps.out.result(versions);
        return 0;
      }
      if (versions.length === 0) {
        deps.out.result(`${date}: no version in ${backend.environment} (never loaded)`);
        return 0;
      }
      const lines = [`${date}: ${versions.length} version(s), oldest first`];
      for (const v of versions) lines.push(`  ${v.at}  ${v.runId.padEnd(26)} ${v.change.padEnd(8)} ${describe(v)}`);
      deps.out.result(lines.join('\n'));
      return 0;
    },
    deps.open,
  );
}

async function geoHistoryCommand(
  geo: Geo,
  date: string,
  options: { env: string; json?: boolean },
  deps: CommandDeps,
): Promise<number> {
  return withBackend(
    options.env,
    async (backend) => {
      const versions = await backend.series.versions.geoHistory(geo.id, date);
      if (options.json) {
        deps.out.result(versions);
        return 0;
      }
      if (versions.length === 0) {
        deps.out.result(`${geo.id} ${date}: no version in ${backend.environment} (never loaded)`);
        return 0;
      }
      const lines = [`${geo.id} ${date}: ${versions.length} version(s), oldest first`];
      for (const v of versions) lines.push(`  ${v.at}  ${v.runId.padEnd(26)} ${v.change.padEnd(8)} ${describeGeo(v)}`);
      deps.out.result(lines.join('\n'));
      return 0;
    },
    deps.open,
  );
}

function describeGeo(version: GeoHistoryVersion): string {
  if (version.change === 'updated') return formatGeoChange(version.before, version.after);
  return version.change === 'inserted' ? formatGeoValues(version.after) : `was ${formatGeoValues(version.before)}`;
}

function describe(version: DayVersion): string {
  if (version.change === 'updated') return formatChange(version.before, version.after);
  return version.change === 'inserted' ? formatValues(version.after) : `was ${formatValues(version.before)}`;
}

/**
 * `etl diff <runId>`: the days a run inserted, updated (or removed), largest change first: the
 * nation's, then (a run that changed them) the states' and the counties', one group per level,
 * `limit` applying per level. One Query on the versions index.
 */
export async function diffCommand(
  runId: string,
  options: { env: string; json?: boolean; limit?: string },
  deps: CommandDeps,
): Promise<number> {
  const limit = options.limit === undefined || options.limit === 'all' ? undefined : Number(options.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new UsageError(`--limit ${options.limit}: expected a whole number of days, 1 or more, or all`);
  }
  // Without --limit the text lists every day of the nation (at most a few thousand) but only the
  // largest of the states' and counties' (a county backfill changed ~3.6 M days); --json all.
  const geoLimit = options.limit === undefined && !options.json ? DEFAULT_GEO_DIFF_LIMIT : limit;
  return withBackend(
    options.env,
    async (backend) => {
      const run = await requireRun(backend.ledger, runId);
      // Refused before any read when the days to sort would not fit (a full county backfill).
      const geoDays = geoDaysChanged(run);
      if (Math.min(geoLimit ?? geoDays, geoDays) > MAX_SORTED_GEO_DIFF_DAYS) {
        throw new UsageError(
          `Run ${runId} changed ${number(geoDays)} days of states and counties, more than the ` +
            `${number(MAX_SORTED_GEO_DIFF_DAYS)} etl diff sorts in memory: use --limit <n> (the n largest of each level)`,
        );
      }
      const versions = backend.series.versions;
      const rows = diffOfRun(await withVersionIndex(() => versions.changesOf(runId)));
      // The states' and counties' a page at a time: a county backfill changed ~3.6 M days.
      const geo = await withVersionIndex(() => summarizeGeoDiff(versions.geoChangePages(runId), geoLimit));
      const levels = GEO_LEVELS.map((level) => geo[level]);
      const shown = limit === undefined ? rows : rows.slice(0, limit);
      if (options.json) {
        deps.out.result([
          ...shown.map(({ date, change, before, after }) => ({ date, change, before, after })),
          ...levels.flatMap((level) =>
            level.rows.map(({ geo, level, date, change, before, after }) => ({
              geo,
              level,
              date,
              change,
              before,
              after,
            })),
          ),
        ]);
        return 0;
      }
      if (levels.every((level) => level.total === 0)) {
        deps.out.result(formatDiff(run, rows, shown));
        return 0;
      }
      deps.out.result(formatLevelsDiff(run, rows, shown, levels));
      return 0;
    },
    deps.open,
  );
}

/** The days of states and counties a finished run changed, from its summary (0 when it has none). */
function geoDaysChanged(run: RunItem): number {
  let days = 0;
  for (const level of GEO_LEVELS) {
    const counts = run.summary?.levels?.[level];
    if (counts) days += counts.inserted + counts.updated + (counts.deleted ?? 0);
  }
  return days;
}

const nationLine = (row: DiffRow) => `  ${row.date}  ${row.change.padEnd(8)} ${formatChange(row.before, row.after)}`;

function formatDiff(run: RunItem, rows: DiffRow[], shown: DiffRow[]): string {
  const count = (change: DiffRow['change']) => rows.filter((row) => row.change === change).length;
  const deleted = count('deleted');
  const lines = [
    `Run ${run.runId} (${run.trigger}, ${runStatus(run)}): ${rows.length} day(s) changed: ` +
      `${count('inserted')} inserted, ${count('updated')} updated${deleted ? `, ${deleted} removed` : ''}`,
  ];
  for (const row of shown) lines.push(nationLine(row));
  if (shown.length < rows.length) lines.push(`  … and ${rows.length - shown.length} more (--limit <n> or --limit all)`);
  return lines.join('\n');
}

const GEO_LEVELS = ['state', 'county'] as const;
const LEVEL_TITLES = { nation: 'Nation', state: 'States', county: 'Counties' } as const;

/** "12 day(s) changed: 3 inserted, 9 updated[, 1 removed]" from counts by kind of change. */
function changeCounts(counts: Record<DiffRow['change'], number>, total: number): string {
  return (
    `${number(total)} day(s) changed: ${number(counts.inserted)} inserted, ${number(counts.updated)} updated` +
    (counts.deleted ? `, ${number(counts.deleted)} removed` : '')
  );
}

/** Counts by kind of change of some rows (the nation's: all of them are at hand). */
function countChanges(rows: readonly { change: DiffRow['change'] }[]): Record<DiffRow['change'], number> {
  const counts = { inserted: 0, updated: 0, deleted: 0 };
  for (const row of rows) counts[row.change] += 1;
  return counts;
}

/**
 * The diff of a run that changed states or counties: a header with the days per level, then one
 * group per level that changed (the nation, the states, the counties), largest change first.
 */
function formatLevelsDiff(run: RunItem, rows: DiffRow[], shown: DiffRow[], levels: GeoDiffLevel[]): string {
  const total = rows.length + levels.reduce((sum, level) => sum + level.total, 0);
  const perLevel = [
    ['nation', rows.length],
    ...GEO_LEVELS.map((level, k) => [level, levels[k]?.total ?? 0] as const),
  ] as const;
  const lines = [
    `Run ${run.runId} (${run.trigger}, ${runStatus(run)}): ${number(total)} day(s) changed: ` +
      perLevel.map(([level, n]) => `${level} ${number(n)}`).join(', '),
  ];
  const more = (all: number, listed: number) => {
    if (listed < all) lines.push(`  … and ${number(all - listed)} more (--limit <n> or --limit all)`);
  };
  if (rows.length > 0) {
    lines.push(`${LEVEL_TITLES.nation}: ${changeCounts(countChanges(rows), rows.length)}`);
    for (const row of shown) lines.push(nationLine(row));
    more(rows.length, shown.length);
  }
  GEO_LEVELS.forEach((name, k) => {
    const level = levels[k];
    if (!level || level.total === 0) return;
    const width = Math.max(...level.rows.map((row) => row.geo.length));
    lines.push(`${LEVEL_TITLES[name]}: ${changeCounts(level.counts, level.total)}`);
    for (const row of level.rows) {
      lines.push(
        `  ${row.geo.padEnd(width)}  ${row.date}  ${row.change.padEnd(8)} ${formatGeoChange(row.before, row.after)}`,
      );
    }
    more(level.total, level.rows.length);
  });
  return lines.join('\n');
}

export interface RevertOptions {
  env: string;
  yes?: boolean;
  force?: boolean;
  json?: boolean;
  /** Deployed: minutes to follow the revert run. */
  timeout?: string;
}

/** How many conflicting days a refusal names (the count is always exact). */
const MAX_CONFLICTS_NAMED = 20;

/** "nation 3 day(s) back, 1 removed; state 55 back, 0 removed" for the levels the run changed. */
function describeLevels(levels: RevertPlan['levels']): string {
  return (['nation', 'state', 'county'] as const)
    .filter((level) => levels[level].restored + levels[level].removed > 0)
    .map((level) => `${level} ${number(levels[level].restored)} day(s) back, ${number(levels[level].removed)} removed`)
    .join('; ');
}

/**
 * `etl revert <runId>`: puts every day the run changed, of the nation, the states and the
 * counties, back to its value before the run (removing the days it inserted), as a run of its
 * own (`r-…`, trigger `revert`) whose chunks and parts the loader writes, counts (per level) and
 * versions like any other, and whose outcome is announced as usual. The loader keeps the
 * geography catalogue and the county summaries in step. Re-running it resumes an interrupted
 * revert (same run id) or, once finished, does nothing. Refused when a later run changed the
 * same days (of any geography), unless `--force`.
 */
export async function revertCommand(runId: string, options: RevertOptions, deps: CommandDeps): Promise<number> {
  const timeoutMinutes = options.timeout === undefined ? 15 : Number(options.timeout);
  if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0 || timeoutMinutes > 24 * 60) {
    throw new UsageError(`--timeout ${options.timeout}: expected minutes, more than 0 and at most 1440`);
  }
  return withBackend(
    options.env,
    async (backend) => {
      const { out } = deps;
      // A county backfill's revert reads ~3.6 M days to plan: minutes, shown as it goes.
      const plan = await withVersionIndex(() =>
        planRevert({ ledger: backend.ledger, series: backend.series, geoSeries: backend.geoDays }, runId, {
          onProgress: (progress) => out.progress(describePlanning(progress), { transient: true }),
        }),
      );
      out.progress('', { transient: true, done: true });
      const env = envFlag(backend.environment);
      const done = plan.existing && ['SUCCEEDED', 'PARTIAL'].includes(plan.existing.status);
      const changed = plan.changes.length + plan.geoChangeCount;
      if (done || changed === 0) {
        const message = done
          ? `Run ${runId} was already reverted by run ${plan.revertRunId} (${plan.existing?.status}): nothing to do`
          : `Run ${runId} changed no day: nothing to revert`;
        out.result(options.json ? { runId, revertRunId: plan.existing ? plan.revertRunId : null, message } : message);
        return 0;
      }
      if (plan.conflicts.length > 0 && !options.force) throw new OperatorError(conflictMessage(plan, env));
      await confirmChange(
        backend.environment,
        {
          yes: options.yes,
          what: `revert run ${runId}`,
          question: `Revert run ${runId} in ${backend.environment} (days back to their values before it): ${describeLevels(plan.levels)}?`,
        },
        deps.prompt,
      );
      out.progress(
        plan.existing
          ? `Resuming revert run ${plan.revertRunId} (${plan.existing.status})`
          : `Reverting run ${runId} as run ${plan.revertRunId}: ${describeLevels(plan.levels)} ` +
              `(${plan.chunks.length} month chunk(s), ${plan.geoPartKeys.length} state/county part(s))`,
      );
      await startOrResume(backend, plan);
      await backend.sendToLoader(
        counted(revertMessages(plan), plan.chunks.length + plan.geoPartKeys.length, (sent, of) =>
          out.progress(`  ${sent.toLocaleString('en-US')} / ${of.toLocaleString('en-US')} chunks and parts sent`, {
            transient: true,
          }),
        ),
      );
      out.progress('', { transient: true, done: true });
      await backend.settle();
      let run = await requireRun(backend.ledger, plan.revertRunId);
      if (backend.kind === 'aws' && !TERMINAL_STATUSES.includes(run.status)) {
        run = await followRun(backend, run, out, { ...deps, timeoutMs: timeoutMinutes * 60_000 });
      }
      if (options.json) {
        out.result({
          runId,
          revertRunId: run.runId,
          status: runStatus(run),
          summary: run.summary ?? null,
          restored: plan.levels,
        });
      } else {
        out.result(formatRunSummary(run));
        if (runStatus(run) === 'RUNNING') out.result(`\nFollow it with: pnpm etl status ${run.runId}${env}`);
      }
      return runStatus(run) === 'SUCCEEDED' ? 0 : runStatus(run) === 'RUNNING' ? 5 : 2;
    },
    deps.open,
  );
}

function conflictMessage(plan: RevertPlan, env: string): string {
  const named = plan.conflicts
    .slice(0, MAX_CONFLICTS_NAMED)
    .map((c) => `${c.geo ? `${c.geo} ` : ''}${c.date} (${c.runId})`)
    .join(', ');
  const more =
    plan.conflicts.length > MAX_CONFLICTS_NAMED ? ` and ${plan.conflicts.length - MAX_CONFLICTS_NAMED} more` : '';
  return (
    `Refusing to revert run ${plan.target.runId}: ${plan.conflicts.length} of its day(s) were changed by a later run since: ` +
    `${named}${more}. Revert the later run(s) first, or add --force to put these days back to their values before ` +
    `${plan.target.runId} anyway (see pnpm etl history <date>${env})`
  );
}

/**
 * Records the revert run and its chunks (first time), or picks up the existing one. The run
 * is marked dispatched before its chunks are sent: a revert interrupted before sending stays
 * RUNNING, and running the command again sends them (the loader counts a chunk once).
 */
async function startOrResume(backend: OperatorBackend, plan: RevertPlan) {
  const existing = plan.existing;
  if (existing && existing.dispatch === 'SENT') return;
  if (!existing) await backend.ledger.createRun(revertRunItem(plan, backend.environment, new Date()));
  await backend.ledger.recordDispatchPlan(plan.revertRunId, {
    sources: plan.sources,
    months: revertChunkKeys(plan),
    hashes: Object.fromEntries([
      ...plan.chunks.map((chunk) => [chunk.month, chunk.hash]),
      ...plan.geoPartKeys.map((part) => [part.part, part.hash]),
    ]),
    skipped: { months: 0, records: 0 },
  });
  await backend.ledger.markDispatched(plan.revertRunId);
}

/** One line on how far the planning of a revert is. */
function describePlanning(progress: RevertPlanProgress): string {
  return progress.phase === 'read'
    ? `  planning: ${progress.days.toLocaleString('en-US')} state and county days read and checked`
    : `  planning: parts of ${progress.months} / ${progress.of} month(s) cut`;
}

/** `items`, reporting after each one how many went by, of `total`. */
async function* counted<T>(
  items: AsyncIterable<T>,
  total: number,
  report: (done: number, total: number) => void,
): AsyncGenerator<T> {
  let done = 0;
  for await (const item of items) {
    yield item;
    done += 1;
    report(done, total);
  }
}
