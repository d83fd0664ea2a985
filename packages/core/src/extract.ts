import type { JhuRawRow, NytRawRow, SourceId } from '@covid-etl/contracts';
import { type CsvRecord, CsvSyntaxError, scanCsv } from './csv-scan.js';
import { DATE_FORMAT_SAMPLE_ROWS, EXPECTED_DATE_FORMAT, otherDateFormat } from './date-format.js';
import { StructuralError } from './errors.js';
import { QUOTE_LIMIT, quote, truncate } from './text.js';

/** What the extractors read: a byte or text stream (a file, an HTTP body, test chunks). */
export type CsvInput = AsyncIterable<Uint8Array | string>;

/** The NYT `us.csv` columns the pipeline reads, by header name. */
export const NYT_COLUMNS = { date: 'date', cases: 'cases', deaths: 'deaths' } as const;

/** The JHU combined time-series columns the pipeline reads, by header name (others are ignored). */
export const JHU_COLUMNS = {
  date: 'Date',
  country: 'Country/Region',
  province: 'Province/State',
  recovered: 'Recovered',
} as const;

/** Longest CSV record accepted (bytes of UTF-8, so characters for ASCII): a source row is under 100; anything near this is not CSV. */
export const MAX_RECORD_CHARS = 10_000;

/** How one kind of CSV file is read: its source, the columns it needs and what a data record becomes. */
export interface CsvSpec<K extends string, Row> {
  source: SourceId;
  /** The file's label, named by every StructuralError instead of the source (e.g. `us-counties.csv`). */
  file?: string;
  columns: Record<K, string> & { date: string };
  /** Turns a data record into a row, or undefined to drop it (JHU: not US-national). */
  toRow(record: CsvRecord, at: Record<K, number>): Row | undefined;
}

const NYT_SPEC: CsvSpec<keyof typeof NYT_COLUMNS, NytRawRow> = {
  source: 'nyt',
  columns: NYT_COLUMNS,
  toRow: (record, at) => ({
    line: record.line,
    date: record.trimmed(at.date),
    cases: record.trimmed(at.cases),
    deaths: record.trimmed(at.deaths),
  }),
};

const JHU_SPEC: CsvSpec<keyof typeof JHU_COLUMNS, JhuRawRow> = {
  source: 'jhu',
  columns: JHU_COLUMNS,
  // Compared as bytes: only the kept rows (the US national series) become strings.
  toRow: (record, at) =>
    record.trimmedEquals(at.country, 'US') && record.trimmedEquals(at.province, '')
      ? { line: record.line, date: record.trimmed(at.date), recovered: record.trimmed(at.recovered) }
      : undefined,
};
/**
 * Streams the rows of an NYT `us.csv` (`date,cases,deaths`, columns found by header name, in
 * any order, extra columns ignored). Values are the raw strings, trimmed; `line` is the 1-based
 * physical line in the file (header = line 1), right with CRLF, a BOM and blank lines.
 * Memory stays flat whatever the file size.
 *
 * Throws {@link StructuralError} when the source is unusable: empty, no data rows, an HTML page
 * or other non-CSV body, a required column missing or renamed, broken quoting or a row whose
 * field count differs from the header's. The error may come after rows were yielded: a consumer
 * must then discard the whole source. Errors of the input stream itself pass through unchanged.
 */
export function extractNytRows(input: CsvInput): AsyncGenerator<NytRawRow> {
  return extractRows(input, NYT_SPEC);
}

/**
 * Streams the US-national rows (`Country/Region` = `US`, empty `Province/State`) of the JHU
 * combined time series, with the `Date` and `Recovered` values as raw trimmed strings. Columns
 * are found by header name (Lat/Long present or not, any order, extras ignored); `line` is the
 * physical line in the whole file. Same guarantees and {@link StructuralError}s as
 * {@link extractNytRows}, plus one when the file holds no US-national row at all.
 */
export async function* extractJhuRows(input: CsvInput): AsyncGenerator<JhuRawRow> {
  let rows = 0;
  for await (const row of extractRows(input, JHU_SPEC)) {
    rows++;
    yield row;
  }
  if (rows === 0) {
    throw new StructuralError({
      source: 'jhu',
      reason: `no US national row found; expected rows with ${JHU_COLUMNS.country} "US" and an empty ${JHU_COLUMNS.province}`,
    });
  }
}

/**
 * The shared streaming reader behind every extractor: header by name, field counts, HTML and
 * date-format refusal, CSV syntax errors, all as {@link StructuralError}s; `spec.toRow` decides
 * what each data record yields.
 */
export async function* extractRows<K extends string, Row>(input: CsvInput, spec: CsvSpec<K, Row>): AsyncGenerator<Row> {
  try {
    const { source } = spec;
    let at: Record<K, number> | undefined;
    let header: string[] = [];
    let dataRows = 0;
    // The first data rows' dates in a recognised non-ISO format, to refuse the whole column at once.
    const otherFormats: { line: number; value: string; format: string }[] = [];

    // Every record is tokenized and its field count checked; only the fields a row keeps are decoded.
    const onRecord = (record: CsvRecord): Row | undefined => {
      if (record.isBlank()) return undefined; // a line of blanks
      if (at === undefined) {
        header = Array.from({ length: record.count }, (_, index) => record.trimmed(index));
        at = resolveHeader(header, spec, record.line);
        return undefined;
      }
      if (record.count !== header.length) {
        throw new StructuralError({
          source,
          line: record.line,
          reason: `found ${record.count} fields; expected ${header.length} like the header (${quote(header.join(','))})`,
        });
      }
      dataRows++;
      if (dataRows <= DATE_FORMAT_SAMPLE_ROWS) {
        const value = record.trimmed((at as Record<string, number>).date as number);
        const format = otherDateFormat(value);
        if (format) otherFormats.push({ line: record.line, value, format });
        if (dataRows === DATE_FORMAT_SAMPLE_ROWS) refuseOtherDateFormat(otherFormats, dataRows, spec);
      }
      return spec.toRow(record, at);
    };

    try {
      yield* scanCsv(refuseHtml(input, source), { maxRecordBytes: MAX_RECORD_CHARS }, onRecord);
    } catch (error) {
      if (error instanceof CsvSyntaxError) throw csvErrorToStructural(error, source, header);
      throw error;
    }

    if (at === undefined) {
      throw new StructuralError({
        source,
        line: 1,
        reason: `the file is empty; expected a header line such as "${Object.values<string>(spec.columns).join(',')}"`,
      });
    }
    if (dataRows === 0) {
      throw new StructuralError({
        source,
        reason: 'the file has a header but no data rows; expected one row per day',
      });
    }
    if (dataRows < DATE_FORMAT_SAMPLE_ROWS) refuseOtherDateFormat(otherFormats, dataRows, spec);
  } catch (error) {
    throw spec.file !== undefined && error instanceof StructuralError && error.file === undefined
      ? new StructuralError(
          {
            source: error.source,
            file: spec.file,
            ...(error.line === undefined ? {} : { line: error.line }),
            ...(error.column === undefined ? {} : { column: error.column }),
            reason: error.reason,
          },
          { cause: error },
        )
      : error;
  }
}

/**
 * A date column written in another format (every sampled row in the same recognised format,
 * e.g. `30/03/2020`) is one structural failure naming the format found and the one expected,
 * not one rejected row per line.
 */
function refuseOtherDateFormat(
  found: readonly { line: number; value: string; format: string }[],
  sampled: number,
  spec: CsvSpec<string, unknown>,
): void {
  const first = found[0];
  if (!first || found.length < sampled || found.some((entry) => entry.format !== first.format)) return;
  const column = spec.columns.date;
  throw new StructuralError({
    source: spec.source,
    line: first.line,
    column,
    reason: `column "${column}" is written as ${first.format} (e.g. ${quote(first.value)}); expected ${EXPECTED_DATE_FORMAT}, such as 2020-03-30`,
  });
}

function resolveHeader<K extends string>(header: string[], spec: CsvSpec<K, unknown>, line: number): Record<K, number> {
  const at = {} as Record<K, number>;
  const found = `found columns: ${header.length > 20 ? `${header.slice(0, 20).join(', ')}, …` : header.join(', ')}`;
  for (const [key, name] of Object.entries(spec.columns) as [K, string][]) {
    const index = header.indexOf(name);
    if (index === -1) {
      throw new StructuralError({
        source: spec.source,
        line,
        column: name,
        reason: `required column "${name}" is missing (${truncate(found, 400)})`,
      });
    }
    if (header.indexOf(name, index + 1) !== -1) {
      throw new StructuralError({
        source: spec.source,
        line,
        column: name,
        reason: `column "${name}" appears more than once; expected it once (${truncate(found, 400)})`,
      });
    }
    at[key] = index;
  }
  return at;
}

function csvErrorToStructural(error: CsvSyntaxError, source: SourceId, header: string[]): StructuralError {
  const column = header[error.field];
  let reason: string;
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      reason =
        'a quoted field opened here is never closed; expected a closing double quote (the body is not valid CSV)';
      break;
    case 'INVALID_OPENING_QUOTE':
      reason =
        'found a double quote inside an unquoted field; expected quotes only around whole fields (the body is not valid CSV)';
      break;
    case 'CSV_INVALID_CLOSING_QUOTE':
      reason =
        'found characters after a closing double quote; expected a comma or the end of the line (the body is not valid CSV)';
      break;
    case 'CSV_MAX_RECORD_SIZE':
      reason = `found a record longer than ${MAX_RECORD_CHARS} bytes; expected short CSV lines (the body is not CSV)`;
      break;
  }
  return new StructuralError(
    { source, line: error.line, ...(column === undefined ? {} : { column }), reason },
    { cause: error },
  );
}

/**
 * Passes the input through, but first looks at its start: an HTML page (an error page served
 * instead of the file) is refused with a clear message rather than a quoting error.
 */
async function* refuseHtml(input: CsvInput, source: SourceId): AsyncGenerator<Uint8Array | string> {
  const head: (Uint8Array | string)[] = [];
  const decoder = new TextDecoder();
  let text = '';
  let checked = false;
  for await (const chunk of input) {
    if (checked) {
      yield chunk;
      continue;
    }
    head.push(chunk);
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (text.replace(/^\uFEFF/, '').trimStart().length >= QUOTE_LIMIT) {
      checkNotHtml(text, source);
      checked = true;
      yield* head;
      head.length = 0;
    }
  }
  if (!checked) {
    checkNotHtml(text, source);
    yield* head;
  }
}

function checkNotHtml(text: string, source: SourceId): void {
  const body = text.replace(/^\uFEFF/, '');
  const start = body.trimStart();
  if (!start.startsWith('<')) return;
  const line = 1 + (body.slice(0, body.length - start.length).match(/\r\n|\r|\n/g)?.length ?? 0);
  const firstLine = start.split(/\r?\n/, 1)[0] ?? '';
  throw new StructuralError({
    source,
    line,
    reason: `the body is not CSV but looks like an HTML page (it starts with ${quote(firstLine)}); expected a CSV header line`,
  });
}
