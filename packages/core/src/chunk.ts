import { createHash } from 'node:crypto';
import { type JhuRawRow, Month, type NytRawRow, type SourceId, type TransformChunkMessage } from '@covid-etl/contracts';
import { ChunkTooLargeError, StructuralError } from './errors.js';

/** The raw rows of both sources for one calendar month, with their content hash. */
export interface RawMonthChunk {
  /** `YYYY-MM`. */
  month: string;
  /** {@link chunkHash} of the month's rows. */
  hash: string;
  nyt: NytRawRow[];
  jhu: JhuRawRow[];
}

/**
 * Largest serialised chunk message, in bytes (JSON, UTF-8): 200 KB, well under the 256 KiB
 * SQS limit, leaving room for the envelope.
 */
export const MAX_CHUNK_BYTES = 200 * 1024;

/** Version tag of the canonical serialisation behind {@link chunkHash}: change it and every month reloads. */
const HASH_FORMAT = 'covid-etl/raw-month/v1';

/**
 * Groups the raw rows of both sources by calendar month, months in ascending order, rows in
 * file order. A row's month is the `YYYY-MM` prefix of its date when that is a valid month;
 * a row without one goes with the previous row of its source (files are date-ordered), or the
 * next one when it comes first, so the transformer can reject it with its line number.
 * Pure and deterministic. Throws {@link StructuralError} when a source has rows but none with a
 * usable month.
 */
export function chunkRawByMonth(nyt: NytRawRow[], jhu: JhuRawRow[]): RawMonthChunk[] {
  const byMonth = new Map<string, { nyt: NytRawRow[]; jhu: JhuRawRow[] }>();
  const slot = (month: string) => {
    let rows = byMonth.get(month);
    if (!rows) {
      rows = { nyt: [], jhu: [] };
      byMonth.set(month, rows);
    }
    return rows;
  };
  const nytMonths = monthsOf(nyt, 'nyt');
  nyt.forEach((row, index) => {
    slot(nytMonths[index] as string).nyt.push(row);
  });
  const jhuMonths = monthsOf(jhu, 'jhu');
  jhu.forEach((row, index) => {
    slot(jhuMonths[index] as string).jhu.push(row);
  });
  return [...byMonth.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([month, rows]) => ({ month, hash: chunkHash({ month, ...rows }), ...rows }));
}

/**
 * SHA-256 (lowercase hex) of a canonical serialisation of a month's rows: the month, then each
 * source's values in file order. Line numbers are left out, so days added to other months do
 * not change it; any revised value, added, removed or reordered row does.
 */
export function chunkHash(chunk: { month: string; nyt: readonly NytRawRow[]; jhu: readonly JhuRawRow[] }): string {
  const canonical = JSON.stringify([
    HASH_FORMAT,
    chunk.month,
    chunk.nyt.map((row) => [row.date, row.cases, row.deaths]),
    chunk.jhu.map((row) => [row.date, row.recovered]),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * Returns the size in bytes of the chunk as a `TransformChunkMessage` (JSON, UTF-8, with the
 * longest run id), and throws {@link ChunkTooLargeError} when that exceeds
 * {@link MAX_CHUNK_BYTES}.
 */
export function assertChunkSize(chunk: RawMonthChunk): number {
  const message: TransformChunkMessage = {
    version: 1,
    runId: 'm-00000000T000000Z-000000',
    month: chunk.month,
    hash: chunk.hash,
    nyt: chunk.nyt,
    jhu: chunk.jhu,
  };
  const bytes = Buffer.byteLength(JSON.stringify(message), 'utf8');
  if (bytes > MAX_CHUNK_BYTES) throw new ChunkTooLargeError(chunk.month, bytes, MAX_CHUNK_BYTES);
  return bytes;
}

/** The month of each row: its own when its date starts with a valid month, else its neighbour's. */
function monthsOf(rows: readonly { date: string }[], source: SourceId): string[] {
  const own = rows.map((row) => {
    const prefix = row.date.slice(0, 7);
    return Month.safeParse(prefix).success ? prefix : undefined;
  });
  const firstKnown = own.find((month) => month !== undefined);
  if (rows.length > 0 && firstKnown === undefined) {
    throw new StructuralError({
      source,
      reason: `none of the ${rows.length} rows has a date starting with a month; expected dates as YYYY-MM-DD`,
    });
  }
  let previous = firstKnown as string;
  return own.map((month) => {
    if (month !== undefined) previous = month;
    return previous;
  });
}
