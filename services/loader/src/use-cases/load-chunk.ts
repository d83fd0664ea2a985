import type { LoadChunkMessage, RunCounts, SeriesRecord } from '@covid-etl/contracts';
import {
  type BaselineLedger,
  type ChunkLedger,
  type Clock,
  type Logger,
  PermanentError,
  type RecordChange,
  type RunFinalizer,
  type RunLedger,
  type SeriesRepository,
  type StoredRecord,
  TransientError,
  takeCostsForWrite,
} from '@covid-etl/platform';

export interface LoadChunkDeps {
  ledger: RunLedger & ChunkLedger & BaselineLedger;
  series: SeriesRepository;
  finalizer: RunFinalizer;
  clock: Clock;
  logger: Logger;
}

type LoadCounts = Omit<RunCounts, 'rejected'>;

/** How often a write that lost a race is re-read and decided again. */
const MAX_WRITE_ATTEMPTS = 3;
/** Conditional writes in flight at once for one chunk. */
const WRITE_CONCURRENCY = 8;

const sameValues = (a: SeriesRecord, b: SeriesRecord) =>
  a.cases === b.cases && a.deaths === b.deaths && a.recovered === b.recovered;

/**
 * Loads one month chunk into the data table and, when it is the run's last, finishes the run.
 *
 * Writes only days that are new or whose values changed, each conditional on the values read,
 * and one version item per change (see `writeChanged`); a revert's chunk also removes days.
 * Counts are exact under redelivery and crashes: every stored day remembers the run that last
 * changed it and how, so a day that already holds the new values counts as what *this* run
 * did to it (inserted/updated) if this run wrote it, else as unchanged. A month whose content
 * hash equals the last successful load (by another run) is skipped without reads or writes.
 * The chunk's counts are stored once (conditional), and the run's totals are summed from the
 * chunks, never incremented, so a duplicate delivery cannot count twice. A chunk of a run an
 * operator abandoned is dropped with a log line, never loaded.
 */
export async function loadMonthChunk(message: LoadChunkMessage, deps: LoadChunkDeps): Promise<void> {
  const { runId, month } = message;
  const log = deps.logger.child({ runId, month });
  const run = await deps.ledger.getRun(runId);
  if (!run) throw new PermanentError(`Run ${runId} is not in the ledger; the chunk ${month} cannot be loaded`);
  if (run.status === 'ABANDONED') {
    log.warn('chunk of an abandoned run dropped: nothing loaded');
    return;
  }

  const chunk = await deps.ledger.getChunk(runId, month);
  if (chunk?.stage === 'LOADED') {
    log.info('chunk already loaded (duplicate delivery)');
    // What the duplicate cost is real: added to its chunk (one more write).
    await deps.ledger.addChunkCosts(runId, month, takeCostsForWrite());
  } else {
    const state = await deps.ledger.getMonthState(month);
    let counts: LoadCounts;
    if (
      state &&
      state.hash === message.hash &&
      state.runId !== runId &&
      message.rejected.length === 0 &&
      !message.removed?.length
    ) {
      counts = { inserted: 0, updated: 0, unchanged: message.records.length };
      log.info('month unchanged since its last successful load: skipped without writes');
    } else {
      counts = await writeChanged(message, deps);
    }
    if (message.rejected.length === 0) {
      await deps.ledger.putMonthState({ month, hash: message.hash, records: message.records.length, runId });
    }
    const dates = [...message.records.map((record) => record.date), ...(message.removed ?? [])].sort();
    const dateRange = dates.length ? { from: dates[0] as string, to: dates[dates.length - 1] as string } : null;
    const marked = await deps.ledger.markChunkLoaded(runId, month, {
      counts,
      rejected: message.rejected,
      dateRange,
      costs: takeCostsForWrite(),
    });
    log.info({ ...counts, rejected: message.rejected.length, marked }, 'chunk loaded');
  }
  await deps.finalizer.finishIfComplete(runId);
}

async function writeChanged(message: LoadChunkMessage, deps: LoadChunkDeps): Promise<LoadCounts> {
  const counts: LoadCounts = { inserted: 0, updated: 0, unchanged: 0 };
  const { runId } = message;
  const stored = await deps.series.getMonth(message.month);
  const meta = () => ({ runId, now: deps.clock.now() });
  // Every change is two writes: the day (conditional on what was read), then its version
  // (idempotent, derived from the day item). A day already changed by this run (an earlier
  // delivery) gets its version written again, so a crash between the two writes loses none
  // and a redelivery makes no second one.
  const settle = async (day: StoredRecord, change: RecordChange) => {
    await deps.series.recordVersion(day);
    counts[change] = (counts[change] ?? 0) + 1;
  };
  const decide = async (date: string, apply: (previous: StoredRecord | undefined) => Promise<boolean>) => {
    let previous: StoredRecord | undefined = stored.get(date);
    for (let attempt = 1; ; attempt += 1) {
      if (await apply(previous)) return;
      if (attempt >= MAX_WRITE_ATTEMPTS) {
        throw new TransientError(`${date} kept changing under concurrent writes; the chunk will be retried`);
      }
      previous = (await deps.series.getMonth(message.month)).get(date);
    }
  };
  const loadOne = (record: SeriesRecord) =>
    decide(record.date, async (previous) => {
      const live = previous && !previous.removed ? previous : undefined;
      if (live && sameValues(live, record)) {
        // Already holds these values: written by an earlier delivery of this run, or unchanged.
        if (live.runId === runId) await settle(live, live.change);
        else counts.unchanged += 1;
        return true;
      }
      const written = await deps.series.write(record, previous, meta());
      if (written) await settle(written, written.change);
      return written !== undefined;
    });
  const removeOne = (date: string) =>
    decide(date, async (previous) => {
      if (!previous || previous.removed) {
        // Already gone: removed by an earlier delivery of this run, or never there.
        if (previous?.runId === runId) await settle(previous, 'deleted');
        else counts.unchanged += 1;
        return true;
      }
      const removed = await deps.series.remove(previous, meta());
      if (removed) await settle(removed, 'deleted');
      return removed !== undefined;
    });
  // A few writes in flight at once: the day items are independent.
  const queue: Array<() => Promise<void>> = [
    ...message.records.map((record) => () => loadOne(record)),
    ...(message.removed ?? []).map((date) => () => removeOne(date)),
  ];
  const workers = Array.from({ length: Math.min(WRITE_CONCURRENCY, queue.length) }, async () => {
    for (let task = queue.shift(); task; task = queue.shift()) await task();
  });
  await Promise.all(workers);
  return counts;
}
