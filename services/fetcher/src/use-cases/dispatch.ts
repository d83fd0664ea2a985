import type { RunStatus, SourceIdentity, TransformChunkMessage } from '@covid-etl/contracts';
import { assertChunkSize, type RawMonthChunk } from '@covid-etl/core';
import {
  type GeoLedger,
  type LedgerRepository,
  type Logger,
  type MessageSender,
  type OutgoingMessage,
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

/** One transformer message per chunk of a run. */
export function chunkMessages(runId: string, chunks: readonly RawMonthChunk[]): { month: string; body: string }[] {
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
    return { month: chunk.month, body: JSON.stringify(message) };
  });
}

/** The states' or counties' parts of a dispatch: their keys and hashes, and their messages, built when read. */
export interface GeoParts {
  parts: readonly GeoPartKey[];
  /** The parts' messages in the order of `parts` (a generator: the bodies are built as they are sent). */
  messages(): Iterable<GeoPartMessage>;
}

/**
 * Loads a verified snapshot: skips the months whose content equals the last successful load,
 * adds the states' and counties' parts (their plan and rejections recorded by the caller),
 * records the dispatch plan (sources, months and part keys, hashes) before anything is sent,
 * sends one message per changed month and per part to the transformer queue and marks the run
 * dispatched. The parts' bodies are built as they are sent, 10 at most at a time (`sqsBatches`),
 * never all at once. Idempotent per run id (a re-dispatch sends the same messages again, the
 * same bodies; the loader counts them exactly). Returns the status the run reached if every
 * chunk was already loaded, else RUNNING.
 */
export async function dispatchSnapshot(
  runId: string,
  chunks: readonly RawMonthChunk[],
  sources: SourceIdentity[],
  deps: DispatchDeps,
  log: Logger,
  geo: readonly GeoParts[] = [],
): Promise<{ status: RunStatus; chunks: number }> {
  const monthStates = await deps.ledger.getMonthStates();
  // A month state written by this very run (an earlier, interrupted dispatch of it) is not a
  // baseline: skipping that month would leave its chunk item outside the plan and finish the run early.
  const unchanged = (chunk: { month: string; hash: string }) => {
    const state = monthStates.get(chunk.month);
    return state?.hash === chunk.hash && state.runId !== runId;
  };
  const changed = chunks.filter((chunk) => !unchanged(chunk));
  const skippedMonths = chunks.filter(unchanged);
  const skipped = {
    months: skippedMonths.length,
    records: skippedMonths.reduce((sum, chunk) => sum + (monthStates.get(chunk.month)?.records ?? 0), 0),
  };
  const months = chunkMessages(runId, changed).map(({ month, body }) => ({ id: month.replace('-', '_'), body }));
  const hashes: Record<string, string> = Object.fromEntries(changed.map((chunk) => [chunk.month, chunk.hash]));
  const keys = changed.map((c) => c.month);
  // The states and counties: one chunk item per part (its key names the level), sent after the nation's months.
  for (const work of geo) {
    for (const part of work.parts) {
      hashes[part.key] = part.hash;
      keys.push(part.key);
    }
  }
  await deps.ledger.recordDispatchPlan(runId, { sources, months: keys, hashes, skipped });
  function* messages(): Generator<OutgoingMessage> {
    yield* months;
    for (const work of geo) {
      for (const part of work.messages()) yield { id: part.key.replace(/[^A-Za-z0-9]/g, '_'), body: part.body };
    }
  }
  await deps.transformerQueue.sendAll(messages());
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
