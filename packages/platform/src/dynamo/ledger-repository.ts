import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  EventDetailType,
  RejectedRow,
  RunCounts,
  RunStatus,
  RunSummary,
  SourceId,
  SourceIdentity,
} from '@covid-etl/contracts';
import type { CostCounts } from '../costs.js';
import { DynamoBaselineLedger } from './baseline-ledger.js';
import { DynamoChunkLedger } from './chunk-ledger.js';
import type { ChunkItem, MonthState, NotificationClaim, RunItem, SourceBaseline } from './ledger-items.js';
import { DynamoNotificationLedger } from './notification-ledger.js';
import { DynamoRunLedger, type RunPage } from './run-ledger.js';

export type {
  ChunkItem,
  ChunkStage,
  MonthState,
  NotificationClaim,
  RunItem,
  SourceBaseline,
} from './ledger-items.js';
export type { RunPage } from './run-ledger.js';

/** The ledger's runs (`DynamoRunLedger`). */
export interface RunLedger {
  createRun(run: RunItem): Promise<{ created: boolean; run: RunItem }>;
  getRun(runId: string): Promise<RunItem | undefined>;
  listRuns(limit?: number): Promise<RunItem[]>;
  listRunsPage(page?: { limit?: number; cursor?: string }): Promise<RunPage>;
  /** Runs started since `since`, and at least the `atLeast` most recent, newest first (the watchdog's listing). */
  listRecentRuns(since: string, atLeast?: number): Promise<RunItem[]>;
  /** Runs started after `run`, oldest first (time travel undoes their changes). */
  listRunsAfter(run: Pick<RunItem, 'runId' | 'startedAt'>): Promise<RunItem[]>;
  /** The last run with `status` started before `run` (a revert restores its source baselines). */
  findRunBefore(run: Pick<RunItem, 'runId' | 'startedAt'>, status: RunStatus): Promise<RunItem | undefined>;
  recordDispatchPlan(
    runId: string,
    plan: { sources: SourceIdentity[]; months: string[]; hashes: Record<string, string>; skipped: RunItem['skipped'] },
  ): Promise<void>;
  /** Marks the run dispatched and adds `costs` (the fetcher's, see `costs.ts`). */
  markDispatched(runId: string, costs?: Partial<CostCounts>): Promise<void>;
  /** An empty plan and the run marked dispatched, with `costs`, in one request; the run after it. */
  recordNothingToSend(runId: string, sources: SourceIdentity[], costs?: Partial<CostCounts>): Promise<RunItem>;
  /** Adds a loaded month to its run once; the run after the change, or undefined when already counted. */
  recordChunkLoaded(runId: string, month: string): Promise<RunItem | undefined>;
  /** Adds loaded months to their run in one request, with `costs`; the run after it (undefined: no run item). */
  recordChunksLoaded(
    runId: string,
    months: readonly string[],
    costs?: Partial<CostCounts>,
  ): Promise<RunItem | undefined>;
  /** The watchdog's mark of a RUNNING run's progress (`RunItem.progressSeen`); a finished run is left alone. */
  recordProgressSeen(runId: string, seen: NonNullable<RunItem['progressSeen']>): Promise<void>;
  finishRun(
    runId: string,
    outcome: { status: RunStatus; summary: RunSummary; detailType: EventDetailType; leaseUntil: number },
  ): Promise<boolean>;
  reclaimEvent(runId: string, now: number, leaseUntil: number): Promise<boolean>;
  markEventPublished(runId: string): Promise<void>;
}

/** The ledger's month chunks of each run (`DynamoChunkLedger`). */
export interface ChunkLedger {
  listChunks(runId: string): Promise<ChunkItem[]>;
  getChunk(runId: string, month: string): Promise<ChunkItem | undefined>;
  /** The chunk items of `keys` in one BatchGetItem per 100 keys, in the order of `keys` (undefined: absent). */
  getChunks(keys: readonly { runId: string; month: string }[]): Promise<(ChunkItem | undefined)[]>;
  markChunkTransformed(
    runId: string,
    month: string,
    rejected: RejectedRow[],
    costs?: Partial<CostCounts>,
  ): Promise<void>;
  markChunkLoaded(
    runId: string,
    month: string,
    result: {
      counts: Omit<RunCounts, 'rejected'>;
      rejected: RejectedRow[];
      dateRange: { from: string; to: string } | null;
      costs?: Partial<CostCounts>;
    },
  ): Promise<boolean>;
  /** Adds a duplicate delivery's costs to its chunk (see `costs.ts`). */
  addChunkCosts(runId: string, month: string, costs: Partial<CostCounts> | undefined): Promise<void>;
  recordChunkError(
    runId: string,
    month: string,
    error: { stage: 'transform' | 'load'; message: string; at: string; receiveCount?: number },
    costs?: Partial<CostCounts>,
  ): Promise<void>;
  /** Takes (or joins, for another part of the same run) a states or counties chunk's load lease; `held` while another run holds it. */
  leaseGeoChunk(
    chunk: string,
    part: string,
    runId: string,
    lease: { now: number; until: number },
  ): Promise<'taken' | 'held'>;
  /** Takes a part out of its chunk's lease, giving the lease back once no part of the run is loading. */
  releaseGeoChunk(chunk: string, part: string, runId: string): Promise<void>;
  /** Takes a state's catalogue lock (see `DynamoChunkLedger.lockCatalogue`); false while another holder has it. */
  lockCatalogue(state: string, holder: string, lock: { now: number; until: number }): Promise<boolean>;
  unlockCatalogue(state: string, holder: string): Promise<void>;
}

/** What the last successful loads saw: month hashes and source identities (`DynamoBaselineLedger`). */
export interface BaselineLedger {
  getMonthStates(): Promise<Map<string, MonthState>>;
  getMonthState(month: string): Promise<MonthState | undefined>;
  putMonthState(state: MonthState): Promise<void>;
  /** `putMonthState` of several months, in BatchWriteItem requests (a loader invocation's). */
  putMonthStates(states: readonly MonthState[]): Promise<void>;
  /** Takes a month's load lease for a run and returns its state; `held` while another run holds it. */
  leaseMonth(
    month: string,
    runId: string,
    lease: { now: number; until: number },
  ): Promise<{ state: MonthState | undefined } | 'held'>;
  releaseMonth(month: string, runId: string): Promise<void>;
  getSourceBaseline(id: SourceId, urlKey: string): Promise<SourceBaseline | undefined>;
  /** Several URLs' baselines in one request, keyed `<id>#<urlKey>`. */
  getSourceBaselines(sources: readonly { id: SourceId; urlKey: string }[]): Promise<Map<string, SourceBaseline>>;
  listSourceBaselines(): Promise<SourceBaseline[]>;
  putSourceBaselines(runId: string, sources: SourceIdentity[]): Promise<void>;
}

/** One notification per run and event (`DynamoNotificationLedger`). */
export interface NotificationLedger {
  /** `claimed` when this caller may notify; `sent` when already notified; `in-progress` while another delivery's lease holds. */
  claimNotification(runId: string, detailType: string, now: number, leaseUntil: number): Promise<NotificationClaim>;
  markNotified(runId: string, detailType: string, messageId: string): Promise<void>;
}

/**
 * The run ledger (one DynamoDB table): what every run is doing and did, as the four item-type
 * repositories (`runs`, `chunks`, `baselines`, `notifications`) that own its key schema. All
 * state changes are conditional writes, so duplicate deliveries and concurrent workers cannot
 * double-count or finish a run twice. It implements every port for the composition roots; a
 * use case should depend on the narrow port it needs.
 */
export class LedgerRepository implements RunLedger, ChunkLedger, BaselineLedger, NotificationLedger {
  readonly runs: DynamoRunLedger;
  readonly chunks: DynamoChunkLedger;
  readonly baselines: DynamoBaselineLedger;
  readonly notifications: DynamoNotificationLedger;

  constructor(doc: DynamoDBDocumentClient, tableName: string) {
    this.runs = new DynamoRunLedger(doc, tableName);
    this.chunks = new DynamoChunkLedger(doc, tableName);
    this.baselines = new DynamoBaselineLedger(doc, tableName);
    this.notifications = new DynamoNotificationLedger(doc, tableName);
  }

  createRun(...args: Parameters<RunLedger['createRun']>) {
    return this.runs.createRun(...args);
  }
  getRun(...args: Parameters<RunLedger['getRun']>) {
    return this.runs.getRun(...args);
  }
  listRuns(...args: Parameters<RunLedger['listRuns']>) {
    return this.runs.listRuns(...args);
  }
  listRunsPage(...args: Parameters<RunLedger['listRunsPage']>) {
    return this.runs.listRunsPage(...args);
  }
  listRecentRuns(...args: Parameters<RunLedger['listRecentRuns']>) {
    return this.runs.listRecentRuns(...args);
  }
  listRunsAfter(...args: Parameters<RunLedger['listRunsAfter']>) {
    return this.runs.listRunsAfter(...args);
  }
  findRunBefore(...args: Parameters<RunLedger['findRunBefore']>) {
    return this.runs.findRunBefore(...args);
  }
  recordDispatchPlan(...args: Parameters<RunLedger['recordDispatchPlan']>) {
    return this.runs.recordDispatchPlan(...args);
  }
  recordNothingToSend(...args: Parameters<RunLedger['recordNothingToSend']>) {
    return this.runs.recordNothingToSend(...args);
  }
  markDispatched(...args: Parameters<RunLedger['markDispatched']>) {
    return this.runs.markDispatched(...args);
  }
  recordChunkLoaded(...args: Parameters<RunLedger['recordChunkLoaded']>) {
    return this.runs.recordChunkLoaded(...args);
  }
  recordChunksLoaded(...args: Parameters<RunLedger['recordChunksLoaded']>) {
    return this.runs.recordChunksLoaded(...args);
  }
  recordProgressSeen(...args: Parameters<RunLedger['recordProgressSeen']>) {
    return this.runs.recordProgressSeen(...args);
  }
  finishRun(...args: Parameters<RunLedger['finishRun']>) {
    return this.runs.finishRun(...args);
  }
  reclaimEvent(...args: Parameters<RunLedger['reclaimEvent']>) {
    return this.runs.reclaimEvent(...args);
  }
  markEventPublished(...args: Parameters<RunLedger['markEventPublished']>) {
    return this.runs.markEventPublished(...args);
  }

  listChunks(...args: Parameters<ChunkLedger['listChunks']>) {
    return this.chunks.listChunks(...args);
  }
  getChunk(...args: Parameters<ChunkLedger['getChunk']>) {
    return this.chunks.getChunk(...args);
  }
  getChunks(...args: Parameters<ChunkLedger['getChunks']>) {
    return this.chunks.getChunks(...args);
  }
  markChunkTransformed(...args: Parameters<ChunkLedger['markChunkTransformed']>) {
    return this.chunks.markChunkTransformed(...args);
  }
  markChunkLoaded(...args: Parameters<ChunkLedger['markChunkLoaded']>) {
    return this.chunks.markChunkLoaded(...args);
  }
  addChunkCosts(...args: Parameters<ChunkLedger['addChunkCosts']>) {
    return this.chunks.addChunkCosts(...args);
  }
  recordChunkError(...args: Parameters<ChunkLedger['recordChunkError']>) {
    return this.chunks.recordChunkError(...args);
  }
  leaseGeoChunk(...args: Parameters<ChunkLedger['leaseGeoChunk']>) {
    return this.chunks.leaseGeoChunk(...args);
  }
  releaseGeoChunk(...args: Parameters<ChunkLedger['releaseGeoChunk']>) {
    return this.chunks.releaseGeoChunk(...args);
  }
  lockCatalogue(...args: Parameters<ChunkLedger['lockCatalogue']>) {
    return this.chunks.lockCatalogue(...args);
  }
  unlockCatalogue(...args: Parameters<ChunkLedger['unlockCatalogue']>) {
    return this.chunks.unlockCatalogue(...args);
  }

  getMonthStates() {
    return this.baselines.getMonthStates();
  }
  getMonthState(...args: Parameters<BaselineLedger['getMonthState']>) {
    return this.baselines.getMonthState(...args);
  }
  putMonthState(...args: Parameters<BaselineLedger['putMonthState']>) {
    return this.baselines.putMonthState(...args);
  }
  putMonthStates(...args: Parameters<BaselineLedger['putMonthStates']>) {
    return this.baselines.putMonthStates(...args);
  }
  leaseMonth(...args: Parameters<BaselineLedger['leaseMonth']>) {
    return this.baselines.leaseMonth(...args);
  }
  releaseMonth(...args: Parameters<BaselineLedger['releaseMonth']>) {
    return this.baselines.releaseMonth(...args);
  }
  getSourceBaseline(...args: Parameters<BaselineLedger['getSourceBaseline']>) {
    return this.baselines.getSourceBaseline(...args);
  }
  getSourceBaselines(...args: Parameters<BaselineLedger['getSourceBaselines']>) {
    return this.baselines.getSourceBaselines(...args);
  }
  listSourceBaselines() {
    return this.baselines.listSourceBaselines();
  }
  putSourceBaselines(...args: Parameters<BaselineLedger['putSourceBaselines']>) {
    return this.baselines.putSourceBaselines(...args);
  }

  claimNotification(...args: Parameters<NotificationLedger['claimNotification']>) {
    return this.notifications.claimNotification(...args);
  }
  markNotified(...args: Parameters<NotificationLedger['markNotified']>) {
    return this.notifications.markNotified(...args);
  }
}
