import type { SourceId } from '@covid-etl/contracts';

/** What a {@link StructuralError} knows about where the source went wrong. */
export interface StructuralErrorDetails {
  source: SourceId;
  /** The file's label when the source has several files (e.g. `us-counties.csv`); messages name it instead of the source. */
  file?: string;
  /** 1-based physical line number in the source file (the header is line 1), when known. */
  line?: number;
  /** The column concerned, by header name, when known. */
  column?: string;
  /** What was found and what was expected, e.g. `required column "deaths" is missing (found columns: date, cases, death)`. */
  reason: string;
}

/**
 * The whole source is unusable (empty, not CSV, a required column missing or renamed, broken
 * quoting, ...): nothing of it may be loaded. Permanent: retrying the same bytes fails again.
 * The message reads `<source or file> line <n>: <reason>`.
 */
export class StructuralError extends Error {
  readonly source: SourceId;
  readonly file?: string;
  readonly line?: number;
  readonly column?: string;
  readonly reason: string;

  constructor(details: StructuralErrorDetails, options?: ErrorOptions) {
    super(
      `${details.file ?? details.source}${details.line === undefined ? '' : ` line ${details.line}`}: ${details.reason}`,
      options,
    );
    this.name = 'StructuralError';
    this.source = details.source;
    if (details.file !== undefined) this.file = details.file;
    if (details.line !== undefined) this.line = details.line;
    if (details.column !== undefined) this.column = details.column;
    this.reason = details.reason;
  }
}

/**
 * A month chunk serialises to more than the queue message budget: it cannot be sent as one
 * message. Permanent (the same rows give the same size); it means a source grew rows far
 * beyond one per day.
 */
export class ChunkTooLargeError extends Error {
  readonly month: string;
  readonly bytes: number;
  readonly limit: number;

  constructor(month: string, bytes: number, limit: number, options?: ErrorOptions) {
    super(
      `month ${month}: the chunk message would be ${bytes} bytes; expected at most ${limit} bytes (SQS accepts 256 KiB)`,
      options,
    );
    this.name = 'ChunkTooLargeError';
    this.month = month;
    this.bytes = bytes;
    this.limit = limit;
  }
}
