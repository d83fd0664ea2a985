import type { JhuRawRow, NytRawRow, RejectedRow, SeriesRecord, SourceId } from '@covid-etl/contracts';
import { chunkRawByMonth, type RawMonthChunk } from './chunk.js';
import { type CsvInput, extractJhuRows, extractNytRows, JHU_COLUMNS, NYT_COLUMNS } from './extract.js';
import { isValidDate, type RowValidation, validateJhuRow, validateNytRow } from './validate.js';

/** Dates found in only one source: not rejections, just not joinable. */
export interface UnmatchedDates {
  nytOnly: string[];
  jhuOnly: string[];
}

/** What {@link transformChunk} makes of a month's raw rows. */
export interface ChunkTransformResult {
  records: SeriesRecord[];
  rejected: RejectedRow[];
  unmatched: UnmatchedDates;
}

/**
 * Validates every row of a chunk, rejects the second and later rows of a date already seen in
 * the same source (naming the first one's line), and joins the sources on date: cases and
 * deaths from NYT, recoveries from JHU, only for dates both sources have. Records come sorted
 * by date; rejections in source then line order; dates present in one source only are listed
 * in `unmatched`. Pure and deterministic.
 */
export function transformChunk(chunk: { nyt: NytRawRow[]; jhu: JhuRawRow[] }): ChunkTransformResult {
  const rejected: RejectedRow[] = [];
  const nyt = validRowsByDate('nyt', NYT_COLUMNS.date, chunk.nyt, validateNytRow, rejected);
  const jhu = validRowsByDate('jhu', JHU_COLUMNS.date, chunk.jhu, validateJhuRow, rejected);

  const records: SeriesRecord[] = [];
  const nytOnly: string[] = [];
  for (const [date, day] of nyt) {
    const jhuDay = jhu.get(date);
    if (jhuDay) records.push({ date, cases: day.cases, deaths: day.deaths, recovered: jhuDay.recovered });
    else nytOnly.push(date);
  }
  const jhuOnly = [...jhu.keys()].filter((date) => !nyt.has(date));
  return {
    records: records.sort((a, b) => compare(a.date, b.date)),
    rejected,
    unmatched: { nytOnly: nytOnly.sort(compare), jhuOnly: jhuOnly.sort(compare) },
  };
}

/** What {@link transformSources} makes of two whole files. */
export interface SourcesTransformResult extends ChunkTransformResult {
  /** The month chunks the records came from, in month order. */
  chunks: RawMonthChunk[];
}

/**
 * Whole files in one call: extracts both sources (NYT first, then JHU), groups the rows by
 * month and transforms each month, concatenating the results (records in date order).
 * Throws the extractors' {@link StructuralError}s. Holds only the kept rows in memory
 * (the US-national series), never the files.
 */
export async function transformSources(nytInput: CsvInput, jhuInput: CsvInput): Promise<SourcesTransformResult> {
  const nyt = await collect(extractNytRows(nytInput));
  const jhu = await collect(extractJhuRows(jhuInput));
  const chunks = chunkRawByMonth(nyt, jhu);
  const result: SourcesTransformResult = { records: [], rejected: [], unmatched: { nytOnly: [], jhuOnly: [] }, chunks };
  for (const chunk of chunks) {
    const part = transformChunk(chunk);
    result.records.push(...part.records);
    result.rejected.push(...part.rejected);
    result.unmatched.nytOnly.push(...part.unmatched.nytOnly);
    result.unmatched.jhuOnly.push(...part.unmatched.jhuOnly);
  }
  return result;
}

/** The valid rows of one source by date (first occurrence only); rejections go to `rejected`. */
function validRowsByDate<Raw extends { line: number; date: string }, Day>(
  source: SourceId,
  dateColumn: string,
  rows: readonly Raw[],
  validate: (raw: Raw) => RowValidation<Day>,
  rejected: RejectedRow[],
): Map<string, Day> {
  const firstLine = new Map<string, number>();
  const valid = new Map<string, Day>();
  for (const raw of rows) {
    if (isValidDate(raw.date)) {
      const first = firstLine.get(raw.date);
      if (first !== undefined) {
        rejected.push({
          source,
          line: raw.line,
          column: dateColumn,
          value: raw.date,
          reason: `${dateColumn} "${raw.date}" is duplicated: line ${first} already has it; expected one row per date (the first is kept)`,
        });
        continue;
      }
      firstLine.set(raw.date, raw.line);
    }
    const result = validate(raw);
    if (result.ok) valid.set(raw.date, result.value);
    else rejected.push(result.rejected);
  }
  return valid;
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
