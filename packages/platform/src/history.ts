import { createHash } from 'node:crypto';
import {
  formatChunkKey,
  type GeoChunkMessage,
  type GeoLevel,
  type LoadChunkMessage,
  parseGeoId,
  type SeriesRecord,
  type SourceIdentity,
} from '@covid-etl/contracts';
import { planRevertParts } from '@covid-etl/core';
import type { GeoSeriesReader } from './dynamo/geo-catalog.js';
import type { GeoSeriesStore } from './dynamo/geo-series.js';
import type { LedgerRepository, RunItem } from './dynamo/ledger-repository.js';
import type { SeriesRepository } from './dynamo/series-repository.js';
import type { DayValues, DayVersion, GeoDayVersion, VersionRepository } from './dynamo/version-repository.js';

const FIELDS = ['cases', 'deaths', 'recovered'] as const;

/** A run the ledger does not know, or one that cannot be used for what was asked. */
export class RunHistoryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RunHistoryError';
  }
}

/** One day a run changed, with the change in each value (a missing side counts as 0). */
export interface DiffRow {
  date: string;
  change: DayVersion['change'];
  before: DayValues | null;
  after: DayValues | null;
  delta: DayValues;
}

const valuesOf = (v: DayValues | null): DayValues =>
  v ? { cases: v.cases, deaths: v.deaths, recovered: v.recovered } : { cases: 0, deaths: 0, recovered: 0 };

/** The largest absolute change of a row, the key `diffOfRun` sorts by. */
export const magnitude = (row: Pick<DiffRow, 'delta'>) => Math.max(...FIELDS.map((f) => Math.abs(row.delta[f])));

/** The days a run changed, largest change first (then by date). */
export function diffOfRun(versions: readonly DayVersion[]): DiffRow[] {
  return versions
    .map((version) => {
      const before = version.before ? valuesOf(version.before) : null;
      const after = version.after ? valuesOf(version.after) : null;
      const [b, a] = [valuesOf(before), valuesOf(after)];
      const delta = { cases: a.cases - b.cases, deaths: a.deaths - b.deaths, recovered: a.recovered - b.recovered };
      return { date: version.date, change: version.change, before, after, delta };
    })
    .sort((x, y) => magnitude(y) - magnitude(x) || x.date.localeCompare(y.date));
}

/** One day of a state or county a run changed (`deaths` null: not reported; counts as 0 in `delta`). */
export interface GeoDiffRow {
  geo: string;
  level: Exclude<GeoLevel, 'nation'>;
  date: string;
  change: GeoDayVersion['change'];
  before: { cases: number; deaths: number | null } | null;
  after: { cases: number; deaths: number | null } | null;
  delta: { cases: number; deaths: number };
}

/** A state's or county's change as a diff row; undefined for the nation's (see `diffOfRun`). */
function geoDiffRow(version: GeoDayVersion): GeoDiffRow | undefined {
  const level = parseGeoId(version.geo).level;
  if (level === 'nation') return undefined;
  const before = version.before ? { cases: version.before.cases, deaths: version.before.deaths } : null;
  const after = version.after ? { cases: version.after.cases, deaths: version.after.deaths } : null;
  const delta = {
    cases: (after?.cases ?? 0) - (before?.cases ?? 0),
    deaths: (after?.deaths ?? 0) - (before?.deaths ?? 0),
  };
  return { geo: version.geo, level, date: version.date, change: version.change, before, after, delta };
}

const geoSize = (row: GeoDiffRow) => Math.max(Math.abs(row.delta.cases), Math.abs(row.delta.deaths));

/** Largest change first (the larger absolute change of cases and deaths), then geography, date. */
const largestGeoChangeFirst = (x: GeoDiffRow, y: GeoDiffRow) =>
  geoSize(y) - geoSize(x) || x.geo.localeCompare(y.geo) || x.date.localeCompare(y.date);

/**
 * The states' and counties' days a run changed, largest change first (the larger absolute
 * change of cases and deaths), then by geography and date. A not reported value counts as 0.
 */
export function geoDiffOfRun(versions: readonly GeoDayVersion[]): GeoDiffRow[] {
  return versions.flatMap((version) => geoDiffRow(version) ?? []).sort(largestGeoChangeFirst);
}

/** One level of {@link summarizeGeoDiff}. */
export interface GeoDiffLevel {
  /** Days changed, by kind of change; `total` is their sum. */
  counts: Record<GeoDayVersion['change'], number>;
  total: number;
  /** The `limit` largest changes (all without a limit), in `geoDiffOfRun`'s order. */
  rows: GeoDiffRow[];
}

/**
 * The states' and counties' diff of a run, per level, read a page of versions at a time: exact
 * counts, and only the `limit` largest changes kept (every change without a limit). A county
 * backfill changes ~3.6 M days; `etl diff --limit 20` of it holds a page and 40 rows per level,
 * not the run.
 */
export async function summarizeGeoDiff(
  pages: AsyncIterable<readonly GeoDayVersion[]>,
  limit?: number,
): Promise<Record<GeoDiffRow['level'], GeoDiffLevel>> {
  const empty = (): GeoDiffLevel => ({ counts: { inserted: 0, updated: 0, deleted: 0 }, total: 0, rows: [] });
  const levels = { state: empty(), county: empty() };
  // The `limit` largest rows (all without a limit), sorted; applied whenever twice the limit gathered.
  const cut = (rows: GeoDiffRow[]) => rows.sort(largestGeoChangeFirst).slice(0, limit ?? rows.length);
  for await (const page of pages) {
    for (const version of page) {
      const row = geoDiffRow(version);
      if (!row) continue;
      const level = levels[row.level];
      level.counts[row.change] += 1;
      level.total += 1;
      level.rows.push(row);
      if (limit !== undefined && level.rows.length >= 2 * limit) level.rows = cut(level.rows);
    }
  }
  for (const level of Object.values(levels)) level.rows = cut(level.rows);
  return levels;
}

/** Reads a run from the ledger or says, in one line, that it is unknown. */
export async function requireRun(ledger: LedgerRepository, runId: string): Promise<RunItem> {
  const run = await ledger.getRun(runId);
  if (!run) throw new RunHistoryError(`No run ${runId} in the ledger (see etl runs)`);
  return run;
}

/**
 * The series exactly as it stood right after `runId` finished (time travel): the current
 * series with the changes of every run that started after it undone, newest first (each
 * change's `before`; a day a later run inserted disappears, one it removed comes back). One
 * Query per later run plus one for the series.
 */
export async function seriesAsOf(
  deps: { ledger: LedgerRepository; series: SeriesRepository },
  runId: string,
): Promise<SeriesRecord[]> {
  const run = await requireRun(deps.ledger, runId);
  if (run.status === 'RUNNING') throw new RunHistoryError(`Run ${runId} is still RUNNING: it has not finished yet`);
  const days = new Map<string, SeriesRecord>(
    (await deps.series.query()).map(({ date, cases, deaths, recovered }) => [date, { date, cases, deaths, recovered }]),
  );
  const later = await deps.ledger.listRunsAfter(run);
  for (const newer of later.reverse()) {
    for (const version of await deps.series.versions.changesOf(newer.runId)) {
      if (version.before) days.set(version.date, { date: version.date, ...valuesOf(version.before) });
      else days.delete(version.date);
    }
  }
  return [...days.values()].sort((a, b) => a.date.localeCompare(b.date));
}

/** How many day histories {@link geoSeriesAsOf} reads at once. */
const HISTORY_READS_AT_ONCE = 8;

/**
 * One state's or county's series exactly as it stood right after `runId` finished (time travel,
 * as {@link seriesAsOf} for the nation): each stored day (tombstones included) that a run
 * started after it changed takes the value it held before the first of those runs (absent: the
 * day disappears; a day a later revert removed comes back). One Query for the series, plus one
 * per day a later run changed (`geoHistory`): a later run's index Query would read every state's
 * and county's day it changed.
 */
export async function geoSeriesAsOf(
  deps: {
    ledger: LedgerRepository;
    versions: Pick<VersionRepository, 'geoHistory'>;
    geoSeries: Pick<GeoSeriesReader, 'lastChanges'>;
  },
  geo: string,
  runId: string,
): Promise<{ date: string; cases: number; deaths: number | null }[]> {
  const run = await requireRun(deps.ledger, runId);
  if (run.status === 'RUNNING') throw new RunHistoryError(`Run ${runId} is still RUNNING: it has not finished yet`);
  const order = new Map((await deps.ledger.listRunsAfter(run)).map((later, k) => [later.runId, k]));
  const days = await deps.geoSeries.lastChanges(geo);
  const out: { date: string; cases: number; deaths: number | null }[] = [];
  const changed = days.filter((day) => order.has(day.runId));
  for (const day of days) if (!order.has(day.runId) && !day.removed) out.push(pick(day));
  for (let k = 0; k < changed.length; k += HISTORY_READS_AT_ONCE) {
    const batch = changed.slice(k, k + HISTORY_READS_AT_ONCE);
    const histories = await Promise.all(batch.map((day) => deps.versions.geoHistory(geo, day.date)));
    batch.forEach((day, i) => {
      const first = (histories[i] ?? [])
        .filter((version) => order.has(version.runId))
        .sort((a, b) => (order.get(a.runId) ?? 0) - (order.get(b.runId) ?? 0))[0];
      if (first?.before) out.push(pick({ date: day.date, ...first.before }));
    });
  }
  return out.sort((a, b) => a.date.localeCompare(b.date));
}

const pick = ({ date, cases, deaths }: { date: string; cases: number; deaths: number | null }) => ({
  date,
  cases,
  deaths,
});

/** The id of the run that reverts `runId`: deterministic, so an interrupted revert resumes the same run. */
export function revertRunId(runId: string): string {
  const stamp = runId.slice(2, 18);
  return `r-${stamp}-${createHash('sha256').update(runId).digest('hex').slice(0, 6)}`;
}

/** What a revert of one run will do. */
export interface RevertPlan {
  target: RunItem;
  revertRunId: string;
  /** The revert run if it exists already (a re-run resumes or finds it finished). */
  existing?: RunItem;
  /** The days of the nation the target changed, as `etl diff` lists them. */
  changes: DayVersion[];
  /**
   * How many days of the states and counties the target changed. The plan keeps none of them:
   * a county backfill changes ~3.6 M; its parts are read back a month at a time.
   */
  geoChangeCount: number;
  /**
   * Days a later run changed since the target (not the revert itself): the nation's by date,
   * then the states' and counties' by geography (`geo`) and date.
   */
  conflicts: { date: string; runId: string; geo?: string }[];
  /** One chunk per month for the loader: the values before the target, and the days to remove. */
  chunks: LoadChunkMessage[];
  /** The key and hash of each of the states' and counties' parts, in {@link geoPartMessages} order. */
  geoPartKeys: { part: string; hash: string }[];
  /**
   * The states' and counties' parts for the loader: per (level, state, month) chunk, cut as the
   * fetcher cuts a file's chunk (`planRevertParts`), the values before the target and the days
   * to remove. Their day hashes are the revert's own, so the next run compares these days again.
   * Built a month at a time as they are read, from the target's versions of that month (a
   * county backfill's revert restores ~3.6 M days: its versions and parts never all exist at
   * once); every reading gives the same parts, checked against `geoPartKeys`.
   */
  geoPartMessages(): AsyncIterable<GeoChunkMessage>;
  /** Per level, the days that get their values back (`restored`) and those removed. */
  levels: Record<GeoLevel, { restored: number; removed: number }>;
  /**
   * The source baselines to restore: those of the last successful run before the target, and,
   * for each other URL the target read, one that matches no download.
   */
  sources: SourceIdentity[];
}

/** A hash no source month can have, so a revert's month states never make a later run skip the month. */
const revertHash = (runId: string, month: string) =>
  createHash('sha256').update(`revert:${runId}:${month}`).digest('hex');

/** A day hash no file day can have (see `revertHash`): the next run compares the day with the table again. */
const revertDayHash = (runId: string, chunk: string, date: string) =>
  createHash('sha256').update(`revert:${runId}:${chunk}:${date}`).digest('hex');

/** Baselines that match no download: the next run compares every month with the table again. */
const NO_BASELINE = (id: SourceIdentity['id']): SourceIdentity => ({
  id,
  url: 'none (reverted to before the first successful run)',
  sha256: '0'.repeat(64),
  bytes: 0,
});

/**
 * Plans the revert of `runId`: every day it changed, of the nation, the states and the
 * counties, goes back to its value before the run (days it inserted are removed), as month
 * chunks (nation) and parts of (level, state, month) chunks (states, counties) for the loader.
 * Reads the run's versions (one Query on the index for the nation; the states' and counties'
 * a page at a time, then again a month at a time to cut their parts), the current days of the
 * months involved (one Query per month; BatchGetItem of exactly the changed state and county
 * days), and the last successful run before it (source baselines).
 */
export async function planRevert(
  deps: { ledger: LedgerRepository; series: SeriesRepository; geoSeries: Pick<GeoSeriesStore, 'getDays'> },
  runId: string,
  options: { onProgress?: (progress: RevertPlanProgress) => void } = {},
): Promise<RevertPlan> {
  const target = await requireRun(deps.ledger, runId);
  if (target.status === 'RUNNING') {
    throw new RunHistoryError(`Run ${runId} is still RUNNING: wait for it to finish before reverting it`);
  }
  const id = revertRunId(runId);
  const existing = await deps.ledger.getRun(id);
  const changes = await deps.series.versions.changesOf(runId);
  const byMonth = new Map<string, DayVersion[]>();
  for (const change of changes) {
    const month = change.date.slice(0, 7);
    const group = byMonth.get(month);
    if (group) group.push(change);
    else byMonth.set(month, [change]);
  }
  const conflicts: RevertPlan['conflicts'] = [];
  const chunks: LoadChunkMessage[] = [];
  for (const [month, versions] of [...byMonth].sort(([a], [b]) => a.localeCompare(b))) {
    const stored = await deps.series.getMonth(month);
    for (const version of versions) {
      const current = stored.get(version.date);
      if (current && current.runId !== runId && current.runId !== id) {
        conflicts.push({ date: version.date, runId: current.runId });
      }
    }
    const sorted = [...versions].sort((a, b) => a.date.localeCompare(b.date));
    chunks.push({
      version: 1,
      runId: id,
      month,
      hash: revertHash(runId, month),
      records: sorted.flatMap((v) => (v.before ? [{ date: v.date, ...valuesOf(v.before) }] : [])),
      rejected: [],
      removed: sorted.filter((v) => !v.before).map((v) => v.date),
    });
  }
  const geo = await planGeoRevert(deps.geoSeries, deps.series.versions, { runId, revertRunId: id }, options.onProgress);
  conflicts.push(...geo.conflicts);
  const levels: RevertPlan['levels'] = {
    nation: { restored: changes.filter((v) => v.before).length, removed: changes.filter((v) => !v.before).length },
    state: geo.levels.state,
    county: geo.levels.county,
  };
  const previous = await deps.ledger.findRunBefore(target, 'SUCCEEDED');
  const ids = new Set([...(target.sources ?? []), ...(previous?.sources ?? [])].map((s) => s.id));
  const restored = [...ids]
    .sort()
    .map((sourceId) => previous?.sources.find((s) => s.id === sourceId) ?? NO_BASELINE(sourceId));
  // Baselines are kept per URL: the URLs the reverted run read keep its content as their baseline
  // unless reset too, and the next run of the same file would find it "unchanged".
  const restoredKeys = new Set(restored.map((s) => `${s.id}#${s.urlKey}`));
  const reset = (target.sources ?? [])
    .filter((s) => s.urlKey && !restoredKeys.has(`${s.id}#${s.urlKey}`))
    .map((s) => ({ ...NO_BASELINE(s.id), url: s.url, urlKey: s.urlKey }));
  const sources = [...restored, ...reset];
  return {
    target,
    revertRunId: id,
    ...(existing ? { existing } : {}),
    changes,
    geoChangeCount: geo.count,
    conflicts,
    chunks,
    geoPartKeys: geo.partKeys,
    geoPartMessages: geo.parts,
    levels,
    sources,
  };
}

/**
 * How far {@link planRevert} is with the states and counties (a county backfill's ~3.6 M days
 * take minutes): `read`, the days read so far (and checked for conflicts); `cut`, the months
 * whose parts are cut, of all.
 */
export type RevertPlanProgress = { phase: 'read'; days: number } | { phase: 'cut'; months: number; of: number };

/** Days whose current value one BatchGetItem loop reads at a time, to find a revert's conflicts. */
const CONFLICT_CHECK_DAYS = 10_000;

/** The states' and counties' side of {@link planRevert}: counts, conflicts, part keys and parts. */
async function planGeoRevert(
  store: Pick<GeoSeriesStore, 'getDays'>,
  versions: Pick<VersionRepository, 'geoChangePages' | 'geoChangesOfMonth'>,
  ids: { runId: string; revertRunId: string },
  onProgress: (progress: RevertPlanProgress) => void = () => {},
): Promise<{
  count: number;
  levels: Record<'state' | 'county', { restored: number; removed: number }>;
  conflicts: RevertPlan['conflicts'];
  partKeys: RevertPlan['geoPartKeys'];
  parts: () => AsyncGenerator<GeoChunkMessage>;
}> {
  const levels = { state: { restored: 0, removed: 0 }, county: { restored: 0, removed: 0 } };
  const conflicts: RevertPlan['conflicts'] = [];
  const months = new Set<string>();
  let count = 0;
  // First pass, a page at a time: counts, months, and the days as they stand now, read a slice
  // at a time (only the conflicts are kept).
  let slice: GeoDayVersion[] = [];
  const checkSlice = async () => {
    const stored = await store.getDays(slice, { removed: true });
    for (const version of slice) {
      const current = stored.get(`${version.geo}|${version.date}`);
      if (current && current.runId !== ids.runId && current.runId !== ids.revertRunId) {
        conflicts.push({ geo: version.geo, date: version.date, runId: current.runId });
      }
    }
    slice = [];
  };
  for await (const page of versions.geoChangePages(ids.runId)) {
    for (const version of page) {
      const level = parseGeoId(version.geo).level;
      if (level === 'nation') continue;
      count += 1;
      months.add(version.date.slice(0, 7));
      if (version.before) levels[level].restored += 1;
      else levels[level].removed += 1;
      slice.push(version);
      if (slice.length >= CONFLICT_CHECK_DAYS) await checkSlice();
    }
    // Only once there is something to say: a run of the nation alone has no such day.
    if (count > 0) onProgress({ phase: 'read', days: count });
  }
  if (slice.length > 0) await checkSlice();
  conflicts.sort((a, b) => (a.geo ?? '').localeCompare(b.geo ?? '') || a.date.localeCompare(b.date));
  const sortedMonths = [...months].sort();

  // The parts of one month, by chunk key: from that month's versions alone.
  const monthParts = async (month: string): Promise<GeoChunkMessage[]> => {
    const byChunk = new Map<string, GeoDayVersion[]>();
    for (const version of await versions.geoChangesOfMonth(ids.runId, month)) {
      const level = parseGeoId(version.geo).level;
      if (level === 'nation') continue;
      const key = formatChunkKey({ level, state: version.geo.slice(0, 2), month });
      // Pushed, not copied (copying each chunk's list at every version is quadratic).
      const group = byChunk.get(key);
      if (group) group.push(version);
      else byChunk.set(key, [version]);
    }
    return [...byChunk]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([key, changes]) => chunkParts(key, changes, ids));
  };
  // Second pass, a month at a time: the part keys (each month's parts built and dropped).
  const partKeys: RevertPlan['geoPartKeys'] = [];
  for (const [k, month] of sortedMonths.entries()) {
    for (const part of await monthParts(month)) partKeys.push({ part: part.part, hash: part.hash });
    onProgress({ phase: 'cut', months: k + 1, of: sortedMonths.length });
  }
  // The parts again when they are sent, checked against the keys the run was started with.
  async function* parts(): AsyncGenerator<GeoChunkMessage> {
    let k = 0;
    for (const month of sortedMonths) {
      for (const part of await monthParts(month)) {
        const planned = partKeys[k];
        k += 1;
        if (planned?.part !== part.part || planned.hash !== part.hash) {
          throw new RunHistoryError(
            `Run ${ids.runId}'s versions changed while it was being reverted (part ${part.part}): run etl revert again`,
          );
        }
        yield part;
      }
    }
    if (k !== partKeys.length) {
      throw new RunHistoryError(
        `Run ${ids.runId}'s versions changed while it was being reverted (${partKeys.length - k} part(s) missing): run etl revert again`,
      );
    }
  }
  return { count, levels, conflicts, partKeys, parts };
}

/** The loader parts of one (level, state, month) chunk of a revert: values before, days to remove. */
function chunkParts(
  key: string,
  changes: readonly GeoDayVersion[],
  ids: { runId: string; revertRunId: string },
): GeoChunkMessage[] {
  const [level, state, month] = key.split('/') as ['state' | 'county', string, string];
  const days = changes.map((v) => ({
    geo: v.geo,
    date: v.date,
    before: v.before ? { cases: v.before.cases, deaths: v.before.deaths } : null,
  }));
  return planRevertParts({ level, state, month }, days, (date) => revertDayHash(ids.runId, key, date)).map((part) => ({
    version: 1,
    runId: ids.revertRunId,
    level,
    chunk: key,
    part: part.key,
    hash: revertHash(ids.runId, key),
    days: part.days,
    baseline: true,
    records: part.records,
    removed: part.removed,
  }));
}

/** The run item that starts a revert (RUNNING, trigger `revert`, the plan's months and baselines). */
export function revertRunItem(plan: RevertPlan, environment: string, now: Date): RunItem {
  return {
    runId: plan.revertRunId,
    environment,
    trigger: 'revert',
    status: 'RUNNING',
    startedAt: now.toISOString(),
    dispatch: 'PENDING',
    sources: plan.sources,
    months: revertChunkKeys(plan),
    skipped: { months: 0, records: 0 },
    note: `revert of run ${plan.target.runId}`,
  };
}

/** The keys of a revert's chunks, as the ledger counts them: the nation's months, then the geo part keys. */
export function revertChunkKeys(plan: Pick<RevertPlan, 'chunks' | 'geoPartKeys'>): string[] {
  return [...plan.chunks.map((chunk) => chunk.month), ...plan.geoPartKeys.map((part) => part.part)];
}

/** Every message of a revert for the loader, built as read: the nation's month chunks, then the parts. */
export async function* revertMessages(
  plan: Pick<RevertPlan, 'chunks' | 'geoPartMessages'>,
): AsyncGenerator<LoadChunkMessage | GeoChunkMessage> {
  yield* plan.chunks;
  yield* plan.geoPartMessages();
}
