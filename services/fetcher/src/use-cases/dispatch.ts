import type { RunStatus, SourceIdentity, TransformChunkMessage } from '@covid-etl/contracts';
import { assertChunkSize, type RawMonthChunk } from '@covid-etl/core';
import {
  type GeoLedger,
  type LedgerRepository,
  type Logger,
  type MessageSender,
  type OutgoingMessages,
  type RunFinalizer,
  takeCostsForWrite,
} from '@covid-etl/platform';
import type { GeoLevelWork, GeoPartKey, GeoPartMessage } from './geo-sources.js';

export interface DispatchDeps {
  ledger: LedgerRepository;
  geoLedger?: Pick<GeoLedger, 'putRejections' | 'recordGeoPlan'>;
  transformerQueue: MessageSender;
  finalizer: RunFinalizer;
}

/** One transformer message per chunk of a run, with its key and hash. */
export function chunkMessages(
  runId: string,
  chunks: readonly RawMonthChunk[],
): { month: string; hash: string; body: string }[] {
  return chunks.map((chunk) => {
    const message: TransformChunkMessage = {
      version: 1,
      runId,
      month: chunk.month,
      hash: chunk.hash,
      nyt: chunk.nyt,
      jhu: chunk.jhu,
    };
    assertChunkSize(message);
    return { month: chunk.month, hash: chunk.hash, body: JSON.stringify(message) };
  });
}

/** The queue message id of a month of the nation (`2020_04`). */
export const monthMessageId = (month: string) => month.replace('-', '_');
/** The queue message id of a part of the states or counties (`county_48_2020_04_01_08`). */
export const partMessageId = (key: string) => key.replace(/[^A-Za-z0-9]/g, '_');

/** The states' or counties' parts of a dispatch: their keys and hashes, and their messages, built when read. */
export interface GeoParts {
  parts: readonly GeoPartKey[];
  /** The parts' messages in the order of `parts` (a generator: the bodies are built as they are sent). */
  messages(): Iterable<GeoPartMessage>;
}

/** A month of the nation in a dispatch: its key and hash (equal hash, equal month). */
export interface MonthKey {
  month: string;
  hash: string;
}

/**
 * What a dispatch loads: the keys and hashes it records as its plan, and the messages it
 * sends, built or read only as they are sent (a run just read builds them from its chunks,
 * `etl approve` reads them from the held snapshot a page at a time).
 */
export interface DispatchSnapshot {
  /** The nation's months, in month order (those equal to the last successful load are skipped). */
  months: readonly MonthKey[];
  /** The states' and counties' parts, in the order they are sent (every one is sent). */
  parts: readonly GeoPartKey[];
  /**
   * The messages of the months in `send` (in the order of `months`), then of every part (in
   * the order of `parts`): a generator, sync or async, read a batch at a time as it is sent.
   */
  messages(send: ReadonlySet<string>): OutgoingMessages;
}

/** The snapshot of a run that has just read its sources: its months' messages built from `chunks`, its parts' by `geo`. */
export function builtSnapshot(
  runId: string,
  chunks: readonly RawMonthChunk[],
  geo: readonly GeoParts[] = [],
): DispatchSnapshot {
  return {
    months: chunks.map(({ month, hash }) => ({ month, hash })),
    parts: geo.flatMap((work) => work.parts),
    *messages(send) {
      const months = chunkMessages(
        runId,
        chunks.filter((chunk) => send.has(chunk.month)),
      );
      for (const { month, body } of months) yield { id: monthMessageId(month), body };
      for (const work of geo) {
        for (const part of work.messages()) yield { id: partMessageId(part.key), body: part.body };
      }
    },
  };
}

/**
 * Loads a verified snapshot: skips the months whose content equals the last successful load,
 * records the dispatch plan (sources, months and part keys, hashes: read from `snapshot`
 * without any body) before anything is sent, sends one message per changed month and per part
 * of the states and counties (their plan and rejections recorded by the caller) to the
 * transformer queue and marks the run dispatched. The messages are built or read as they are
 * sent, 10 at most at a time (`sqsBatches`), never all at once. Idempotent per run id (a
 * re-dispatch sends the same messages again, the same bodies; the loader counts them exactly).
 * Returns the status the run reached if every chunk was already loaded, else RUNNING.
 */
export async function dispatchSnapshot(
  runId: string,
  snapshot: DispatchSnapshot,
  sources: SourceIdentity[],
  deps: DispatchDeps,
  log: Logger,
): Promise<{ status: RunStatus; chunks: number }> {
  const monthStates = await deps.ledger.getMonthStates();
  // A month state written by this very run (an earlier, interrupted dispatch of it) is not a
  // baseline: skipping that month would leave its chunk item outside the plan and finish the run early.
  const unchanged = (chunk: MonthKey) => {
    const state = monthStates.get(chunk.month);
    return state?.hash === chunk.hash && state.runId !== runId;
  };
  const changed = snapshot.months.filter((chunk) => !unchanged(chunk));
  const skippedMonths = snapshot.months.filter(unchanged);
  const skipped = {
    months: skippedMonths.length,
    records: skippedMonths.reduce((sum, chunk) => sum + (monthStates.get(chunk.month)?.records ?? 0), 0),
  };
  const hashes: Record<string, string> = Object.fromEntries(changed.map((chunk) => [chunk.month, chunk.hash]));
  const keys = changed.map((c) => c.month);
  // The states and counties: one chunk item per part (its key names the level), sent after the nation's months.
  for (const part of snapshot.parts) {
    hashes[part.key] = part.hash;
    keys.push(part.key);
  }
  await deps.ledger.recordDispatchPlan(runId, { sources, months: keys, hashes, skipped });
  await deps.transformerQueue.sendAll(snapshot.messages(new Set(changed.map((chunk) => chunk.month))));
  await deps.ledger.markDispatched(runId, takeCostsForWrite());
  log.info({ chunks: keys.length, skippedMonths: skipped.months }, 'chunks sent to the transformer');
  // Every chunk may already be loaded (or there were none): finishing is idempotent.
  const finished = await deps.finalizer.finishIfComplete(runId);
  return { status: finished ?? 'RUNNING', chunks: keys.length };
}

/** Keeps each level's rejected rows with the run and records the plan per level (before anything is sent). */
export async function recordGeoWork(
  runId: string,
  geo: readonly GeoLevelWork[],
  deps: Pick<DispatchDeps, 'geoLedger'>,
): Promise<void> {
  if (!deps.geoLedger) throw new Error('the fetcher has geography levels but no geo ledger');
  for (const work of geo) {
    for (const [chunk, rows] of work.rejections) await deps.geoLedger.putRejections(runId, chunk, rows);
  }
  await deps.geoLedger.recordGeoPlan(runId, Object.fromEntries(geo.map((work) => [work.level, work.plan])));
}
