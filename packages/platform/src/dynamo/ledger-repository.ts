import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  EventDetailType,
  RejectedRow,
  RunCounts,
  RunStatus,
  RunSummary,
  SourceId,
  SourceIdentity,
} from '@covid-etl/contracts';
import { TransientError } from '../errors.js';
import { chunksOf, retryPending } from '../retry.js';
import { isConditionalCheckFailed } from './client.js';
import { RUNS_INDEX, RUNS_PARTITION } from './tables.js';

export type ChunkStage = 'SENT' | 'TRANSFORMED' | 'LOADED';

/** The answer to a notification claim (see `LedgerRepository.claimNotification`). */
export type NotificationClaim = 'claimed' | 'sent' | 'in-progress';

/** A run as the ledger holds it. */
export interface RunItem {
  runId: string;
  environment: string;
  trigger: 'schedule' | 'manual';
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  /** `SENT` once every chunk message is on the transformer queue. */
  dispatch: 'PENDING' | 'SENT';
  sources: SourceIdentity[];
  /** Months sent as chunks. */
  months: string[];
  /** Months skipped because their hash equals the last successful load, and their record count. */
  skipped: { months: number; records: number };
  summary?: RunSummary;
  failure?: { reason: string; stage?: string };
  note?: string;
  /** The outcome event: claimed (`PUBLISHING`, with a lease) and then `PUBLISHED`. */
  event?: { detailType: EventDetailType; state: 'PUBLISHING' | 'PUBLISHED'; leaseUntil: number };
}

/** A month chunk of a run. */
export interface ChunkItem {
  runId: string;
  month: string;
  hash: string;
  stage: ChunkStage;
  rejected: RejectedRow[];
  counts?: Omit<RunCounts, 'rejected'>;
  dateRange?: { from: string; to: string } | null;
  /** Failed attempts, per stage. */
  errors?: number;
  lastError?: { stage: 'transform' | 'load'; message: string; at: string; receiveCount?: number };
}

export interface MonthState {
  month: string;
  hash: string;
  records: number;
  runId: string;
}

export interface SourceBaseline {
  id: SourceId;
  etag?: string;
  lastModified?: string;
  sha256: string;
  runId: string;
}

const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' });
const chunkKey = (runId: string, month: string) => ({ pk: `RUN#${runId}`, sk: `CHUNK#${month}` });

/**
 * The run ledger (one DynamoDB table): what every run is doing and did. All state changes are
 * conditional writes, so duplicate deliveries and concurrent workers cannot double-count or
 * finish a run twice.
 */
export class LedgerRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  // ---------------------------------------------------------------- runs

  /** Creates the run unless it exists. Returns the stored run and whether this call created it. */
  async createRun(run: RunItem): Promise<{ created: boolean; run: RunItem }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...runKey(run.runId), gsi1pk: RUNS_PARTITION, gsi1sk: `${run.startedAt}#${run.runId}`, ...run },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, run };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.getRun(run.runId);
      if (!existing) throw new TransientError(`Run ${run.runId} exists but could not be read back`, { cause: error });
      return { created: false, run: existing };
    }
  }

  /** A run, read strongly consistent; undefined when unknown. */
  async getRun(runId: string): Promise<RunItem | undefined> {
    const response = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: runKey(runId), ConsistentRead: true }),
    );
    return response.Item ? stripKeys<RunItem>(response.Item) : undefined;
  }

  /** The most recent runs first (by start time), at most `limit`. */
  async listRuns(limit = 20): Promise<RunItem[]> {
    const response = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: RUNS_INDEX,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': RUNS_PARTITION },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (response.Items ?? []).map((item) => stripKeys<RunItem>(item));
  }

  /**
   * Runs still RUNNING that started at or after `since` (ISO time), oldest first: one Query on
   * the start-time index bounded by `since`, so its cost does not grow with the run history.
   */
  async listUnfinishedRuns(since: string, limit = 100): Promise<RunItem[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: RUNS_INDEX,
      KeyConditionExpression: 'gsi1pk = :p AND gsi1sk >= :since',
      FilterExpression: '#s = :running',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':p': RUNS_PARTITION, ':since': since, ':running': 'RUNNING' },
    });
    return items.slice(0, limit).map((item) => stripKeys<RunItem>(item));
  }

  /** Records the sources and the chunk months of a run before any chunk is sent. */
  async recordDispatchPlan(
    runId: string,
    plan: { sources: SourceIdentity[]; months: string[]; hashes: Record<string, string>; skipped: RunItem['skipped'] },
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKey(runId),
        UpdateExpression: 'SET sources = :sources, months = :months, skipped = :skipped',
        ExpressionAttributeValues: { ':sources': plan.sources, ':months': plan.months, ':skipped': plan.skipped },
      }),
    );
    const chunks = plan.months.map((month) => ({
      PutRequest: {
        Item: {
          ...chunkKey(runId, month),
          runId,
          month,
          hash: plan.hashes[month],
          stage: 'SENT' satisfies ChunkStage,
          rejected: [],
        },
      },
    }));
    for (const batch of chunksOf(chunks, 25)) {
      const left = await retryPending(batch, async (pending) => {
        const response = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        return (response.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
      });
      if (left.length > 0) throw new TransientError(`BatchWriteItem left ${left.length} chunk item(s) unprocessed`);
    }
  }

  /** Marks every chunk message of the run as sent. */
  async markDispatched(runId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKey(runId),
        UpdateExpression: 'SET dispatch = :sent',
        ExpressionAttributeValues: { ':sent': 'SENT' },
      }),
    );
  }

  /**
   * Moves a run to a terminal status with its summary, and claims the outcome event for the
   * caller (state PUBLISHING with a lease). Only from RUNNING, or INCOMPLETE to a completion
   * (a replayed run finishes). Returns false when another worker got there first.
   */
  async finishRun(
    runId: string,
    outcome: { status: RunStatus; summary: RunSummary; detailType: EventDetailType; leaseUntil: number },
  ): Promise<boolean> {
    const fromStatuses =
      outcome.status === 'SUCCEEDED' || outcome.status === 'PARTIAL' ? ['RUNNING', 'INCOMPLETE'] : ['RUNNING'];
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          UpdateExpression:
            'SET #s = :status, summary = :summary, finishedAt = :finishedAt, event = :event, failure = :failure',
          ConditionExpression: '#s IN (:from0, :from1)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':status': outcome.status,
            ':summary': outcome.summary,
            ':finishedAt': outcome.summary.finishedAt ?? new Date().toISOString(),
            ':event': { detailType: outcome.detailType, state: 'PUBLISHING', leaseUntil: outcome.leaseUntil },
            ':failure': outcome.summary.failure ?? null,
            ':from0': fromStatuses[0],
            ':from1': fromStatuses[1] ?? fromStatuses[0],
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /**
   * Re-claims an outcome event whose publisher died before marking it published (its lease
   * ran out). Returns false while another worker's lease holds or once it is published.
   */
  async reclaimEvent(runId: string, now: number, leaseUntil: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          UpdateExpression: 'SET event.leaseUntil = :lease',
          ConditionExpression: 'event.#st = :publishing AND event.leaseUntil < :now',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: { ':publishing': 'PUBLISHING', ':now': now, ':lease': leaseUntil },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Marks the run's outcome event as published. */
  async markEventPublished(runId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKey(runId),
        UpdateExpression: 'SET event.#st = :published',
        ExpressionAttributeNames: { '#st': 'state' },
        ExpressionAttributeValues: { ':published': 'PUBLISHED' },
      }),
    );
  }

  // ---------------------------------------------------------------- chunks

  /** Every chunk of a run, strongly consistent. */
  async listChunks(runId: string): Promise<ChunkItem[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :chunk)',
      ExpressionAttributeValues: { ':pk': `RUN#${runId}`, ':chunk': 'CHUNK#' },
      ConsistentRead: true,
    });
    return items.map((item) => stripKeys<ChunkItem>(item));
  }

  async getChunk(runId: string, month: string): Promise<ChunkItem | undefined> {
    const response = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: chunkKey(runId, month), ConsistentRead: true }),
    );
    return response.Item ? stripKeys<ChunkItem>(response.Item) : undefined;
  }

  /** Records a chunk's rejected rows (idempotent); a chunk already loaded is left alone. */
  async markChunkTransformed(runId: string, month: string, rejected: RejectedRow[]): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: 'SET stage = :transformed, rejected = :rejected',
          ConditionExpression: 'attribute_exists(pk) AND stage <> :loaded',
          ExpressionAttributeValues: { ':transformed': 'TRANSFORMED', ':loaded': 'LOADED', ':rejected': rejected },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * Marks a chunk loaded with what the load did. The first call wins; a duplicate delivery
   * leaves the stored counts as they are. Returns whether this call marked it.
   */
  async markChunkLoaded(
    runId: string,
    month: string,
    result: {
      counts: Omit<RunCounts, 'rejected'>;
      rejected: RejectedRow[];
      dateRange: { from: string; to: string } | null;
    },
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: 'SET stage = :loaded, counts = :counts, rejected = :rejected, dateRange = :range',
          ConditionExpression: 'attribute_exists(pk) AND stage <> :loaded',
          ExpressionAttributeValues: {
            ':loaded': 'LOADED',
            ':counts': result.counts,
            ':rejected': result.rejected,
            ':range': result.dateRange,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Remembers the last error a handler hit for a chunk, for `etl dlq peek` and stalled-run reports. */
  async recordChunkError(
    runId: string,
    month: string,
    error: { stage: 'transform' | 'load'; message: string; at: string; receiveCount?: number },
  ): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: chunkKey(runId, month),
          UpdateExpression: 'SET lastError = :error ADD errors :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':error': error, ':one': 1 },
        }),
      )
      .catch((caught: unknown) => {
        if (!isConditionalCheckFailed(caught)) throw caught;
      });
  }

  // ---------------------------------------------------------------- months and sources

  /** The hash and size of every month's last successful load. */
  async getMonthStates(): Promise<Map<string, MonthState>> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'MONTH' },
      ConsistentRead: true,
    });
    return new Map(items.map((item) => [String(item.sk), stripKeys<MonthState>(item)]));
  }

  async getMonthState(month: string): Promise<MonthState | undefined> {
    const response = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: 'MONTH', sk: month }, ConsistentRead: true }),
    );
    return response.Item ? stripKeys<MonthState>(response.Item) : undefined;
  }

  /** Records a month as loaded successfully with this content hash. */
  async putMonthState(state: MonthState): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: 'MONTH', sk: state.month, ...state } }),
    );
  }

  /** The sources as the last SUCCEEDED run saw them (for conditional requests and "nothing changed"). */
  async getSourceBaselines(): Promise<Map<SourceId, SourceBaseline>> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'SOURCE' },
      ConsistentRead: true,
    });
    return new Map(items.map((item) => [item.sk as SourceId, stripKeys<SourceBaseline>(item)]));
  }

  async putSourceBaselines(runId: string, sources: SourceIdentity[]): Promise<void> {
    for (const source of sources) {
      const baseline: SourceBaseline = {
        id: source.id,
        etag: source.etag,
        lastModified: source.lastModified,
        sha256: source.sha256,
        runId,
      };
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: { pk: 'SOURCE', sk: source.id, ...baseline } }),
      );
    }
  }

  // ---------------------------------------------------------------- notifications

  /**
   * Claims the right to notify one event of one run. `claimed`: nobody notified it and no
   * other claim's lease holds (call `markNotified` after publishing); `sent`: already notified;
   * `in-progress`: another delivery holds the lease (retry later: it may yet fail).
   */
  async claimNotification(
    runId: string,
    detailType: string,
    now: number,
    leaseUntil: number,
  ): Promise<NotificationClaim> {
    const key = { pk: `NOTIFY#${runId}`, sk: detailType };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, state: 'SENDING', leaseUntil },
          ConditionExpression: 'attribute_not_exists(pk) OR (#st = :sending AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: { ':sending': 'SENDING', ':now': now },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const current = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return current.Item?.state === 'SENT' ? 'sent' : 'in-progress';
    }
  }

  async markNotified(runId: string, detailType: string, messageId: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `NOTIFY#${runId}`, sk: detailType, state: 'SENT', messageId },
      }),
    );
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey }));
      out.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }
}

function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as T;
}
