import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type {
  EventDetailType,
  GateTrip,
  GeoLevelPlan,
  RejectedRow,
  RunCosts,
  RunCounts,
  RunStatus,
  RunSummary,
  RunTrigger,
  SourceId,
  SourceIdentity,
} from '@covid-etl/contracts';
import { queryAllItems } from './client.js';

/**
 * The ledger table's items and key schema, shared by the item-type repositories
 * (`run-ledger.ts`, `chunk-ledger.ts`, `baseline-ledger.ts`, `notification-ledger.ts`):
 * runs at `RUN#<runId>`/`RUN` (and on the start-time index), chunks at
 * `RUN#<runId>`/`CHUNK#<month>`, month states at `MONTH`/`<month>`, source baselines at
 * `SOURCE`/`<id>`, notification claims at `NOTIFY#<runId>`/`<detail type>`.
 */

export type ChunkStage = 'SENT' | 'TRANSFORMED' | 'LOADED';

/** The answer to a notification claim (see `LedgerRepository.claimNotification`). */
export type NotificationClaim = 'claimed' | 'sent' | 'in-progress';

/** A run as the ledger holds it. */
export interface RunItem {
  runId: string;
  environment: string;
  trigger: RunTrigger;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  /** `SENT` once every chunk message is on the transformer queue. */
  dispatch: 'PENDING' | 'SENT';
  sources: SourceIdentity[];
  /** Chunks sent: the nation's months (`2020-04`) and the states' and counties' parts (`county/48/2020-04#01-08`). */
  months: string[];
  /**
   * Months whose chunk is loaded and counted on the run (a string set, added to once per month
   * by the loader): the run is complete when it holds every planned month.
   */
  loaded?: Set<string>;
  /** What the run planned for the states and counties, per level (absent: the nation only). */
  geo?: Partial<Record<'state' | 'county', GeoLevelPlan>>;
  /** Months skipped because their hash equals the last successful load, and their record count. */
  skipped: { months: number; records: number };
  summary?: RunSummary;
  failure?: { reason: string; stage?: string };
  /** The data-quality gates the snapshot tripped (HELD), kept after a decision. */
  gates?: GateTrip[];
  /** An operator's decision on a HELD run. */
  decision?: { action: 'approve' | 'reject'; at: string; by?: string };
  note?: string;
  /** What the fetcher's invocations cost (added by each, see `costs.ts`). */
  costs?: Partial<RunCosts>;
  /** The outcome event: claimed (`PUBLISHING`, with a lease) and then `PUBLISHED`. */
  event?: { detailType: EventDetailType; state: 'PUBLISHING' | 'PUBLISHED'; leaseUntil: number };
  /**
   * The watchdog's last sight of progress: how many chunks were loaded (`loaded`'s size) and
   * when it first saw that many (its own clock). A run is stalled when this stops moving.
   */
  progressSeen?: { loaded: number; at: string };
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
  /** What transforming and loading it cost, every attempt added (see `costs.ts`). */
  costs?: Partial<RunCosts>;
}

export interface MonthState {
  month: string;
  hash: string;
  records: number;
  runId: string;
}

/**
 * What the last SUCCEEDED run verified and loaded from one source URL: its validators, content
 * hash, row count and first/last date. Kept per URL (`urlKey`): validators describe one URL's response.
 */
export interface SourceBaseline {
  id: SourceId;
  /** The URL, redacted. */
  url?: string;
  urlKey?: string;
  etag?: string;
  lastModified?: string;
  sha256: string;
  bytes?: number;
  rows?: number;
  firstDate?: string;
  lastDate?: string;
  runId: string;
}

export const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' });
export const chunkKey = (runId: string, month: string) => ({ pk: `RUN#${runId}`, sk: `CHUNK#${month}` });

/** One item type's repository on the ledger table. */
export abstract class LedgerTable {
  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  /** Every item of a Query, following `LastEvaluatedKey`. */
  protected queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    return queryAllItems(this.doc, input);
  }
}

/** An item without its key attributes; its `cost_*` counters gathered as `costs`. */
export function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  const costs: Record<string, number> = {};
  for (const [name, value] of Object.entries(rest)) {
    if (!name.startsWith(COST_PREFIX)) continue;
    if (typeof value === 'number') costs[name.slice(COST_PREFIX.length)] = value;
    delete rest[name];
  }
  return (Object.keys(costs).length ? { ...rest, costs } : rest) as T;
}

const COST_PREFIX = 'cost_';

/** `ExpressionAttributeNames` for a costs clause (absent when empty: DynamoDB refuses an empty map). */
export function costNames(names: Record<string, string>): { ExpressionAttributeNames?: Record<string, string> } {
  return Object.keys(names).length ? { ExpressionAttributeNames: names } : {};
}

/**
 * The `ADD` clause that adds `costs` to an item's `cost_<field>` counters (top-level numbers:
 * DynamoDB's ADD takes no nested path), with its names and values; empty when nothing to add.
 */
export function addCostsClause(costs: Partial<Record<string, number>> | undefined): {
  clause: string;
  names: Record<string, string>;
  values: Record<string, number>;
} {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const parts: string[] = [];
  for (const [field, value] of Object.entries(costs ?? {})) {
    if (!value) continue;
    names[`#${COST_PREFIX}${field}`] = `${COST_PREFIX}${field}`;
    values[`:${COST_PREFIX}${field}`] = value;
    parts.push(`#${COST_PREFIX}${field} :${COST_PREFIX}${field}`);
  }
  return { clause: parts.length ? ` ADD ${parts.join(', ')}` : '', names, values };
}
