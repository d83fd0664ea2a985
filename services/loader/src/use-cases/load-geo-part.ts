import { setTimeout as sleep } from 'node:timers/promises';
import { type GeoPartMessage, parseChunkKey } from '@covid-etl/contracts';
import {
  type ChunkLedger,
  type Clock,
  type GeoCatalogRepository,
  type GeoLedger,
  type GeoSeriesStore,
  type GeoStoredDay,
  geoDayRemoved,
  geoDayWritten,
  type Logger,
  PermanentError,
  type RunFinalizer,
  type RunLedger,
  TransientError,
  takeCostsForWrite,
} from '@covid-etl/platform';
import { Mutex, Semaphore } from 'async-mutex';
import type { LoadChunkDeps } from './load-chunk.js';

export interface LoadGeoPartDeps {
  ledger: RunLedger & ChunkLedger;
  geoLedger: Pick<GeoLedger, 'putDayHashes' | 'forgetDays' | 'putDayGeos'>;
  geoSeries: Pick<GeoSeriesStore, 'getDays' | 'writeChanges'>;
  /** The geography catalogue (`pk = GEOS`) and the county summaries (`pk = COUNTIES#<state>`). */
  geoCatalog: Pick<GeoCatalogRepository, 'applyLoaded'>;
  finalizer: RunFinalizer;
  clock: Clock;
  logger: Logger;
  /** How long a chunk's load lease lasts (ms): the month lease's duration (see `LoadChunkDeps`). Default 120 s. */
  monthLeaseMs?: LoadChunkDeps['monthLeaseMs'];
  /** Waits between two tries of a state's catalogue lock (real time). Default: `setTimeout`. */
  sleep?: (ms: number) => Promise<unknown>;
  /**
   * Where the parts of one state in this process wait for each other before they take the
   * ledger's catalogue lock (a batch often holds several parts of one state): default, one per
   * process. The ledger lock is between processes (Lambda instances).
   */
  catalogueMutexes?: CatalogueMutexes;
  /** How many parts of this process load at once (default: one {@link GEO_PARTS_AT_ONCE} semaphore per process). */
  partSlots?: Semaphore;
}

/**
 * Parts of one process that load at once. A batch brings up to 10 parts (~1,150 days each);
 * loading all of them together held ~11,500 days with their reads, items and versions in
 * memory at the same moment. Three at a time keeps each part's own requests busy: a local
 * county backfill of 127k rows peaked at 404 MB instead of 455 MB, with less CPU (98 s, not 107).
 */
export const GEO_PARTS_AT_ONCE = 3;
const processSlots = new Semaphore(GEO_PARTS_AT_ONCE);

/** One mutex per state, for the parts of this process. */
export class CatalogueMutexes {
  readonly #mutexes = new Map<string, Mutex>();

  of(state: string): Mutex {
    let mutex = this.#mutexes.get(state);
    if (!mutex) {
      mutex = new Mutex();
      this.#mutexes.set(state, mutex);
    }
    return mutex;
  }
}

const processMutexes = new CatalogueMutexes();

const DEFAULT_LEASE_MS = 120_000;
/** A state's catalogue lock lasts this long (one `applyLoaded` of Texas takes well under a second). */
const CATALOGUE_LOCK_MS = 60_000;
/** How long a part waits for its state's catalogue lock before it is retried later through SQS. */
const CATALOGUE_WAIT_MS = 30_000;

/**
 * Loads one part of a states or counties chunk into each geography's partition and, when it is
 * the run's last chunk, finishes the run.
 *
 * Before it reads, it takes the load lease of the part's (level, state, month) chunk in the
 * ledger (`ChunkLedger.leaseGeoChunk`, as a month of the nation takes its month lease): two
 * runs (scheduled, manual, a revert) never decide and write the same chunk's days at once. A
 * part that finds another run's lease throws a `TransientError` before any read or write (SQS
 * delivers it again after the visibility timeout); parts of the same run share the lease, which
 * is given back once the last of them is marked loaded; a crashed holder's lease runs out.
 *
 * Reads exactly the part's (geography, date) days (BatchGetItem), writes the new and changed
 * ones with one version each (BatchWriteItem), then, when `baseline` is true, records the
 * part's day hashes (and, for counties, first the geographies each day has: what the fetcher's
 * `missing-geographies` gate compares a revised day with): a later run skips these days. Counts are exact under redelivery and a
 * crash mid-batch: a stored day that already holds the part's values counts as what this run
 * did to it (inserted/updated, its version written again, same key) if this run wrote it, else
 * as unchanged. After the days are written and before the part is marked loaded, it brings the
 * geography catalogue and the county summaries up to date with the part's days (every
 * non-duplicate delivery; a delivery that changed nothing writes nothing there). The part's counts are stored once on its chunk item (conditional), so a
 * duplicate delivery cannot count twice. `deaths` null (not reported) is stored as absent.
 */
export async function loadGeoPart(message: GeoPartMessage, deps: LoadGeoPartDeps): Promise<void> {
  // At most GEO_PARTS_AT_ONCE parts of this process at a time (the others of the batch wait here).
  return (deps.partSlots ?? processSlots).runExclusive(() => loadOneGeoPart(message, deps));
}

async function loadOneGeoPart(message: GeoPartMessage, deps: LoadGeoPartDeps): Promise<void> {
  const { runId, part } = message;
  const log = deps.logger.child({ runId, part });
  const run = await deps.ledger.getRun(runId);
  if (!run) throw new PermanentError(`Run ${runId} is not in the ledger; the part ${part} cannot be loaded`);
  if (run.status === 'ABANDONED') {
    log.warn('part of an abandoned run dropped: nothing loaded');
    return;
  }
  const chunk = await deps.ledger.getChunk(runId, part);
  if (chunk?.stage === 'LOADED') {
    log.info('part already loaded (duplicate delivery)');
    // A crash between the mark and the release left the part in the lease: give it back.
    await deps.ledger.releaseGeoChunk(message.chunk, part, runId);
    await deps.ledger.addChunkCosts(runId, part, takeCostsForWrite());
  } else {
    const now = deps.clock.now();
    const lease = await deps.ledger.leaseGeoChunk(message.chunk, part, runId, {
      now: now.getTime(),
      until: now.getTime() + (deps.monthLeaseMs ?? DEFAULT_LEASE_MS),
    });
    if (lease === 'held') {
      throw new TransientError(
        `Chunk ${message.chunk} is being loaded by another run; the part ${part} will be retried`,
      );
    }
    const counts = { inserted: 0, updated: 0, unchanged: 0, deleted: 0 };
    const removed = message.removed ?? [];
    const stored = await deps.geoSeries.getDays([...message.records, ...removed], { removed: true });
    const changed: GeoStoredDay[] = [];
    const versionsOnly: GeoStoredDay[] = [];
    for (const record of message.records) {
      const found = stored.get(`${record.geo}|${record.date}`);
      const previous = found && !found.removed ? found : undefined;
      if (previous && previous.cases === record.cases && previous.deaths === record.deaths) {
        // Already holds these values: written by an earlier delivery of this run, or unchanged.
        if (previous.runId === runId) {
          versionsOnly.push(previous);
          counts[previous.change] += 1;
        } else counts.unchanged += 1;
        continue;
      }
      const day = geoDayWritten(record, found, { runId, now });
      changed.push(day);
      counts[day.change] += 1;
    }
    // A revert's removals: the day becomes a tombstone (as the nation's), counted `deleted`.
    for (const key of removed) {
      const previous = stored.get(`${key.geo}|${key.date}`);
      if (!previous || previous.removed) {
        // Already gone: removed by an earlier delivery of this run, or never there.
        if (previous?.runId === runId) {
          versionsOnly.push(previous);
          counts.deleted += 1;
        } else counts.unchanged += 1;
        continue;
      }
      changed.push(geoDayRemoved(previous, { runId, now }));
      counts.deleted += 1;
    }
    await deps.geoSeries.writeChanges(changed, versionsOnly);
    // Every day of the part is now stored with these values: the picker and county tables follow,
    // one part of the state at a time.
    await withCatalogueLock(message, deps, () =>
      deps.geoCatalog.applyLoaded({
        records: message.records.map(geoDay),
        known: [...stored.values()].filter((day) => !day.removed).map(geoDay),
        names: new Map(Object.entries(message.names ?? {})),
        removed,
      }),
    );
    if (message.baseline) {
      // A chunk new when planned: its items are put, not updated (one request each, not two).
      const options = { create: message.newChunk === true };
      // The counties each day had, before its hash: a later run that lacks one of them on a loaded day is held.
      if (message.level === 'county') await deps.geoLedger.putDayGeos(message.chunk, dayGeos(message), runId, options);
      await deps.geoLedger.putDayHashes(message.chunk, message.days, runId, options);
    }
    const kept = new Set(message.days.map((day) => day.date));
    const gone = [...new Set(removed.map((day) => day.date))].filter((date) => !kept.has(date));
    // A date a revert emptied is no longer loaded: its day hash goes (the next run compares it as new).
    if (gone.length > 0) await deps.geoLedger.forgetDays(message.chunk, gone);
    const dates = [...new Set([...message.days.map((day) => day.date), ...removed.map((day) => day.date)])].sort();
    const marked = await deps.ledger.markChunkLoaded(runId, part, {
      // `deleted` only for a revert's parts, as for the nation's chunks.
      counts:
        counts.deleted > 0
          ? counts
          : { inserted: counts.inserted, updated: counts.updated, unchanged: counts.unchanged },
      rejected: [],
      dateRange: dates.length ? { from: dates[0] as string, to: dates.at(-1) as string } : null,
      costs: takeCostsForWrite(),
    });
    await deps.ledger.releaseGeoChunk(message.chunk, part, runId);
    log.info({ ...counts, marked }, 'geo part loaded');
  }
  // Count the part on its run (once, whatever the deliveries), as a month is counted.
  const counted = await deps.ledger.recordChunkLoaded(runId, part);
  await deps.finalizer.finishIfComplete(runId, counted);
}

/**
 * Runs `update` holding the lock of the part's state's catalogue and county summaries (in the
 * ledger, per state): their update reads, computes and puts without a condition, so two parts
 * of one state (other months, or other days of the same chunk) must not interleave. Parts of
 * one process take turns on a mutex first (no polling among them); for the ledger lock it waits
 * with growing pauses (50 ms to 1 s, jittered) up to 30 s, then throws a
 * `TransientError` (the part is delivered again; its days are already written and count as
 * this run's). A crashed holder's lock runs out after 60 s; the same part delivered again takes
 * its own lock back at once.
 */
async function withCatalogueLock<T>(
  message: GeoPartMessage,
  deps: Pick<LoadGeoPartDeps, 'ledger' | 'clock' | 'sleep' | 'catalogueMutexes'>,
  update: () => Promise<T>,
): Promise<T> {
  const { state } = parseChunkKey(message.chunk);
  // Parts of this process queue here, so only parts of other processes are polled for.
  return (deps.catalogueMutexes ?? processMutexes)
    .of(state)
    .runExclusive(() => withLedgerLock(message, state, deps, update));
}

async function withLedgerLock<T>(
  message: GeoPartMessage,
  state: string,
  deps: Pick<LoadGeoPartDeps, 'ledger' | 'clock' | 'sleep'>,
  update: () => Promise<T>,
): Promise<T> {
  const holder = `${message.runId}|${message.part}`;
  const sleep = deps.sleep ?? defaultSleep;
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    const now = deps.clock.now().getTime();
    if (await deps.ledger.lockCatalogue(state, holder, { now, until: now + CATALOGUE_LOCK_MS })) break;
    if (waited >= CATALOGUE_WAIT_MS) {
      throw new TransientError(
        `The catalogue of state ${state} stayed locked by another part for ${CATALOGUE_WAIT_MS / 1000} s; the part ${message.part} will be retried`,
      );
    }
    const pause = Math.min(1000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2);
    await sleep(pause);
    waited += pause;
  }
  try {
    return await update();
  } finally {
    await deps.ledger.unlockCatalogue(state, holder);
  }
}

const defaultSleep = (ms: number) => sleep(ms);

/** The geographies each day of the part has rows for. */
function dayGeos(message: GeoPartMessage): { date: string; geos: string[] }[] {
  const byDate = new Map<string, Set<string>>();
  for (const record of message.records) {
    const geos = byDate.get(record.date) ?? new Set();
    geos.add(record.geo);
    byDate.set(record.date, geos);
  }
  return [...byDate].map(([date, geos]) => ({ date, geos: [...geos] }));
}

function geoDay(day: { geo: string; date: string; cases: number; deaths: number | null }) {
  return { geo: day.geo, date: day.date, cases: day.cases, deaths: day.deaths };
}
