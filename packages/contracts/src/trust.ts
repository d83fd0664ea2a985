import './zod-locale.js';
import * as z from 'zod/mini';
import { RunId } from './primitives.js';

/**
 * A URL as it may be shown or stored anywhere (logs, errors, the ledger, events, email, Slack,
 * the dashboard's API): without userinfo (`user:password@`), query string or fragment, where a
 * secret may hide. A value that is not a URL keeps only what precedes any `?`/`#`, with any
 * `…@` before the host dropped. Pure; never throws.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const hidden = parsed.username || parsed.password || parsed.search || parsed.hash;
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return hidden ? `${parsed.href}` : url;
  } catch {
    return url.replace(/[?#].*$/s, '').replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@]*@/i, '$1');
  }
}

/** Every URL-looking substring of `text` redacted with {@link redactUrl} (for error messages). */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi, (match) => redactUrl(match));
}

/**
 * The thresholds of the data-quality gates the fetcher evaluates after parsing and before any
 * write (see docs/architecture.md, "Trust boundary"). A cumulative value (cases, deaths) trips
 * a gate only when it falls by more than *both* its ratio and its absolute allowance, so small
 * counts' noise and real publisher revisions pass.
 */
export const QualityGates = z.strictObject({
  /** Loaded dates that may be missing from a new snapshot (0: none). */
  maxMissingDates: z.number().check(z.int(), z.nonnegative()),
  /** Day-to-day fall of a cumulative series inside the snapshot, as a share of the previous day. */
  cumulativeFallRatio: z.number().check(z.nonnegative()),
  /** … and in absolute numbers. */
  cumulativeFallAbsolute: z.number().check(z.int(), z.nonnegative()),
  /** Downward revision of a loaded cumulative value, as a share of the loaded value. */
  revisedDownRatio: z.number().check(z.nonnegative()),
  /** … and in absolute numbers. */
  revisedDownAbsolute: z.number().check(z.int(), z.nonnegative()),
  /** Largest share (0..1) of the loaded dates whose values one run may change. */
  maxRevisedShare: z.number().check(z.gte(0), z.lte(1)),
});
export type QualityGates = z.infer<typeof QualityGates>;

/**
 * Defaults that the real snapshots in ../shared/data pass when loaded in date order (the
 * national files, and every state's series of the states files): NYT revised half of the
 * loaded history in three weeks of 2020 and 61% between 2020-06-25 and 2023-03-23, and state
 * series fell by up to 27% (Puerto Rico, 337 cases) or 7,757 cases (Massachusetts, 6%) in a day.
 */
export const DEFAULT_QUALITY_GATES: QualityGates = {
  maxMissingDates: 0,
  cumulativeFallRatio: 0.1,
  cumulativeFallAbsolute: 1000,
  revisedDownRatio: 0.05,
  revisedDownAbsolute: 1000,
  maxRevisedShare: 0.75,
};

/** The gates a snapshot can trip (`missing-geographies`: states and counties only). */
export const GateName = z.enum([
  'last-date',
  'missing-dates',
  'missing-geographies',
  'cumulative-fall',
  'revised-down',
  'revised-share',
]);
export type GateName = z.infer<typeof GateName>;

/** One tripped gate, with the figures a person needs to decide. */
export const GateTrip = z.object({ gate: GateName, message: z.string().check(z.minLength(1)) });
export type GateTrip = z.infer<typeof GateTrip>;

/** An operator's decision on a HELD run (`etl approve` / `etl reject`), carried by the fetcher's input. */
export const RunDecision = z.object({
  runId: RunId,
  action: z.enum(['approve', 'reject']),
  /** Who or what decided, for the ledger (e.g. the operator's user name). */
  by: z.optional(z.string().check(z.maxLength(200))),
});
export type RunDecision = z.infer<typeof RunDecision>;
