import { dlqName, queueName } from '@covid-etl/contracts';
import type { ChunkItem, ChunkLedger, Clock, Logger, RunFinalizer, RunItem, RunLedger } from '@covid-etl/platform';

/** How far back the check looks for unfinished runs (a run older than this was reported long ago). */
export const LOOKBACK_MS = 14 * 24 * 60 * 60_000;
/** The most recent runs whose outcome event the check publishes again if it was left unpublished. */
const RECENT_RUNS = 50;
/** At most this many unfinished runs are checked at once (the oldest first). */
const MAX_UNFINISHED = 100;

export interface CheckStalledRunsDeps {
  environment: string;
  ledger: RunLedger & ChunkLedger;
  finalizer: RunFinalizer;
  clock: Clock;
  logger: Logger;
  /**
   * A run that loaded no chunk for this long (counted from its start until it loads one) is
   * reported as stalled. 0: every unfinished run is (the local stack, once its queues drained).
   */
  stallAfterMs: number;
}

export interface StalledRunsReport {
  /** Runs reported INCOMPLETE by this check. */
  reported: string[];
  /** Finished runs whose outcome event was published again (its publisher had died). */
  republished: string[];
  /**
   * Finished runs (among the last 50) whose outcome event is still unpublished after this
   * check: a publisher's lease still holds, or the publish failed again. `leaseUntil` is the
   * lease the check read (a publish that failed again set a new one).
   */
  publishing: { runId: string; leaseUntil: number }[];
}

/**
 * The stalled-run check, run periodically: every RUNNING run that made no progress for
 * `stallAfterMs` (no chunk loaded since its start, or since the check first saw its latest
 * count of loaded chunks: see `lastProgressAt`) and whose planned chunks are not all loaded is
 * finished once as INCOMPLETE with reason "stalled", naming the chunks that did not finish and
 * the queue (or DLQ) where each one is, through the same `EtlRunFailed` event as any failure.
 * A long run that keeps loading (a county backfill of ~3,100 parts) is never stalled, nor is a
 * run started after it whose chunks wait behind its parts in the one loader queue (until the
 * run ahead finishes or stops loading: then the waiting run has `stallAfterMs` of its own).
 * The ledger's conditional status change makes the report happen exactly once; if the run
 * later completes (after a DLQ replay), the completion is announced normally. Also publishes
 * again any outcome event whose publisher died before marking it published.
 */
export async function checkStalledRuns(
  deps: CheckStalledRunsDeps,
  {
    onlyRunId,
    describe,
  }: {
    onlyRunId?: string;
    /** Overrides the reason text (the local stack names the DLQ that holds each chunk). */
    describe?: (run: RunItem, chunks: ChunkItem[]) => string;
  } = {},
): Promise<StalledRunsReport> {
  const now = deps.clock.now();
  const report: StalledRunsReport = { reported: [], republished: [], publishing: [] };
  // One listing serves both passes: the unfinished runs of the lookback window, and the last
  // RECENT_RUNS runs for outcome events left unpublished.
  const since = new Date(now.getTime() - LOOKBACK_MS).toISOString();
  const recent = onlyRunId ? [] : await deps.ledger.listRecentRuns(since, RECENT_RUNS);
  const unfinished = onlyRunId
    ? [await deps.ledger.getRun(onlyRunId)].filter((run): run is RunItem => run?.status === 'RUNNING')
    : recent
        .filter((run) => run.status === 'RUNNING' && run.startedAt >= since)
        .reverse()
        .slice(0, MAX_UNFINISHED);
  /** The runs this check finished (reported, or completed): their listed state is stale. */
  const finished = new Set<string>();
  // Measured on every check, young runs included, so that a new count is seen when it happens.
  const progress = new Map<string, number>();
  for (const run of unfinished) progress.set(run.runId, await lastProgressAt(run, now, deps.ledger));
  for (const run of unfinished) {
    const ageMs = now.getTime() - Date.parse(run.startedAt);
    const idleMs = now.getTime() - (progress.get(run.runId) as number);
    // One loader queue serves every run: a run started after another that keeps loading (a
    // county backfill's ~3,100 parts) waits behind it. It is not stalled; its own clock starts
    // again at every check that sees it waiting, so it gets stallAfterMs once the run ahead is done.
    if (
      idleMs > 0 &&
      run.dispatch === 'SENT' &&
      loadingAhead(run, unfinished, progress, Math.max(now.getTime() - idleMs, now.getTime() - deps.stallAfterMs))
    ) {
      await deps.ledger.recordProgressSeen(run.runId, { loaded: run.loaded?.size ?? 0, at: now.toISOString() });
      continue;
    }
    if (idleMs < deps.stallAfterMs) continue;
    const chunks = await deps.ledger.listChunks(run.runId);
    const undispatched = run.dispatch !== 'SENT';
    // Every planned chunk loaded but the run never completed (its last loader died between the
    // chunk's mark and the run's count, with no redelivery left): it is complete, not stalled.
    if (!undispatched && (await deps.finalizer.finishIfAllLoaded(run, chunks))) {
      finished.add(run.runId);
      continue;
    }
    const reason = undispatched
      ? fetcherStoppedReason(run.runId, deps.environment)
      : describe
        ? describe(run, chunks)
        : stalledReason(run, chunks, { ageMs, idleMs }, deps.environment);
    if (await deps.finalizer.finish(run, 'INCOMPLETE', { reason, stage: undispatched ? 'fetch' : 'stalled' })) {
      deps.logger.child({ runId: run.runId }).warn({ reason }, 'run reported as stalled');
      report.reported.push(run.runId);
      finished.add(run.runId);
    }
  }
  if (!onlyRunId) {
    for (const listed of recent.slice(0, RECENT_RUNS)) {
      // A run this check finished holds its event's lease: it is unpublished only if that publish failed.
      const run = finished.has(listed.runId) ? await deps.ledger.getRun(listed.runId) : listed;
      if (!run) continue;
      if (!finished.has(run.runId) && (await deps.finalizer.republishOrphanedEvent(run))) {
        report.republished.push(run.runId);
      } else if (run.event?.state === 'PUBLISHING') {
        report.publishing.push({ runId: run.runId, leaseUntil: run.event.leaseUntil });
      }
    }
  }
  return report;
}

/**
 * Whether another dispatched run started before `run` loaded a chunk after `since` (ms: `run`'s
 * own last progress, and within the stall window): the loader is busy with that run's work, and
 * `run` waits behind it. A run ahead that loaded nothing since then does not hold `run` back.
 */
function loadingAhead(run: RunItem, runs: readonly RunItem[], progress: ReadonlyMap<string, number>, since: number) {
  return runs.some(
    (other) =>
      other.runId !== run.runId &&
      other.dispatch === 'SENT' &&
      other.startedAt < run.startedAt &&
      (progress.get(other.runId) ?? 0) > since,
  );
}

/**
 * When `run` last made progress, in ms: its start, or the time this check first saw its current
 * number of loaded chunks (or, for a run waiting behind another, the last check that saw it
 * waiting). A new count is recorded on the run (`recordProgressSeen`), so the next checks
 * measure from it: a stall is seen between `stallAfterMs` and `stallAfterMs` plus one check
 * interval after the last load. Only the watchdog's clock is used.
 */
export async function lastProgressAt(
  run: RunItem,
  now: Date,
  ledger: Pick<RunLedger, 'recordProgressSeen'>,
): Promise<number> {
  const started = Date.parse(run.startedAt);
  const loaded = run.loaded?.size ?? 0;
  const seen = run.progressSeen;
  if (seen?.loaded === loaded) return Math.max(started, Date.parse(seen.at));
  if (loaded === 0) return started;
  await ledger.recordProgressSeen(run.runId, { loaded, at: now.toISOString() });
  return now.getTime();
}

/**
 * The reason of a run whose fetcher stopped (killed, interrupted) before it had sent every
 * chunk: nothing sits in a DLQ, so nothing can be replayed.
 */
export function fetcherStoppedReason(runId: string, environment: string): string {
  const env = environment === 'local' ? '' : ` --env ${environment}`;
  return `the fetcher stopped before dispatching: run \`pnpm etl run${env}\` again, or abandon it: \`pnpm etl abandon ${runId}${env}\``;
}

/**
 * "stalled: 2 of 14 chunk(s) not loaded, no chunk loaded for 31 min (52 min after the start):
 * 2020-03 in covid-etl-dev-loader or …-dlq (last error: …)".
 */
export function stalledReason(
  run: RunItem,
  chunks: ChunkItem[],
  { ageMs, idleMs }: { ageMs: number; idleMs: number },
  environment: string,
): string {
  const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));
  if (run.dispatch !== 'SENT') return fetcherStoppedReason(run.runId, environment);
  const pending = chunks.filter((chunk) => chunk.stage !== 'LOADED');
  const listed = describePendingChunks(
    pending.map((chunk) => {
      const key = chunk.stage === 'SENT' ? 'transformer' : 'loader';
      return {
        month: chunk.month,
        where: `${queueName(environment, key)} or ${dlqName(environment, key)}`,
        lastError: chunk.lastError?.message,
      };
    }),
  );
  return `stalled: ${pending.length} of ${run.months.length} chunk(s) not loaded, no chunk loaded for ${minutes(idleMs)} min (${minutes(ageMs)} min after the start): ${listed}`;
}

/**
 * Pending chunks as one short text: months that wait in the same place with the same last
 * error are grouped ("2020-01 to 2020-10 (10 months) in covid-etl-dev-loader-dlq (last error:
 * …)"), at most five groups, then how many more.
 */
export function describePendingChunks(chunks: Array<{ month: string; where: string; lastError?: string }>): string {
  const groups = new Map<string, { where: string; lastError?: string; months: string[] }>();
  for (const chunk of [...chunks].sort((a, b) => a.month.localeCompare(b.month))) {
    const key = `${chunk.where}\u0000${chunk.lastError ?? ''}`;
    const group = groups.get(key) ?? { where: chunk.where, lastError: chunk.lastError, months: [] };
    group.months.push(chunk.month);
    groups.set(key, group);
  }
  const texts = [...groups.values()].map(({ where, lastError, months }) => {
    const listed =
      months.length <= 3 ? months.join(', ') : `${months[0]} to ${months[months.length - 1]} (${months.length} months)`;
    return `${listed} in ${where}${lastError ? ` (last error: ${lastError})` : ''}`;
  });
  const more = texts.length > 5 ? `; and ${texts.length - 5} more group(s)` : '';
  return `${texts.slice(0, 5).join('; ')}${more}`;
}
