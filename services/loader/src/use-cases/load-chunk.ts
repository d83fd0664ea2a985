import type { LoadChunkMessage, RunCounts, SeriesRecord } from '@covid-etl/contracts';
import {
  type BaselineLedger,
  type ChunkItem,
  type ChunkLedger,
  type Clock,
  dayRemoved,
  dayWritten,
  InvocationPool,
  type Logger,
  type MonthState,
  PermanentError,
  type PoolMember,
  type RunFinalizer,
  type RunItem,
  type RunLedger,
  type SeriesRepository,
  type StoredRecord,
  TransientError,
  takeCostsForWrite,
} from '@covid-etl/platform';

export interface LoadChunkDeps {
  ledger: RunLedger & ChunkLedger & BaselineLedger;
  series: Pick<SeriesRepository, 'getDays' | 'writeChanges'>;
  finalizer: RunFinalizer;
  clock: Clock;
  logger: Logger;
  /**
   * How long a month's load lease lasts (ms): longer than one invocation can write (the
   * function timeout), so that only a crashed holder's lease runs out. Default 120 s.
   */
  monthLeaseMs?: number;
}

type LoadCounts = Omit<RunCounts, 'rejected'>;

/** A chunk whose days the pool decides and writes, with the run's start time (its versions' key). */
export interface ChunkToWrite {
  message: LoadChunkMessage;
  runStartedAt: string;
}

/** A month chunk's ledger key. */
interface ChunkKey {
  runId: string;
  month: string;
}

/**
 * A record's place in the pools of one loader invocation: its chunk item read with the
 * others' (one BatchGetItem), its days decided and written with theirs (one Query, shared
 * BatchWriteItem requests), its month's state put with theirs (BatchWriteItem), its month
 * counted on its run with theirs (one UpdateItem a run). `leave()` leaves every pool it has
 * not submitted to.
 */
export interface LoaderPoolMember {
  read: PoolMember<ChunkKey, ChunkItem | undefined>;
  write: PoolMember<ChunkToWrite, LoadCounts>;
  settle: PoolMember<MonthState, undefined>;
  count: PoolMember<ChunkKey, undefined>;
  leave(): void;
}

const DEFAULT_MONTH_LEASE_MS = 120_000;

const sameValues = (a: SeriesRecord, b: SeriesRecord) =>
  a.cases === b.cases && a.deaths === b.deaths && a.recovered === b.recovered;

/** The pools of the `size` records of one loader invocation (see `LoaderPoolMember`). */
export function loaderPool(size: number, deps: LoadChunkDeps): { member(): LoaderPoolMember } {
  const reads = new InvocationPool(size, (keys: ChunkKey[]) => deps.ledger.getChunks(keys));
  const writes = new InvocationPool(size, (chunks: ChunkToWrite[]) => writeChunks(chunks, deps));
  const settles = new InvocationPool(size, async (states: MonthState[]) => {
    await deps.ledger.putMonthStates(states);
    return states.map(() => undefined);
  });
  const counts = new InvocationPool(size, (keys: ChunkKey[]) => countLoaded(keys, deps));
  return {
    member: () => {
      const read = reads.member();
      const write = writes.member();
      const settle = settles.member();
      const count = counts.member();
      return {
        read,
        write,
        settle,
        count,
        leave: () => {
          read.leave();
          write.leave();
          settle.leave();
          count.leave();
        },
      };
    },
  };
}

/**
 * Loads one month chunk into the data table and, when it is the run's last, finishes the run.
 *
 * Per chunk, O(1) ledger requests: the run (read once per invocation, `sharedRunReads`), the
 * chunk (read with the invocation's other chunks, one BatchGetItem), the month's load lease
 * (one conditional update that also returns the month's state), the month state (put with the
 * invocation's others), the chunk's mark, and the run's count (one update per run and
 * invocation, see `countLoaded`).
 * The days are written by the invocation's pool (`member`; alone without one): new or changed
 * days only, with one version item each, in BatchWriteItem requests shared by every chunk of
 * the invocation (see `writeChunks`). Counts are exact under redelivery and crashes: a day
 * that already holds the new values counts as what *this* run did to it if this run wrote it,
 * else as unchanged. A month whose content hash equals the last successful load (by another
 * run) is skipped without reads or writes of the data table. A chunk of a run an operator
 * abandoned is dropped with a log line, never loaded.
 */
export async function loadMonthChunk(
  message: LoadChunkMessage,
  deps: LoadChunkDeps,
  member: LoaderPoolMember = loaderPool(1, deps).member(),
): Promise<void> {
  const { runId, month } = message;
  const log = deps.logger.child({ runId, month });
  try {
    const run = await deps.ledger.getRun(runId);
    if (!run) throw new PermanentError(`Run ${runId} is not in the ledger; the chunk ${month} cannot be loaded`);
    if (run.status === 'ABANDONED') {
      log.warn('chunk of an abandoned run dropped: nothing loaded');
      return;
    }
    const chunk = await member.read.submit({ runId, month });
    if (chunk?.stage === 'LOADED') {
      member.write.leave();
      member.settle.leave();
      log.info('chunk already loaded (duplicate delivery)');
      // What the duplicate cost is real: added to its chunk (one more write).
      await deps.ledger.addChunkCosts(runId, month, takeCostsForWrite());
    } else {
      await load(message, run, deps, member, log);
    }
    // Count the chunk on its run (once, whatever the deliveries): also after a duplicate
    // delivery, which repairs a crash between the chunk's mark and this count.
    await member.count.submit({ runId, month });
  } finally {
    member.leave();
  }
}

/**
 * Adds the loaded months of one invocation to their runs, one request a run (the request's
 * cost recorded on the run item with it), and finishes each run they complete. Runs in the
 * count pool's cost meter, so a finish's summary includes what the finish itself read.
 */
async function countLoaded(keys: ChunkKey[], deps: LoadChunkDeps): Promise<undefined[]> {
  const monthsByRun = new Map<string, string[]>();
  for (const { runId, month } of keys) monthsByRun.set(runId, [...(monthsByRun.get(runId) ?? []), month]);
  for (const [runId, months] of monthsByRun) {
    const run = await deps.ledger.recordChunksLoaded(runId, months, takeCostsForWrite());
    await deps.finalizer.finishIfComplete(runId, run);
  }
  return keys.map(() => undefined);
}

async function load(
  message: LoadChunkMessage,
  run: RunItem,
  deps: LoadChunkDeps,
  member: Pick<LoaderPoolMember, 'write' | 'settle'>,
  log: Logger,
): Promise<void> {
  const { runId, month } = message;
  const now = deps.clock.now().getTime();
  const lease = await deps.ledger.leaseMonth(month, runId, {
    now,
    until: now + (deps.monthLeaseMs ?? DEFAULT_MONTH_LEASE_MS),
  });
  if (lease === 'held') {
    throw new TransientError(`Month ${month} is being loaded by another run; the chunk will be retried`);
  }
  const { state } = lease;
  let counts: LoadCounts;
  if (
    state &&
    state.hash === message.hash &&
    state.runId !== runId &&
    message.rejected.length === 0 &&
    !message.removed?.length
  ) {
    member.write.leave();
    counts = { inserted: 0, updated: 0, unchanged: message.records.length };
    log.info('month unchanged since its last successful load: skipped without writes');
  } else {
    counts = await member.write.submit({ message, runStartedAt: run.startedAt });
  }
  if (message.rejected.length === 0) {
    await member.settle.submit({ month, hash: message.hash, records: message.records.length, runId });
  } else {
    member.settle.leave();
    await deps.ledger.releaseMonth(month, runId);
  }
  const dates = [...message.records.map((record) => record.date), ...(message.removed ?? [])].sort();
  const dateRange = dates.length ? { from: dates[0] as string, to: dates[dates.length - 1] as string } : null;
  const marked = await deps.ledger.markChunkLoaded(runId, month, {
    counts,
    rejected: message.rejected,
    dateRange,
    // The chunk's costs (the run count that follows records its own, see `countLoaded`).
    costs: takeCostsForWrite(),
  });
  log.info({ ...counts, rejected: message.rejected.length, marked }, 'chunk loaded');
}

/**
 * Writes the days of the chunks of one invocation: one strongly consistent Query over their
 * months, then every new, changed or removed day with its version item in shared
 * BatchWriteItem requests (25 items each). The writes are unconditional: the month leases keep
 * other runs off these months, and a day already holding this run's id is this run's change
 * from an earlier delivery (counted as such, and written again identically: same items, same
 * keys), so a redelivery or a crash mid-way counts exactly and makes one version per change.
 * Two deliveries of the same chunk in one invocation are decided once.
 */
export async function writeChunks(chunks: ChunkToWrite[], deps: LoadChunkDeps): Promise<LoadCounts[]> {
  // Only chunks with days to load need the read (a month of one source alone joins to none).
  const months = chunks
    .filter(({ message }) => message.records.length > 0 || (message.removed?.length ?? 0) > 0)
    .map(({ message }) => message.month)
    .sort();
  const stored = months.length
    ? await deps.series.getDays({ from: `${months[0]}-01`, to: `${months.at(-1)}-31` })
    : new Map<string, StoredRecord>();
  const now = deps.clock.now();
  const decided = new Map<string, Decision>();
  for (const { message, runStartedAt } of chunks) {
    const key = `${message.runId}#${message.month}`;
    if (!decided.has(key)) decided.set(key, decide(message, stored, { runId: message.runId, runStartedAt, now }));
  }
  const all = [...decided.values()];
  await deps.series.writeChanges(
    all.flatMap((chunk) => chunk.days),
    all.flatMap((chunk) => chunk.versionsOnly),
  );
  return chunks.map(({ message }) => ({ ...(decided.get(`${message.runId}#${message.month}`)?.counts as LoadCounts) }));
}

/** What loading a chunk does: the days to write, the versions to write again, the counts. */
interface Decision {
  counts: LoadCounts;
  days: StoredRecord[];
  versionsOnly: StoredRecord[];
}

/** What loading `message` over the `stored` days does. */
function decide(
  message: LoadChunkMessage,
  stored: Map<string, StoredRecord>,
  meta: { runId: string; runStartedAt: string; now: Date },
): Decision {
  const counts: LoadCounts = { inserted: 0, updated: 0, unchanged: 0 };
  const days: StoredRecord[] = [];
  const versionsOnly: StoredRecord[] = [];
  const count = (change: StoredRecord['change']) => {
    counts[change] = (counts[change] ?? 0) + 1;
  };
  for (const record of message.records) {
    const previous = stored.get(record.date);
    const live = previous && !previous.removed ? previous : undefined;
    if (live && sameValues(live, record)) {
      // Already holds these values: written by an earlier delivery of this run (its version is
      // written again, identically, in case that delivery died before it), or unchanged.
      if (live.runId === meta.runId) {
        versionsOnly.push(live);
        count(live.change);
      } else counts.unchanged += 1;
      continue;
    }
    const day = dayWritten(record, previous, meta);
    days.push(day);
    count(day.change);
  }
  for (const date of message.removed ?? []) {
    const previous = stored.get(date);
    if (!previous || previous.removed) {
      // Already gone: removed by an earlier delivery of this run, or never there.
      if (previous?.runId === meta.runId) {
        versionsOnly.push(previous);
        count('deleted');
      } else counts.unchanged += 1;
      continue;
    }
    days.push(dayRemoved(previous, meta));
    count('deleted');
  }
  return { counts, days, versionsOnly };
}
