import './zod-locale.js';
import * as z from 'zod/mini';
import { Count, IsoDate, Month, RunId } from './primitives.js';
import { GEO_SOURCE_FILES, type GeoSourceId, RejectedRow, SourceId, SourceIdentity } from './sources.js';
import { GateTrip } from './trust.js';

/**
 * Where a run stands.
 * - RUNNING: chunks are in flight.
 * - SUCCEEDED: every chunk loaded, no row rejected (or nothing to do).
 * - PARTIAL: every chunk loaded, some rows rejected with reasons (any level: nation, states or
 *   counties; `rejections` says where).
 * - FAILED: a source was unusable (structural error) or the run stalled; nothing or part loaded.
 * - INCOMPLETE: chunks are parked in a dead-letter queue; replay them to finish the run.
 * - HELD: the snapshot tripped a data-quality gate; nothing was written. `etl approve` loads
 *   exactly that snapshot, `etl reject` ends the run REJECTED.
 * - REJECTED: an operator rejected a HELD run; nothing was written.
 * - ABANDONED: an operator closed the run (`etl abandon`); chunks still in flight are dropped.
 */
export const RunStatus = z.enum([
  'RUNNING',
  'SUCCEEDED',
  'PARTIAL',
  'FAILED',
  'INCOMPLETE',
  'HELD',
  'REJECTED',
  'ABANDONED',
]);
export type RunStatus = z.infer<typeof RunStatus>;

export const TERMINAL_STATUSES: readonly RunStatus[] = [
  'SUCCEEDED',
  'PARTIAL',
  'FAILED',
  'INCOMPLETE',
  'REJECTED',
  'ABANDONED',
];

/** Statuses in which a run waits for a person (`etl approve` / `etl reject`); nothing moves on its own. */
export const WAITING_STATUSES: readonly RunStatus[] = ['HELD'];

/** The statuses an operator may abandon (`etl abandon`): any run not finished for good. */
export const ABANDONABLE_STATUSES: readonly string[] = ['RUNNING', 'INCOMPLETE', 'HELD'];

export const RunCounts = z.object({
  inserted: Count,
  updated: Count,
  unchanged: Count,
  rejected: Count,
  /** Days removed (only a revert removes days: those the reverted run inserted). */
  deleted: z.optional(Count),
});
export type RunCounts = z.infer<typeof RunCounts>;

/** Most rejected rows carried in a summary or event (the count is always exact). */
export const MAX_REJECTED_IN_SUMMARY = 50;

/** What started a run: the schedule, a person (`etl run`), or `etl revert`. */
export const RunTrigger = z.enum(['schedule', 'manual', 'revert']);
export type RunTrigger = z.infer<typeof RunTrigger>;

/** Most revisions listed by value in a summary (the count is always exact). */
export const MAX_REVISIONS_IN_SUMMARY = 5;

/** One revised day, by its largest change. */
export const Revision = z.object({
  date: IsoDate,
  field: z.enum(['cases', 'deaths', 'recovered']),
  before: Count,
  after: Count,
});
export type Revision = z.infer<typeof Revision>;

/** The days a run revised (updated): how many, their span, and the largest changes. */
export const RevisionSummary = z.object({
  days: Count,
  from: IsoDate,
  to: IsoDate,
  /** Up to MAX_REVISIONS_IN_SUMMARY days, largest absolute change first. */
  largest: z.array(Revision),
});
export type RevisionSummary = z.infer<typeof RevisionSummary>;

/** A chunk that did not finish, and where it is. */
export const PendingChunk = z.object({
  month: Month,
  stage: z.enum(['transform', 'load']),
  lastError: z.optional(z.string()),
});
export type PendingChunk = z.infer<typeof PendingChunk>;

/**
 * What a run cost in requests, counted where the requests are made (every AWS SDK client the
 * services create, the local stack's adapters, the downloader). Unlike `counts`, which are exact
 * under redelivery, these count real work: retries, redeliveries and failed attempts add what
 * they really cost. The estimate at prices is the benchmark's (docs/performance.md).
 */
export const RunCosts = z.object({
  /** DynamoDB requests that read (GetItem, Query, Scan, BatchGetItem), each page counted. */
  dynamoReadRequests: Count,
  /** DynamoDB requests that write (PutItem, UpdateItem, DeleteItem, BatchWriteItem), failed conditions included. */
  dynamoWriteRequests: Count,
  /** Read capacity units DynamoDB reported consumed (`ReturnConsumedCapacity`; not reported for failed requests). */
  dynamoReadUnits: z.number().check(z.nonnegative()),
  /** Write capacity units DynamoDB reported consumed (not reported for failed requests). */
  dynamoWriteUnits: z.number().check(z.nonnegative()),
  /** SQS messages sent (a SendMessageBatch of 10 is 10 messages and 1 request). */
  sqsMessagesSent: Count,
  /** SQS send requests (SendMessage, SendMessageBatch). */
  sqsSendRequests: Count,
  /** SQS messages handed to a handler (redeliveries included). */
  sqsMessagesReceived: Count,
  /** EventBridge entries put (the run's outcome event included). */
  eventsPut: Count,
  /** Bytes of source bodies downloaded (a 304 downloads none). */
  bytesDownloaded: Count,
});
export type RunCosts = z.infer<typeof RunCosts>;

/**
 * One ASCII line for people (email footer, `etl status`, Slack): "DynamoDB 120 reads (60.5 RCU),
 * 880 writes (880 WCU); SQS 48 messages sent (26 requests), 48 received; 1 event; 2.3 MB downloaded".
 */
export function describeRunCosts(costs: RunCosts): string {
  const n = (value: number) => Math.round(value).toLocaleString('en-US');
  // Capacity units may be halves (an eventually consistent read): one decimal, grouped as the rest.
  const units = (value: number) =>
    Number.isInteger(value)
      ? n(value)
      : value.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const mb = costs.bytesDownloaded / 1_000_000;
  const downloaded =
    costs.bytesDownloaded === 0
      ? 'nothing downloaded'
      : mb >= 0.1
        ? `${mb.toFixed(1)} MB downloaded`
        : `${n(costs.bytesDownloaded)} bytes downloaded`;
  return [
    `DynamoDB ${n(costs.dynamoReadRequests)} reads (${units(costs.dynamoReadUnits)} RCU), ${n(costs.dynamoWriteRequests)} writes (${units(costs.dynamoWriteUnits)} WCU)`,
    `SQS ${n(costs.sqsMessagesSent)} messages sent (${n(costs.sqsSendRequests)} requests), ${n(costs.sqsMessagesReceived)} received`,
    `${n(costs.eventsPut)} event${costs.eventsPut === 1 ? '' : 's'}`,
    downloaded,
  ].join('; ');
}

/** The rows a run rejected from one source file of one geography level (the count is exact). */
export const RejectionCount = z.object({
  level: z.enum(['nation', 'state', 'county']),
  source: SourceId,
  rows: Count,
});
export type RejectionCount = z.infer<typeof RejectionCount>;

/** The file a source's rejected rows come from, for people: `us-states.csv`; `nyt`, `jhu` for the nation. */
function rejectionFile(source: SourceId): string {
  return GEO_SOURCE_FILES[source as GeoSourceId] ?? source;
}

/**
 * Why a run is PARTIAL, in one ASCII line: "3 rows rejected: 2 in us-states.csv (state), 1 in
 * nyt (nation); every other row loaded". Empty when nothing was rejected.
 */
export function describeRejections(rejections: readonly RejectionCount[]): string {
  const total = rejections.reduce((sum, entry) => sum + entry.rows, 0);
  if (total === 0) return '';
  const n = (value: number) => value.toLocaleString('en-US');
  const where = rejections
    .filter((entry) => entry.rows > 0)
    .map((entry) => `${n(entry.rows)} in ${rejectionFile(entry.source)} (${entry.level})`);
  return `${n(total)} ${total === 1 ? 'row' : 'rows'} rejected: ${where.join(', ')}; every other row loaded`;
}

/**
 * The counts per level of a run that read the states or counties, in level order (nation,
 * state, county), for people; none for a run of the nation alone, which is shown as before
 * geographies (its total only).
 */
export function levelCountsOf(
  levels: Partial<Record<'nation' | 'state' | 'county', RunCounts>> | undefined,
): ['nation' | 'state' | 'county', RunCounts][] {
  if (!levels?.state && !levels?.county) return [];
  return (['nation', 'state', 'county'] as const).flatMap((level) => {
    const counts = levels[level];
    return counts ? [[level, counts] as ['nation' | 'state' | 'county', RunCounts]] : [];
  });
}

/** Everything a person needs to know about a finished (or failed) run. */
export const RunSummary = z.object({
  runId: RunId,
  environment: z.string().check(z.minLength(1)),
  status: RunStatus,
  trigger: RunTrigger,
  startedAt: z.iso.datetime(),
  finishedAt: z.optional(z.iso.datetime()),
  durationMs: z.optional(Count),
  counts: RunCounts,
  /**
   * The counts by geography level (`nation`, `state`, `county`; absent in summaries written
   * before geographies, and for a run of the nation alone). They add up to `counts`.
   */
  levels: z.optional(z.partialRecord(z.enum(['nation', 'state', 'county']), RunCounts)),
  /** First and last date of the joined series this run looked at; null when it had none. */
  dateRange: z.nullable(z.object({ from: IsoDate, to: IsoDate })),
  sources: z.array(SourceIdentity),
  chunks: z.object({
    /** Month chunks sent to the transformer. */
    expected: Count,
    /** Chunks loaded (or found already loaded). */
    loaded: Count,
    /** Months skipped because their content hash equals the last successfully loaded one. */
    skipped: Count,
  }),
  /**
   * Where the rejected rows came from: one entry per level and source file with rows rejected
   * (absent when none). Any entry makes a completed run PARTIAL; `describeRejections` says it.
   */
  rejections: z.optional(z.array(RejectionCount)),
  /** Up to MAX_REJECTED_IN_SUMMARY rejected rows; `counts.rejected` has the exact number. */
  rejectedRows: z.array(RejectedRow),
  /** The days this run revised (absent when none, or not known). */
  revisions: z.optional(RevisionSummary),
  pendingChunks: z.optional(z.array(PendingChunk)),
  failure: z.optional(z.object({ reason: z.string().check(z.minLength(1)), stage: z.optional(z.string()) })),
  /** The data-quality gates the snapshot tripped (a HELD run, or one approved after it). */
  gates: z.optional(z.array(GateTrip)),
  /** A remark for people, e.g. "sources unchanged since run s-…". */
  note: z.optional(z.string()),
  /** The run's cost drivers (absent in summaries written before they were counted). */
  costs: z.optional(RunCosts),
});
export type RunSummary = z.infer<typeof RunSummary>;
