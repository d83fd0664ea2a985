import './zod-locale.js';
import * as z from 'zod/mini';
import { Count, Sha256 } from './primitives.js';

/**
 * The upstream files: the national series (`nyt` joined with `jhu`) and the publisher's states
 * and counties files. A daily run reads `counties-recent` (the rolling 30 days); a backfill
 * reads the full `counties` file.
 */
export const SourceId = z.enum(['nyt', 'jhu', 'states', 'counties', 'counties-recent']);
export type SourceId = z.infer<typeof SourceId>;

/** The two sources of the national series (joined by date). */
export const NATIONAL_SOURCES = ['nyt', 'jhu'] as const;
export type NationalSourceId = (typeof NATIONAL_SOURCES)[number];

/** The sources of the states and counties, one file each. */
export const GEO_SOURCES = ['states', 'counties', 'counties-recent'] as const;
export type GeoSourceId = (typeof GEO_SOURCES)[number];

export const SOURCE_LABELS: Record<SourceId, string> = {
  nyt: 'The New York Times us.csv',
  jhu: 'Johns Hopkins CSSE via datasets/covid-19',
  states: 'The New York Times us-states.csv',
  counties: 'The New York Times us-counties.csv',
  'counties-recent': 'The New York Times us-counties-recent.csv',
};

/** The file name each geo source's rejections and errors name (never its URL, which may hold a secret). */
export const GEO_SOURCE_FILES: Record<GeoSourceId, string> = {
  states: 'us-states.csv',
  counties: 'us-counties.csv',
  'counties-recent': 'us-counties-recent.csv',
};

/** The public URLs the fetcher reads when nothing else is configured. */
export const DEFAULT_SOURCE_URLS: Record<SourceId, string> = {
  nyt: 'https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv',
  jhu: 'https://raw.githubusercontent.com/datasets/covid-19/main/data/time-series-19-covid-combined.csv',
  states: 'https://raw.githubusercontent.com/nytimes/covid-19-data/master/us-states.csv',
  counties: 'https://raw.githubusercontent.com/nytimes/covid-19-data/master/us-counties.csv',
  'counties-recent': 'https://raw.githubusercontent.com/nytimes/covid-19-data/master/us-counties-recent.csv',
};

/** What identifies one downloaded source: where it came from and exactly which bytes. */
export const SourceIdentity = z.object({
  id: SourceId,
  /** Redacted (no userinfo, no query): see `redactUrl`. */
  url: z.string().check(z.minLength(1)),
  etag: z.optional(z.string()),
  lastModified: z.optional(z.string()),
  sha256: Sha256,
  bytes: Count,
  /** True when the server answered 304 Not Modified to a conditional request. */
  notModified: z.optional(z.boolean()),
  /** Identifies the exact URL read (a digest: the URL itself may hold a secret); baselines are kept per URL. */
  urlKey: z.optional(z.string()),
  /** Rows of the snapshot the pipeline uses (JHU: US-national rows), and their first and last date. */
  rows: z.optional(Count),
  firstDate: z.optional(z.string()),
  lastDate: z.optional(z.string()),
});
export type SourceIdentity = z.infer<typeof SourceIdentity>;

/** A row rejected by row-level validation: the rest of its source stands. */
export const RejectedRow = z.object({
  source: SourceId,
  /** 1-based physical line number in the source file (the header is line 1). */
  line: z.number().check(z.int(), z.positive()),
  column: z.optional(z.string()),
  value: z.optional(z.string()),
  reason: z.string().check(z.minLength(1)),
});
export type RejectedRow = z.infer<typeof RejectedRow>;
