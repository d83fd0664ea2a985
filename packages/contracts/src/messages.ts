import './zod-locale.js';
import * as z from 'zod/mini';
import { Count, IsoDate, Month, RunId, Sha256 } from './primitives.js';
import { RejectedRow } from './sources.js';
import { RunDecision } from './trust.js';

/** One NYT row as read from the file: values are still strings, validated by the transformer. */
export const NytRawRow = z.object({
  line: z.number().check(z.int(), z.positive()),
  date: z.string(),
  cases: z.string(),
  deaths: z.string(),
});
export type NytRawRow = z.infer<typeof NytRawRow>;

/** One JHU US-national row as read from the file (only the columns the pipeline uses). */
export const JhuRawRow = z.object({
  line: z.number().check(z.int(), z.positive()),
  date: z.string(),
  recovered: z.string(),
});
export type JhuRawRow = z.infer<typeof JhuRawRow>;

/** A joined, validated day of the national series. */
export const SeriesRecord = z.object({
  date: IsoDate,
  cases: Count,
  deaths: Count,
  recovered: Count,
});
export type SeriesRecord = z.infer<typeof SeriesRecord>;

/** fetcher → transformer queue: the raw rows of both sources for one calendar month. */
export const TransformChunkMessage = z.object({
  version: z.literal(1),
  runId: RunId,
  month: Month,
  /** Content hash of the raw rows (line numbers excluded): equal hash, equal month. */
  hash: Sha256,
  nyt: z.array(NytRawRow),
  jhu: z.array(JhuRawRow),
});
export type TransformChunkMessage = z.infer<typeof TransformChunkMessage>;

/** transformer → loader queue: the validated, joined records of one month. */
export const LoadChunkMessage = z.object({
  version: z.literal(1),
  runId: RunId,
  month: Month,
  hash: Sha256,
  records: z.array(SeriesRecord),
  rejected: z.array(RejectedRow),
  /** Days to remove (a revert removes the days the reverted run inserted). */
  removed: z.optional(z.array(IsoDate)),
});
export type LoadChunkMessage = z.infer<typeof LoadChunkMessage>;

/**
 * Largest message the pipeline sends to SQS, SNS or EventBridge, in bytes: 256 KiB. SNS messages
 * and EventBridge entries are capped at 256 KiB; SQS now allows 1 MiB, but the AWS provider 5.x
 * caps a queue's `max_message_size` at 262,144 (terraform-provider-aws #43692), so the queues
 * keep the old limit. The local stack enforces the same value.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** What starts a fetcher run: the schedule (with its scheduled time) or a person. */
export const FetcherInput = z.object({
  trigger: z.enum(['schedule', 'manual']),
  /** ISO-8601 time the schedule fired for; the run id is derived from it. */
  scheduledTime: z.optional(z.iso.datetime({ offset: true })),
  /** Overrides of the source URLs (http(s); 127.0.0.1 and file:// only in the local environment). */
  sources: z.optional(
    z.strictObject({
      nyt: z.optional(z.string()),
      jhu: z.optional(z.string()),
      states: z.optional(z.string()),
      counties: z.optional(z.string()),
      'counties-recent': z.optional(z.string()),
    }),
  ),
  /**
   * `counties`: read the full counties file instead of the rolling 30-day one (an operator's
   * backfill, or the occasional backfill schedule). Absent: the daily run.
   */
  backfill: z.optional(z.literal('counties')),
  /** The levels this run loads (default: the environment's `GEO_LEVELS`). */
  levels: z.optional(z.array(z.enum(['nation', 'state', 'county'])).check(z.minLength(1))),
  /** An operator's decision on a HELD run: approve loads exactly its snapshot, reject ends it REJECTED. */
  decision: z.optional(RunDecision),
});
export type FetcherInput = z.infer<typeof FetcherInput>;

/** What a fetcher invocation answers. */
export const FetcherResult = z.object({
  runId: RunId,
  /** True when this invocation joined a run that already existed (duplicate delivery). */
  joined: z.boolean(),
  status: z.string(),
  chunks: Count,
});
export type FetcherResult = z.infer<typeof FetcherResult>;
