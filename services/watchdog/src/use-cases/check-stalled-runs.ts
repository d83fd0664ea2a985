import { dlqName, queueName } from '@covid-etl/contracts';
import type { ChunkItem, Clock, LedgerRepository, Logger, RunFinalizer, RunItem } from '@covid-etl/platform';

/** How far back the check looks for unfinished runs (a run older than this was reported long ago). */
export const LOOKBACK_MS = 14 * 24 * 60 * 60_000;

export interface CheckStalledRunsDeps {
  environment: string;
  ledger: LedgerRepository;
  finalizer: RunFinalizer;
  clock: Clock;
  logger: Logger;
  /** A run not finished this long after its start is reported as stalled. */
  stallAfterMs: number;
}

export interface StalledRunsReport {
  /** Runs reported INCOMPLETE by this check. */
  reported: string[];
  /** Finished runs whose outcome event was published again (its publisher had died). */
  republished: string[];
}

/**
 * The stalled-run check, run periodically: every RUNNING run older than `stallAfterMs` is
 * finished once as INCOMPLETE with reason "stalled", naming the chunks that did not finish and
 * the queue (or DLQ) where each one is, through the same `EtlRunFailed` event as any failure.
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
  const report: StalledRunsReport = { reported: [], republished: [] };
  const unfinished = onlyRunId
    ? [await deps.ledger.getRun(onlyRunId)].filter((run): run is RunItem => run?.status === 'RUNNING')
    : await deps.ledger.listUnfinishedRuns(new Date(now.getTime() - LOOKBACK_MS).toISOString());
  for (const run of unfinished) {
    const ageMs = now.getTime() - Date.parse(run.startedAt);
    if (ageMs < deps.stallAfterMs) continue;
    const chunks = await deps.ledger.listChunks(run.runId);
    const reason = describe ? describe(run, chunks) : stalledReason(run, chunks, ageMs, deps.environment);
    if (await deps.finalizer.finish(run, 'INCOMPLETE', { reason, stage: 'stalled' })) {
      deps.logger.child({ runId: run.runId }).warn({ reason }, 'run reported as stalled');
      report.reported.push(run.runId);
    }
  }
  if (!onlyRunId) {
    for (const run of await deps.ledger.listRuns(50)) {
      if (await deps.finalizer.republishOrphanedEvent(run)) report.republished.push(run.runId);
    }
  }
  return report;
}

/** "stalled: 2 of 14 chunks not loaded 31 min after the start: 2020-03 awaiting load (…)". */
export function stalledReason(run: RunItem, chunks: ChunkItem[], ageMs: number, environment: string): string {
  const minutes = Math.max(1, Math.round(ageMs / 60_000));
  if (run.dispatch !== 'SENT') {
    return `stalled: the fetcher did not finish sending the chunks ${minutes} min after the start`;
  }
  const pending = chunks.filter((chunk) => chunk.stage !== 'LOADED').sort((a, b) => a.month.localeCompare(b.month));
  const where = (chunk: ChunkItem) => {
    const key = chunk.stage === 'SENT' ? 'transformer' : 'loader';
    return `${chunk.month} in ${queueName(environment, key)} or ${dlqName(environment, key)}${
      chunk.lastError ? ` (last error: ${chunk.lastError.message})` : ''
    }`;
  };
  const listed = pending.slice(0, 5).map(where).join('; ');
  const more = pending.length > 5 ? `; and ${pending.length - 5} more` : '';
  return `stalled: ${pending.length} of ${run.months.length} chunk(s) not loaded ${minutes} min after the start: ${listed}${more}`;
}
