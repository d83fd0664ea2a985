import * as z from 'zod';
import { Count, Sha256 } from './primitives.js';

/** The two upstream data sets. */
export const SourceId = z.enum(['nyt', 'jhu']);
export type SourceId = z.infer<typeof SourceId>;

export const SOURCE_LABELS: Record<SourceId, string> = {
  nyt: 'The New York Times us.csv',
  jhu: 'Johns Hopkins CSSE via datasets/covid-19',
};

/** The public URLs the fetcher reads when nothing else is configured. */
export const DEFAULT_SOURCE_URLS: Record<SourceId, string> = {
  nyt: 'https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv',
  jhu: 'https://raw.githubusercontent.com/datasets/covid-19/main/data/time-series-19-covid-combined.csv',
};

/** What identifies one downloaded source: where it came from and exactly which bytes. */
export const SourceIdentity = z.object({
  id: SourceId,
  /** Redacted (no userinfo, no query): see `redactUrl`. */
  url: z.string().min(1),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  sha256: Sha256,
  bytes: Count,
  /** True when the server answered 304 Not Modified to a conditional request. */
  notModified: z.boolean().optional(),
  /** Identifies the exact URL read (a digest: the URL itself may hold a secret); baselines are kept per URL. */
  urlKey: z.string().optional(),
  /** Rows of the snapshot the pipeline uses (JHU: US-national rows), and their first and last date. */
  rows: Count.optional(),
  firstDate: z.string().optional(),
  lastDate: z.string().optional(),
});
export type SourceIdentity = z.infer<typeof SourceIdentity>;

/** A row rejected by row-level validation: the rest of its source stands. */
export const RejectedRow = z.object({
  source: SourceId,
  /** 1-based physical line number in the source file (the header is line 1). */
  line: z.number().int().positive(),
  column: z.string().optional(),
  value: z.string().optional(),
  reason: z.string().min(1),
});
export type RejectedRow = z.infer<typeof RejectedRow>;
