import {
  capText,
  type GeoLevel,
  type GeoLevelPlan,
  levelOfChunkKey,
  MAX_ITEM_TEXT,
  MAX_PENDING_IN_SUMMARY,
  MAX_REASON_TEXT,
  MAX_REJECTED_IN_SUMMARY,
  type PendingChunk,
  type RejectedRow,
  type RejectionCount,
  type RunStatus,
  type RunSummary,
} from '@covid-etl/contracts';
import { type CostCounts, sumCosts, toRunCosts } from './costs.js';
import type { ChunkItem, RunItem } from './dynamo/ledger-repository.js';

/**
 * Builds a run's summary from its ledger items: counts summed over the loaded chunks (plus
 * the records of skipped months as unchanged), the date range, the rejected rows (the count
 * exact, the list capped), and the chunks that did not finish (the first MAX_PENDING_IN_SUMMARY;
 * `chunks.expected - chunks.loaded` is exact). Every text is cut (MAX_ITEM_TEXT per item,
 * MAX_REASON_TEXT for the reason and note), so the summary fits an EventBridge entry and an SNS
 * message whatever the run. Only the run's planned months count. `costs` sums what the run
 * item and every planned chunk recorded (loaded or not: a failed attempt cost too) and `extraCosts`
 * (the caller's own requests not yet recorded, and the outcome event it is about to put).
 */
export function buildRunSummary(
  run: RunItem,
  chunks: ChunkItem[],
  {
    status,
    now,
    failure,
    maxPending = MAX_PENDING_IN_SUMMARY,
    extraCosts,
  }: {
    status: RunStatus;
    now: Date;
    failure?: RunSummary['failure'];
    maxPending?: number;
    extraCosts?: Partial<CostCounts>;
  },
): RunSummary {
  const counts = { inserted: 0, updated: 0, unchanged: run.skipped?.records ?? 0, rejected: 0, deleted: 0 };
  const rejected: RejectedRow[] = [];
  let from: string | undefined;
  let to: string | undefined;
  const pending: PendingChunk[] = [];
  const planned = new Set(run.months ?? []);
  const ofPlan = chunks.filter((chunk) => planned.has(chunk.month));
  const costs = ofPlan.reduce((sum, chunk) => sumCosts(sum, chunk.costs), sumCosts(toRunCosts(run.costs), extraCosts));
  for (const chunk of ofPlan.sort((a, b) => a.month.localeCompare(b.month))) {
    if (chunk.stage !== 'LOADED') {
      pending.push({
        month: chunk.month,
        stage: chunk.stage === 'SENT' ? 'transform' : 'load',
        ...(chunk.lastError ? { lastError: capText(chunk.lastError.message, MAX_ITEM_TEXT) } : {}),
      });
      continue;
    }
    counts.inserted += chunk.counts?.inserted ?? 0;
    counts.updated += chunk.counts?.updated ?? 0;
    counts.unchanged += chunk.counts?.unchanged ?? 0;
    counts.deleted += chunk.counts?.deleted ?? 0;
    counts.rejected += chunk.rejected.length;
    rejected.push(...chunk.rejected);
    if (chunk.dateRange) {
      if (!from || chunk.dateRange.from < from) from = chunk.dateRange.from;
      if (!to || chunk.dateRange.to > to) to = chunk.dateRange.to;
    }
  }
  const levels = countsByLevel(run, ofPlan);
  const rejections = rejectionsOf(run, ofPlan);
  // The states' and counties' skipped days and rejected rows are kept on the run item (the fetcher's plan).
  for (const plan of Object.values(run.geo ?? {})) {
    counts.unchanged += plan.skippedRecords ?? 0;
    counts.rejected += plan.rejected;
  }
  const finishedAt = now.toISOString();
  return {
    runId: run.runId,
    environment: run.environment,
    status,
    trigger: run.trigger,
    startedAt: run.startedAt,
    finishedAt,
    durationMs: Math.max(0, now.getTime() - Date.parse(run.startedAt)),
    // `deleted` only appears for runs that removed days (reverts), keeping other summaries as they were.
    counts: counts.deleted > 0 ? counts : withoutDeleted(counts),
    ...(levels ? { levels } : {}),
    ...(rejections.length ? { rejections } : {}),
    dateRange: from && to ? { from, to } : null,
    sources: run.sources ?? [],
    chunks: {
      expected: run.months?.length ?? 0,
      loaded: ofPlan.filter((chunk) => chunk.stage === 'LOADED').length,
      skipped: run.skipped?.months ?? 0,
    },
    rejectedRows: rejected
      .sort((a, b) => a.source.localeCompare(b.source) || a.line - b.line)
      .slice(0, MAX_REJECTED_IN_SUMMARY)
      .map(capRejectedRow),
    ...(pending.length ? { pendingChunks: pending.slice(0, maxPending) } : {}),
    ...(failure ? { failure: { ...failure, reason: capText(failure.reason, MAX_REASON_TEXT) } } : {}),
    ...(run.gates?.length ? { gates: run.gates } : {}),
    ...(run.note ? { note: capText(run.note, MAX_REASON_TEXT) } : {}),
    costs: toRunCosts(costs),
  };
}

/**
 * The counts per geography level of a run that read the states or counties, or loaded parts of
 * them (a revert) (undefined for a run of the nation alone, whose summary stays as it was): loaded chunks grouped by the level
 * of their key, the days skipped by hash counted unchanged, and each level's rejected rows
 * (kept by the fetcher, see `GeoLedger`).
 */
export function countsByLevel(run: RunItem, chunks: readonly ChunkItem[]): RunSummary['levels'] {
  // A revert has no plan per level, but its parts of states and counties are counted per level too.
  const geoChunks = chunks.some((chunk) => levelOfChunkKey(chunk.month) !== 'nation');
  if ((!run.geo || Object.keys(run.geo).length === 0) && !geoChunks) return undefined;
  const levels: NonNullable<RunSummary['levels']> = {};
  const of = (level: GeoLevel) => {
    levels[level] ??= { inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
    return levels[level];
  };
  if (run.sources.some((source) => source.id === 'nyt')) of('nation').unchanged += run.skipped?.records ?? 0;
  for (const [level, plan] of Object.entries(run.geo ?? {}) as [GeoLevel, GeoLevelPlan][]) {
    const counts = of(level);
    counts.unchanged += plan.skippedRecords ?? 0;
    counts.rejected += plan.rejected;
  }
  for (const chunk of chunks) {
    if (chunk.stage !== 'LOADED') continue;
    const counts = of(levelOfChunkKey(chunk.month));
    counts.inserted += chunk.counts?.inserted ?? 0;
    counts.updated += chunk.counts?.updated ?? 0;
    counts.unchanged += chunk.counts?.unchanged ?? 0;
    counts.rejected += chunk.rejected.length;
    if (chunk.counts?.deleted) counts.deleted = (counts.deleted ?? 0) + chunk.counts.deleted;
  }
  return levels;
}

/**
 * Where a run's rejected rows came from, per level and source file (only entries with rows): the
 * nation's from its planned chunks that loaded (by the row's source, `nyt` or `jhu`), the
 * states' and counties' from the plan the fetcher recorded per level (`run.geo`, exact) and any
 * rows a geo part itself rejected. Any entry makes a completed run PARTIAL (`RunFinalizer`).
 */
export function rejectionsOf(run: RunItem, chunks: readonly ChunkItem[]): RejectionCount[] {
  const planned = new Set(run.months ?? []);
  const counts = new Map<string, RejectionCount>();
  const add = (level: GeoLevel, source: RejectionCount['source'], rows: number) => {
    if (rows <= 0) return;
    const key = `${level}/${source}`;
    const entry = counts.get(key) ?? { level, source, rows: 0 };
    entry.rows += rows;
    counts.set(key, entry);
  };
  for (const chunk of chunks) {
    if (chunk.stage !== 'LOADED' || !planned.has(chunk.month)) continue;
    const level = levelOfChunkKey(chunk.month);
    const geoSource = level === 'nation' ? undefined : run.geo?.[level]?.source;
    for (const row of chunk.rejected) add(level, geoSource ?? row.source, 1);
  }
  for (const [level, plan] of Object.entries(run.geo ?? {}) as [GeoLevel, GeoLevelPlan][]) {
    add(level, plan.source, plan.rejected);
  }
  const order: GeoLevel[] = ['nation', 'state', 'county'];
  return [...counts.values()].sort(
    (a, b) => order.indexOf(a.level) - order.indexOf(b.level) || a.source.localeCompare(b.source),
  );
}

function capRejectedRow(row: RejectedRow): RejectedRow {
  return {
    ...row,
    reason: capText(row.reason, MAX_ITEM_TEXT),
    ...(row.column !== undefined ? { column: capText(row.column, 100) } : {}),
    ...(row.value !== undefined ? { value: capText(row.value, MAX_ITEM_TEXT) } : {}),
  };
}

function withoutDeleted({ deleted: _deleted, ...counts }: RunSummary['counts']): RunSummary['counts'] {
  return counts;
}
