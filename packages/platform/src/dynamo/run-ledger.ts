import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  ABANDONABLE_STATUSES,
  type EventDetailType,
  type RunStatus,
  type RunSummary,
  type SourceIdentity,
} from '@covid-etl/contracts';
import type { CostCounts } from '../costs.js';
import { TransientError } from '../errors.js';
import { batchPutAll, isConditionalCheckFailed } from './client.js';
import {
  addCostsClause,
  type ChunkStage,
  chunkKey,
  costNames,
  LedgerTable,
  type RunItem,
  runKey,
  stripKeys,
} from './ledger-items.js';
import { RUNS_INDEX, RUNS_PARTITION } from './tables.js';

/**
 * The ledger's run items: created once, finished once (conditional writes), listed newest
 * first on the start-time index.
 */
export class DynamoRunLedger extends LedgerTable {
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

  /**
   * The most recent runs first (by start time), at most `limit`: pages through the start-time
   * index until it has `limit` runs or the index ends (a Query page stops at 1 MB).
   */
  async listRuns(limit = 20): Promise<RunItem[]> {
    const runs: RunItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listRunsPage({ limit: limit - runs.length, cursor });
      runs.push(...page.runs);
      cursor = page.cursor;
    } while (cursor && runs.length < limit);
    return runs.slice(0, limit);
  }

  /**
   * One page of runs, most recent first: at most `limit` runs and, when more follow, the
   * `cursor` to pass back for the next page (opaque; valid for this table only).
   */
  async listRunsPage({ limit = 20, cursor }: { limit?: number; cursor?: string } = {}): Promise<RunPage> {
    const response = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: RUNS_INDEX,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': RUNS_PARTITION },
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: decodeCursor(cursor) } : {}),
      }),
    );
    return {
      runs: (response.Items ?? []).map((item) => stripKeys<RunItem>(item)),
      ...(response.LastEvaluatedKey ? { cursor: encodeCursor(response.LastEvaluatedKey) } : {}),
    };
  }

  /**
   * The runs started at or after `since` (ISO time), and at least the `atLeast` most recent
   * ones whenever they started, newest first: the watchdog's one listing per check (the
   * unfinished runs of its lookback window, and the recent runs whose outcome event may still
   * be unpublished). A Query of `atLeast` runs on the start-time index, then, only when all of
   * them started since `since`, the rest of that window: what it reads is bounded by the window
   * and `atLeast`, never by the run history.
   */
  async listRecentRuns(since: string, atLeast = 50): Promise<RunItem[]> {
    const runs: RunItem[] = [];
    const newestFirst = {
      TableName: this.tableName,
      IndexName: RUNS_INDEX,
      ScanIndexForward: false,
    };
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    let more = true;
    // The most recent `atLeast` (a page stops at 1 MB: then the next one goes on).
    while (more && runs.length < atLeast) {
      const page = await this.doc.send(
        new QueryCommand({
          ...newestFirst,
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': RUNS_PARTITION },
          Limit: atLeast - runs.length,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) runs.push(stripKeys<RunItem>(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
      more = ExclusiveStartKey !== undefined;
    }
    // The rest of the window, when the last of those still started within it.
    const last = runs[runs.length - 1];
    if (more && (!last || last.startedAt >= since)) {
      const rest = await this.queryAll({
        ...newestFirst,
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk >= :since',
        ExpressionAttributeValues: { ':p': RUNS_PARTITION, ':since': since },
        ExclusiveStartKey,
      });
      for (const item of rest) runs.push(stripKeys<RunItem>(item));
    }
    return runs;
  }

  /**
   * The runs that started after `run` (by start time, then id), oldest first: one Query on the
   * start-time index, paginated. Time travel undoes their changes.
   */
  async listRunsAfter(run: Pick<RunItem, 'runId' | 'startedAt'>): Promise<RunItem[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: RUNS_INDEX,
      KeyConditionExpression: 'gsi1pk = :p AND gsi1sk > :after',
      ExpressionAttributeValues: { ':p': RUNS_PARTITION, ':after': `${run.startedAt}#${run.runId}` },
    });
    return items.map((item) => stripKeys<RunItem>(item));
  }

  /** The last run with `status` that started before `run`, if any (newest first, stops at the first found). */
  async findRunBefore(run: Pick<RunItem, 'runId' | 'startedAt'>, status: RunStatus): Promise<RunItem | undefined> {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: RUNS_INDEX,
          KeyConditionExpression: 'gsi1pk = :p AND gsi1sk < :before',
          FilterExpression: '#s = :status',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':p': RUNS_PARTITION,
            ':before': `${run.startedAt}#${run.runId}`,
            ':status': status,
          },
          ScanIndexForward: false,
          ExclusiveStartKey,
        }),
      );
      const found = page.Items?.[0];
      if (found) return stripKeys<RunItem>(found);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return undefined;
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
        // A new plan starts its completion accounting afresh: its chunk items are put back to SENT below.
        UpdateExpression: 'SET sources = :sources, months = :months, skipped = :skipped REMOVE loaded',
        ExpressionAttributeValues: { ':sources': plan.sources, ':months': plan.months, ':skipped': plan.skipped },
      }),
    );
    const chunks = plan.months.map((month) => ({
      ...chunkKey(runId, month),
      runId,
      month,
      hash: plan.hashes[month],
      stage: 'SENT' satisfies ChunkStage,
      rejected: [],
    }));
    await batchPutAll(this.doc, this.tableName, chunks, { what: 'chunk' });
  }

  /**
   * Records that the run has nothing to send (no chunk: every source unchanged, or a held
   * snapshot) and marks it dispatched, with `costs`, in one request: `recordDispatchPlan` with
   * an empty plan, then `markDispatched`. Returns the run after the change.
   */
  async recordNothingToSend(runId: string, sources: SourceIdentity[], costs?: Partial<CostCounts>): Promise<RunItem> {
    const add = addCostsClause(costs);
    const response = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKey(runId),
        UpdateExpression: `SET sources = :sources, months = :months, skipped = :skipped, dispatch = :sent REMOVE loaded${add.clause}`,
        ...costNames(add.names),
        ExpressionAttributeValues: {
          ':sources': sources,
          ':months': [],
          ':skipped': { months: 0, records: 0 },
          ':sent': 'SENT',
          ...add.values,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return stripKeys<RunItem>(response.Attributes ?? {});
  }

  /**
   * Counts a loaded chunk on its run: adds `month` to the run's `loaded` set, once (conditional
   * on the month not being in it), and returns the run as it is after the change, so the caller
   * knows whether every planned month is loaded without another read. Returns undefined when the
   * month was already counted (a redelivery, or a retry after a crash between the chunk's mark
   * and this update) or the run is unknown: the caller then reads the run to decide.
   */
  async recordChunkLoaded(runId: string, month: string): Promise<RunItem | undefined> {
    try {
      const response = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          UpdateExpression: 'ADD loaded :month',
          ConditionExpression: 'attribute_exists(pk) AND NOT contains(loaded, :m)',
          ExpressionAttributeValues: { ':month': new Set([month]), ':m': month },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return response.Attributes ? stripKeys<RunItem>(response.Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /**
   * Adds the loaded `months` of one run in one request (a loader invocation's chunks of the run),
   * with `costs` on the run item (see `costs.ts`); returns the run after the change, or undefined
   * when its item is missing. A month already in `loaded` changes nothing (a set), so a
   * redelivery adds nothing either.
   */
  async recordChunksLoaded(
    runId: string,
    months: readonly string[],
    costs?: Partial<CostCounts>,
  ): Promise<RunItem | undefined> {
    const add = addCostsClause(costs);
    try {
      const response = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          UpdateExpression: `ADD loaded :months${add.clause.replace(/^ ADD /, ', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ...costNames(add.names),
          ExpressionAttributeValues: { ':months': new Set(months), ...add.values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return response.Attributes ? stripKeys<RunItem>(response.Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /**
   * Records how many chunks of a RUNNING run the watchdog saw loaded, and when (idempotent: a
   * plain SET). Does nothing once the run has finished.
   */
  async recordProgressSeen(runId: string, seen: NonNullable<RunItem['progressSeen']>): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          UpdateExpression: 'SET progressSeen = :seen',
          ConditionExpression: 'attribute_exists(pk) AND #status = :running',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':seen': seen, ':running': 'RUNNING' },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /** Marks every chunk message of the run as sent. */
  async markDispatched(runId: string, costs?: Partial<CostCounts>): Promise<void> {
    const add = addCostsClause(costs);
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKey(runId),
        UpdateExpression: `SET dispatch = :sent${add.clause}`,
        ...costNames(add.names),
        ExpressionAttributeValues: { ':sent': 'SENT', ...add.values },
      }),
    );
  }

  /**
   * Moves a run to a terminal status with its summary, and claims the outcome event for the
   * caller (state PUBLISHING with a lease). Only from RUNNING, or INCOMPLETE to a completion
   * (a replayed run finishes), or any of ABANDONABLE_STATUSES to ABANDONED. Returns false when
   * another worker got there first.
   */
  async finishRun(
    runId: string,
    outcome: { status: RunStatus; summary: RunSummary; detailType: EventDetailType; leaseUntil: number },
  ): Promise<boolean> {
    const fromStatuses =
      outcome.status === 'ABANDONED'
        ? [...ABANDONABLE_STATUSES]
        : outcome.status === 'SUCCEEDED' || outcome.status === 'PARTIAL'
          ? ['RUNNING', 'INCOMPLETE']
          : ['RUNNING'];
    const from = Object.fromEntries(fromStatuses.map((status, i) => [`:from${i}`, status]));
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          UpdateExpression:
            'SET #s = :status, summary = :summary, finishedAt = :finishedAt, event = :event, failure = :failure',
          ConditionExpression: `#s IN (${Object.keys(from).join(', ')})`,
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':status': outcome.status,
            ':summary': outcome.summary,
            ':finishedAt': outcome.summary.finishedAt ?? new Date().toISOString(),
            ':event': { detailType: outcome.detailType, state: 'PUBLISHING', leaseUntil: outcome.leaseUntil },
            ':failure': outcome.summary.failure ?? null,
            ...from,
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
}

/** A page of runs and, when more follow, the cursor of the next page. */
export interface RunPage {
  runs: RunItem[];
  cursor?: string;
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (key && typeof key === 'object' && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new RangeError(`Not a run-list cursor: ${cursor.slice(0, 40)}`);
}
