import {
  ABANDONABLE_STATUSES,
  EventDetailType,
  type RevisionSummary,
  type RunStatus,
  type RunSummary,
} from '@covid-etl/contracts';
import { currentCostMeter } from './costs.js';
import type { BaselineLedger, ChunkItem, ChunkLedger, RunItem, RunLedger } from './dynamo/ledger-repository.js';
import type { VersionRepository } from './dynamo/version-repository.js';
import type { Logger } from './logger.js';
import { type Clock, type EventPublisher, systemClock } from './ports.js';
import { summarizeRevisions } from './revisions.js';
import { buildRunSummary, rejectionsOf } from './run-summary.js';

export interface RunFinalizerDeps {
  ledger: RunLedger & ChunkLedger & BaselineLedger;
  events: EventPublisher;
  logger: Logger;
  clock?: Clock;
  /**
   * How long a worker holds the right to publish a run's outcome event before another may
   * take over (a worker that died cannot hold it longer than its function timeout).
   */
  eventLeaseMs?: number;
  /** When given, a completed run's summary names the days it revised (one Query on the versions, when it updated a day). */
  versions?: Pick<VersionRepository, 'changesOf'>;
}

/**
 * Ends runs exactly once and announces them: the conditional status change in the ledger
 * picks one winner among concurrent or redelivered workers, the winner puts the outcome event
 * (`EtlRunCompleted` or `EtlRunFailed`) on the bus and marks it published. Publishing is not
 * tied to the caller's work: a PutEvents that fails is logged and left to
 * `republishOrphanedEvent` (the watchdog, or any later caller) once its lease has run out, so a
 * failing bus never fails the loader's chunk nor the fetcher's run; the run is finished once.
 * The notifier de-duplicates per run and event type.
 */
export class RunFinalizer {
  private readonly clock: Clock;
  private readonly leaseMs: number;

  constructor(private readonly deps: RunFinalizerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.leaseMs = deps.eventLeaseMs ?? 120_000;
  }

  /**
   * Finishes the run if every planned chunk is loaded (SUCCEEDED, or PARTIAL with rejected rows
   * at any level).
   * Safe to call any number of times from any worker. Returns the status it set, if any.
   *
   * Completion is read from the run item (its `loaded` set, see `RunLedger.recordChunkLoaded`),
   * so a call costs at most one read (none when `known`, the run as the caller just got it back
   * from its own update, is given). Only when the set holds every planned month are the chunks
   * read, once, to check them and build the summary: the ledger items read per run stay linear
   * in its chunks.
   */
  async finishIfComplete(runId: string, known?: RunItem): Promise<RunStatus | undefined> {
    const run = known ?? (await this.deps.ledger.getRun(runId));
    if (!run) return undefined;
    if (run.status !== 'RUNNING' && run.status !== 'INCOMPLETE') {
      await this.republishOrphanedEvent(run);
      return undefined;
    }
    if (run.dispatch !== 'SENT') return undefined;
    // Only the planned months count: a chunk item outside the plan (left by an interrupted
    // dispatch) must neither finish the run early nor add to its counts.
    const loaded = run.loaded ?? new Set<string>();
    if (!(run.months ?? []).every((month) => loaded.has(month))) return undefined;
    return this.finishIfAllLoaded(run, await this.deps.ledger.listChunks(runId));
  }

  /**
   * Finishes `run` (SUCCEEDED, or PARTIAL with rejected rows at any level) if every planned chunk among
   * `chunks` is LOADED. The check on the chunks themselves guards against a `loaded` set left by
   * a chunk whose item a re-plan put back to SENT meanwhile; the watchdog calls it too, so a run
   * whose chunks are all loaded but whose run item was never completed still finishes.
   */
  async finishIfAllLoaded(run: RunItem, chunks: ChunkItem[]): Promise<RunStatus | undefined> {
    const planned = new Set(run.months ?? []);
    const ofPlan = chunks.filter((chunk) => planned.has(chunk.month));
    if (ofPlan.filter((chunk) => chunk.stage === 'LOADED').length < planned.size) return undefined;
    return this.complete(run, chunks);
  }

  /**
   * Ends `run` as completed: PARTIAL when any row was rejected at any level (the nation's
   * chunks, or the states' and counties' files: `rejectionsOf`), else SUCCEEDED. The caller has
   * established that there is nothing more to load (every planned chunk loaded, or nothing to
   * send). Returns the status it set, or undefined when someone else finished the run first.
   */
  async complete(run: RunItem, chunks?: ChunkItem[]): Promise<RunStatus | undefined> {
    chunks ??= await this.chunksOf(run);
    const status = completedStatus(run, chunks);
    return (await this.finish(run, status, undefined, chunks)) ? status : undefined;
  }

  /**
   * Moves `run` to the `requested` status (with `failure` for FAILED and INCOMPLETE) and publishes the
   * outcome event. Returns false when the run was already finished by someone else. `chunks`,
   * when the caller has just read them, saves reading them again for the summary. A run asked
   * to end SUCCEEDED that rejected rows (at any level) ends PARTIAL: prefer `complete`, which
   * says which status it set.
   */
  async finish(
    run: RunItem,
    requested: RunStatus,
    failure?: RunSummary['failure'],
    chunks?: ChunkItem[],
  ): Promise<boolean> {
    const now = this.clock.now();
    chunks ??= await this.chunksOf(run);
    const status = requested === 'SUCCEEDED' ? completedStatus(run, chunks) : requested;
    // The summary's costs: what the run and its chunks recorded, this worker's requests not yet
    // recorded, and the outcome events: this one, which carries the summary, and any earlier one
    // (an INCOMPLETE run finishing after a replay). The writes that follow (the status change,
    // the event's mark, baselines) are not in it.
    const pending = currentCostMeter()?.peek();
    const earlierEvents = run.summary ? (run.summary.costs?.eventsPut ?? 1) : 0;
    const extraCosts = { ...pending, eventsPut: (pending?.eventsPut ?? 0) + earlierEvents + 1 };
    const summary = buildRunSummary(run, chunks, { status, now, failure, extraCosts });
    const detailType =
      status === 'SUCCEEDED' || status === 'PARTIAL' ? EventDetailType.RunCompleted : EventDetailType.RunFailed;
    // A revised day of the nation is counted `updated` by the chunk that wrote it (exact under
    // redelivery): a run that updated no day has no revision to read.
    if (this.deps.versions && detailType === EventDetailType.RunCompleted && summary.counts.updated > 0) {
      const revisions = await this.revisionsOf(run.runId);
      if (revisions) summary.revisions = revisions;
    }
    const won = await this.deps.ledger.finishRun(run.runId, {
      status,
      summary,
      detailType,
      leaseUntil: now.getTime() + this.leaseMs,
    });
    const log = this.deps.logger.child({ runId: run.runId });
    if (!won) {
      log.info({ status }, 'run already finished by another worker');
      return false;
    }
    // A source that answered 304 is exactly its baseline already: it stays the baseline of the
    // run that last read its bytes ("unchanged since" names that run), and costs no write.
    if (status === 'SUCCEEDED') {
      await this.deps.ledger.putSourceBaselines(
        run.runId,
        run.sources.filter((source) => !source.notModified),
      );
    }
    log.info({ status, counts: summary.counts, failure }, 'run finished');
    await this.publish(summary, detailType);
    return true;
  }

  /**
   * The chunk items a summary of `run` can count: none without a plan (a run that sent
   * nothing, or failed before its plan), since a summary counts the planned chunks only
   * (`buildRunSummary`); else every chunk item of the run, in one read.
   */
  private async chunksOf(run: RunItem): Promise<ChunkItem[]> {
    return (run.months ?? []).length === 0 ? [] : this.deps.ledger.listChunks(run.runId);
  }

  /**
   * The run's revised days for its summary. Best effort: they only inform people, so an index
   * that cannot be read (still being created after a deploy, or a local state made before it
   * existed) leaves them out instead of failing the run.
   */
  private async revisionsOf(runId: string): Promise<RevisionSummary | undefined> {
    try {
      return summarizeRevisions(await (this.deps.versions as Pick<VersionRepository, 'changesOf'>).changesOf(runId));
    } catch (error) {
      this.deps.logger
        .child({ runId })
        .warn({ err: error }, "could not read the run's versions: summary without revised days");
      return undefined;
    }
  }

  /**
   * Closes a run that is not finished for good (RUNNING, INCOMPLETE, HELD) as ABANDONED, with
   * one `EtlRunFailed` carrying `reason`. Idempotent: an abandoned run answers `already`; a run
   * that ended otherwise answers `finished` and is left alone; an unknown one `unknown`.
   */
  async abandon(
    runId: string,
    reason: string,
  ): Promise<{ outcome: 'abandoned' | 'already' | 'finished' | 'unknown'; run?: RunItem }> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const run = await this.deps.ledger.getRun(runId);
      if (!run) return { outcome: 'unknown' };
      if (run.status === 'ABANDONED') return { outcome: 'already', run };
      if (!ABANDONABLE_STATUSES.includes(run.status)) return { outcome: 'finished', run };
      if (await this.finish(run, 'ABANDONED', { reason: `abandoned by an operator: ${reason}`, stage: 'abandoned' })) {
        return { outcome: 'abandoned', run: await this.deps.ledger.getRun(runId) };
      }
      // The run moved meanwhile (finished, or INCOMPLETE by the watchdog): look again.
    }
    return { outcome: 'finished', run: await this.deps.ledger.getRun(runId) };
  }

  /**
   * Publishes a finished run's event again if its publisher died or failed before marking it
   * published, once that publisher's lease ran out. Returns true when this call published it.
   */
  async republishOrphanedEvent(run: RunItem): Promise<boolean> {
    if (run.event?.state !== 'PUBLISHING' || !run.summary) return false;
    const now = this.clock.now().getTime();
    if (run.event.leaseUntil >= now) return false;
    if (!(await this.deps.ledger.reclaimEvent(run.runId, now, now + this.leaseMs))) return false;
    this.deps.logger.child({ runId: run.runId }).warn('publishing an outcome event whose publisher died or failed');
    return this.publish(run.summary, run.event.detailType);
  }

  /** Puts the outcome event and marks it published; a failure is logged and left for a retry. */
  private async publish(summary: RunSummary, detailType: EventDetailType): Promise<boolean> {
    const detail =
      detailType === EventDetailType.RunCompleted
        ? { version: 1, summary }
        : { version: 1, reason: summary.failure?.reason ?? 'run failed', summary };
    const log = this.deps.logger.child({ runId: summary.runId });
    try {
      await this.deps.events.publish([{ detailType, detail }]);
    } catch (error) {
      log.error(
        { detailType, err: error },
        'outcome event not published; it is published again once its lease runs out (watchdog)',
      );
      return false;
    }
    await this.deps.ledger.markEventPublished(summary.runId);
    log.info({ detailType }, 'outcome event published');
    return true;
  }
}

/** SUCCEEDED, or PARTIAL when the run rejected any row (any level, any source file). */
function completedStatus(run: RunItem, chunks: readonly ChunkItem[]): RunStatus {
  return rejectionsOf(run, chunks).length > 0 ? 'PARTIAL' : 'SUCCEEDED';
}
