/**
 * CSV builders for the source files, and a chunked stream to exercise streaming boundaries.
 * Values are written as given (strings or numbers), so malformed values are easy to build.
 */

type Value = string | number;

/** How a built file is laid out. */
export interface CsvLayout {
  /** Line ending, `\n` unless told. */
  eol?: '\n' | '\r\n';
  /** Start with a UTF-8 byte order mark. */
  bom?: boolean;
  /** Blank lines appended after the last row. */
  trailingBlankLines?: number;
  /** Replace the header line (e.g. to rename, reorder or drop a column). */
  header?: string;
}

/** One NYT `us.csv` row. */
export interface NytCsvRow {
  date: Value;
  cases: Value;
  deaths: Value;
}

/** One JHU combined time-series row; country defaults to `US`, province to empty (the national series). */
export interface JhuCsvRow {
  date: Value;
  recovered: Value;
  country?: string;
  province?: string;
  confirmed?: Value;
  deaths?: Value;
  lat?: Value;
  long?: Value;
}

/** An NYT `us.csv` body: `date,cases,deaths` then one line per row. */
export function nytCsv(rows: NytCsvRow[], layout: CsvLayout = {}): string {
  return layOut(
    layout.header ?? 'date,cases,deaths',
    rows.map((row) => [row.date, row.cases, row.deaths].map(csvField).join(',')),
    layout,
  );
}

/**
 * A JHU `time-series-19-covid-combined.csv` body, with the Lat and Long columns (as in the
 * 2020 snapshots) when `latLong` is true, without them (as from 2021) otherwise.
 */
export function jhuCsv(rows: JhuCsvRow[], options: CsvLayout & { latLong?: boolean } = {}): string {
  const latLong = options.latLong ?? false;
  const header = latLong
    ? 'Date,Country/Region,Province/State,Lat,Long,Confirmed,Recovered,Deaths'
    : 'Date,Country/Region,Province/State,Confirmed,Recovered,Deaths';
  const lines = rows.map((row) => {
    const place = [row.date, row.country ?? 'US', row.province ?? ''];
    const position = latLong ? [row.lat ?? '40.0', row.long ?? '-100.0'] : [];
    const counts = [row.confirmed ?? 0, row.recovered, row.deaths ?? 0];
    return [...place, ...position, ...counts].map(csvField).join(',');
  });
  return layOut(options.header ?? header, lines, options);
}

/** Consecutive dates from `first` (YYYY-MM-DD), `count` of them. */
export function dateRange(first: string, count: number): string[] {
  const start = Date.parse(`${first}T00:00:00Z`);
  return Array.from({ length: count }, (_, day) => new Date(start + day * 86_400_000).toISOString().slice(0, 10));
}

/**
 * `text` as an async stream of small chunks, to exercise chunk boundaries: UTF-8 bytes by
 * default (a chunk may end inside a multi-byte character, a CRLF or the BOM), or strings.
 */
export async function* toStream(
  text: string,
  options: { chunkSize?: number; as?: 'bytes' | 'string' } = {},
): AsyncGenerator<Uint8Array | string> {
  const size = options.chunkSize ?? 7;
  if (options.as === 'string') {
    for (let start = 0; start < text.length; start += size) yield text.slice(start, start + size);
    return;
  }
  const bytes = new TextEncoder().encode(text);
  for (let start = 0; start < bytes.length; start += size) yield bytes.slice(start, start + size);
}

function layOut(header: string, lines: string[], layout: CsvLayout): string {
  const eol = layout.eol ?? '\n';
  const body = [header, ...lines].map((line) => `${line}${eol}`).join('');
  return `${layout.bom ? '\uFEFF' : ''}${body}${eol.repeat(layout.trailingBlankLines ?? 0)}`;
}

function csvField(value: Value): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
