import { pipeline, Readable } from 'node:stream';
import type { JhuRawRow, NytRawRow, SourceId } from '@covid-etl/contracts';
import { CsvError, type InfoRecord, type Options, parse } from 'csv-parse';
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

/** Longest CSV record accepted (characters): a source row is under 100; anything near this is not CSV. */
export const MAX_RECORD_CHARS = 10_000;

interface CsvSpec<K extends string, Row> {
  source: SourceId;
  columns: Record<K, string>;
  /** Turns a data record into a row, or null to drop it (JHU: not US-national). */
  toRow(record: string[], at: Record<K, number>, line: number): Row | null;
}

const NYT_SPEC: CsvSpec<keyof typeof NYT_COLUMNS, NytRawRow> = {
  source: 'nyt',
  columns: NYT_COLUMNS,
  toRow: (record, at, line) => ({
    line,
    date: field(record, at.date),
    cases: field(record, at.cases),
    deaths: field(record, at.deaths),
  }),
};

const JHU_SPEC: CsvSpec<keyof typeof JHU_COLUMNS, JhuRawRow> = {
  source: 'jhu',
  columns: JHU_COLUMNS,
  toRow: (record, at, line) =>
    field(record, at.country) === 'US' && field(record, at.province) === ''
      ? { line, date: field(record, at.date), recovered: field(record, at.recovered) }
      : null,
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

async function* extractRows<K extends string, Row>(input: CsvInput, spec: CsvSpec<K, Row>): AsyncGenerator<Row> {
  const { source } = spec;
  let at: Record<K, number> | undefined;
  let header: string[] = [];
  let previousEnd = 0;
  let previousEmpty = 0;
  let dataRows = 0;

  // csv-parse tells, for each record, the physical line it ends on and how many empty lines it
  // skipped so far: the record starts right after the previous one plus the empty lines between.
  const onRecord = (record: string[], context: InfoRecord): Row | null => {
    const line = previousEnd + 1 + (context.empty_lines - previousEmpty);
    previousEnd = context.lines;
    previousEmpty = context.empty_lines;
    if (record.length === 1 && (record[0] ?? '').trim() === '') return null; // a line of blanks
    if (at === undefined) {
      header = record.map((name) => name.trim());
      at = resolveHeader(header, spec, line);
      return null;
    }
    if (record.length !== header.length) {
      throw new StructuralError({
        source,
        line,
        reason: `found ${record.length} fields; expected ${header.length} like the header (${quote(header.join(','))})`,
      });
    }
    dataRows++;
    return spec.toRow(record, at, line);
  };

  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    // The field count is checked in onRecord, to skip lines of blanks and word the error.
    relax_column_count: true,
    max_record_size: MAX_RECORD_CHARS,
    // csv-parse's types assume on_record returns the same array type it was given.
    on_record: onRecord as unknown as Options['on_record'],
  });
  pipeline(Readable.from(refuseHtml(input, source)), parser, () => {
    // Errors reach the consumer through the parser's iterator.
  });

  try {
    for await (const row of parser as AsyncIterable<Row>) yield row;
  } catch (error) {
    if (error instanceof CsvError) {
      const recordStart = previousEnd + 1 + (parser.info.empty_lines - previousEmpty);
      throw csvErrorToStructural(error, source, header, recordStart);
    }
    throw error;
  } finally {
    parser.destroy();
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
}

/** The trimmed value of a field (the field count is checked before). */
function field(record: string[], index: number): string {
  return (record[index] ?? '').trim();
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

function csvErrorToStructural(
  error: CsvError,
  source: SourceId,
  header: string[],
  recordStart: number,
): StructuralError {
  const columnIndex = typeof error.column === 'number' ? error.column : undefined;
  const column = columnIndex === undefined ? undefined : header[columnIndex];
  const lines = typeof error.lines === 'number' ? error.lines : undefined;
  let line = lines;
  let reason: string;
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      line = recordStart;
      reason =
        'a quoted field opened here is never closed; expected a closing double quote (the body is not valid CSV)';
      break;
    case 'INVALID_OPENING_QUOTE':
      reason =
        'found a double quote inside an unquoted field; expected quotes only around whole fields (the body is not valid CSV)';
      break;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      reason =
        'found characters after a closing double quote; expected a comma or the end of the line (the body is not valid CSV)';
      break;
    case 'CSV_MAX_RECORD_SIZE':
      reason = `found a record longer than ${MAX_RECORD_CHARS} characters; expected short CSV lines (the body is not CSV)`;
      break;
    default:
      reason = `the body is not valid CSV (${error.message})`;
  }
  return new StructuralError(
    { source, ...(line === undefined ? {} : { line }), ...(column === undefined ? {} : { column }), reason },
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
