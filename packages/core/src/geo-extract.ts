import {
  formatChunkKey,
  type GeoLevel,
  type GeoRecord,
  type GeoRejectedRow,
  SPECIAL_COUNTIES,
  type SpecialCounty,
  type StateInfo,
  stateByName,
} from '@covid-etl/contracts';
import type { CsvRecord } from './csv-scan.js';
import { StructuralError } from './errors.js';
import { type CsvInput, type CsvSpec, extractRows } from './extract.js';
import { quote, truncate } from './text.js';
import { checkDate, parseCount } from './validate.js';

/** The columns of the NYT `us-states.csv`, by header name. */
export const STATES_COLUMNS = { date: 'date', state: 'state', fips: 'fips', cases: 'cases', deaths: 'deaths' } as const;

/** The columns of the NYT `us-counties.csv` and `us-counties-recent.csv`, by header name. */
export const COUNTIES_COLUMNS = {
  date: 'date',
  county: 'county',
  state: 'state',
  fips: 'fips',
  cases: 'cases',
  deaths: 'deaths',
} as const;

/** Which of the publisher's files: one row per state and day, or one row per county and day. */
export type GeoFileKind = 'states' | 'counties';

/** The geography level the rows of a file kind belong to. */
export const LEVEL_OF_FILE: Record<GeoFileKind, Exclude<GeoLevel, 'nation'>> = { states: 'state', counties: 'county' };

/** What {@link extractGeoRows} yields for each data row: a valid record or a rejection. */
export type GeoRowResult =
  | {
      ok: true;
      record: GeoRecord;
      /** On the first valid row of each geography: the publisher's name of it (`Harris`, `New York City`, `Texas`). */
      name?: string;
    }
  | { ok: false; rejected: GeoRejectedRow };

export interface GeoExtractOptions {
  kind: GeoFileKind;
  /** The file's label in rejections and errors, e.g. `us-counties.csv` (never a URL with secrets). */
  file: string;
}

/** One line for people: `us-counties.csv line 12, column cases: cases "-1" is negative; expected …`. */
export function describeGeoRejection(row: GeoRejectedRow): string {
  return `${row.file} line ${row.line}, column ${row.column}: ${row.reason}`.replace(/[\r\n]+/g, ' ');
}

/** Longest raw value kept in a rejection. */
const MAX_REJECTED_VALUE_CHARS = 100;

/**
 * Streams a NYT states or counties file (`us-states.csv`; `us-counties.csv` or
 * `us-counties-recent.csv`) with the byte scanner, and yields one result per data row, in file
 * order: a {@link GeoRecord} keyed by geography id (with the publisher's name of the geography
 * on its first row), or a rejection naming file, line, column, value and reason. No data row is dropped without a rejection. Memory holds one input batch
 * plus a line index of (geography, day) for the duplicate check (~4 bytes per day of each
 * series: ~15 MB for the full county file), never the file.
 *
 * Row rules: `date` is a real `YYYY-MM-DD`; `state` is a state or territory the publisher
 * names (`stateByName`); `fips` is the state's 2-digit code (states) or a 5-digit code whose
 * first two digits are the state's (counties); a county row without a fips is one of the
 * publisher's areas without a code (`Unknown` in any state, `New York City`, `Kansas City`,
 * `Joplin`: ids `36-unknown`, `36-nyc`, `29-kansas-city`, `29-joplin`); `cases` is a whole
 * number >= 0; `deaths` is a whole number >= 0 or empty (county files: "not reported", kept as
 * null); a second row of the same geography and date is rejected, naming the first one's line.
 *
 * Throws {@link StructuralError} (with the file's label) when the file is unusable: empty, not
 * CSV, a required column missing, a row with another field count, the date column in another
 * format. The error may come after rows were yielded: the consumer discards the whole file.
 */
export function extractGeoRows(input: CsvInput, options: GeoExtractOptions): AsyncGenerator<GeoRowResult> {
  return extractRows(input, new GeoRowReader(options).spec);
}

/** A date's validation and day number, cached: a county file has ~1,100 distinct dates in 3.5 M rows. */
interface DateInfo {
  /** The date as first read (one string per distinct date, shared by its records). */
  date: string;
  problem: string | undefined;
  /** Days since 1970-01-01 (UTC), when valid. */
  day: number;
}

class GeoRowReader {
  readonly spec: CsvSpec<string, GeoRowResult>;
  private readonly file: string;
  private readonly kind: GeoFileKind;
  private readonly level: Exclude<GeoLevel, 'nation'>;
  private readonly dates = new Map<string, DateInfo>();
  private readonly seen = new Map<string, LineIndex>();

  constructor(options: GeoExtractOptions) {
    this.file = options.file;
    this.kind = options.kind;
    this.level = LEVEL_OF_FILE[options.kind];
    const columns = options.kind === 'states' ? STATES_COLUMNS : COUNTIES_COLUMNS;
    this.spec = {
      source: 'nyt',
      file: options.file,
      columns,
      toRow: (record, at) => this.toResult(record, at as Record<keyof typeof COUNTIES_COLUMNS, number>),
    };
  }

  private toResult(record: CsvRecord, at: Record<keyof typeof COUNTIES_COLUMNS, number>): GeoRowResult {
    const line = record.line;
    const dateInfo = this.dateInfo(record.trimmed(at.date));
    const date = dateInfo.date;
    const stateName = record.trimmed(at.state);
    const state = stateByName(stateName);

    if (dateInfo.problem !== undefined) return this.reject(line, dateInfo, state, 'date', date, dateInfo.problem);
    if (!state) {
      return this.reject(
        line,
        dateInfo,
        state,
        'state',
        stateName,
        stateName === ''
          ? 'state is empty; expected the name of a state or territory such as Texas'
          : `state ${quote(stateName)} is not a state or territory the publisher names; expected a name such as Texas or Virgin Islands`,
      );
    }
    const fips = record.trimmed(at.fips);
    let geo: string;
    if (this.kind === 'states') {
      if (fips !== state.fips) {
        return this.reject(
          line,
          dateInfo,
          state,
          'fips',
          fips,
          fips === ''
            ? `fips is empty; expected ${state.fips}, the code of ${state.name}`
            : `fips ${quote(fips)} does not match state ${quote(state.name)}; expected ${state.fips}`,
        );
      }
      geo = state.fips;
    } else {
      // The county name matters only for the rows without a code.
      const resolved = countyGeo(fips === '' ? record.trimmed(at.county) : '', fips, state);
      if ('reason' in resolved)
        return this.reject(line, dateInfo, state, resolved.column, resolved.value, resolved.reason);
      geo = resolved.geo;
    }

    const casesText = record.trimmed(at.cases);
    const cases = parseCount('cases', casesText);
    if (typeof cases === 'string') return this.reject(line, dateInfo, state, 'cases', casesText, cases);
    const deathsText = record.trimmed(at.deaths);
    let deaths: number | null = null;
    if (deathsText !== '' || this.kind === 'states') {
      const parsed = parseCount('deaths', deathsText);
      if (typeof parsed === 'string') return this.reject(line, dateInfo, state, 'deaths', deathsText, parsed);
      deaths = parsed;
    }

    let index = this.seen.get(geo);
    let name: string | undefined;
    if (!index) {
      index = new LineIndex();
      this.seen.set(geo, index);
      name = this.kind === 'states' ? state.name : record.trimmed(at.county);
    }
    const first = index.firstLine(dateInfo.day, line);
    if (first !== undefined) {
      return this.reject(
        line,
        dateInfo,
        state,
        'date',
        date,
        `${geo} on ${date} is duplicated: line ${first} already has it; expected one row per geography and date (the first is kept)`,
      );
    }
    const result: GeoRowResult = { ok: true, record: { geo, date, cases, deaths, line } };
    if (name !== undefined) result.name = name;
    return result;
  }

  /** A rejection of this file; it names its chunk when the row's state and month are readable. */
  private reject(
    line: number,
    date: DateInfo,
    state: StateInfo | undefined,
    column: string,
    value: string,
    reason: string,
  ): GeoRowResult {
    const chunk =
      state && date.problem === undefined
        ? formatChunkKey({ level: this.level, state: state.fips, month: date.date.slice(0, 7) })
        : undefined;
    return {
      ok: false,
      rejected: {
        file: this.file,
        line,
        column,
        value: truncate(value, MAX_REJECTED_VALUE_CHARS),
        reason,
        ...(chunk === undefined ? {} : { chunk }),
      },
    };
  }

  private dateInfo(date: string): DateInfo {
    let info = this.dates.get(date);
    if (!info) {
      const problem = checkDate('date', date);
      info = { date, problem, day: problem === undefined ? Date.parse(`${date}T00:00:00Z`) / 86_400_000 : 0 };
      if (this.dates.size < 100_000) this.dates.set(date, info);
    }
    return info;
  }
}

/** The special area (by county name) a row without fips may be, in its state. */
const SPECIAL_BY_COUNTY = new Map<string, SpecialCounty>(
  (Object.entries(SPECIAL_COUNTIES) as [SpecialCounty, (typeof SPECIAL_COUNTIES)[SpecialCounty]][]).map(
    ([suffix, area]) => [area.county, suffix],
  ),
);

const SPECIALS_TEXT = (Object.values(SPECIAL_COUNTIES) as { county: string; state: string | undefined }[])
  .map((area) => (area.state === undefined ? area.county : `${area.county} (FIPS ${area.state})`))
  .join(', ');

/** The geography id of a county row, or the column and reason it is rejected for. */
function countyGeo(
  county: string,
  fips: string,
  state: StateInfo,
): { geo: string } | { column: string; value: string; reason: string } {
  if (fips === '') {
    const special = SPECIAL_BY_COUNTY.get(county);
    const area = special === undefined ? undefined : SPECIAL_COUNTIES[special];
    if (special === undefined || area === undefined || (area.state !== undefined && area.state !== state.fips)) {
      return {
        column: 'fips',
        value: fips,
        reason: `fips is empty and county ${quote(county)} of ${state.name} is not one of the publisher's areas without a code (${SPECIALS_TEXT}); expected a 5-digit FIPS code`,
      };
    }
    return { geo: `${state.fips}-${special}` };
  }
  if (!/^\d{5}$/.test(fips)) {
    return {
      column: 'fips',
      value: fips,
      reason: `fips ${quote(fips)} is not a 5-digit county code; expected e.g. ${state.fips}001`,
    };
  }
  if (!fips.startsWith(state.fips)) {
    return {
      column: 'fips',
      value: fips,
      reason: `fips ${quote(fips)} is not in state ${quote(state.name)}; expected a code starting with ${state.fips}`,
    };
  }
  if (fips.endsWith('000')) {
    return {
      column: 'fips',
      value: fips,
      reason: `fips ${quote(fips)} is the state's own code; expected a county code`,
    };
  }
  return { geo: fips };
}

/**
 * The first line of each day of one series: an Int32Array indexed by day number from a base,
 * grown on either side as days arrive (0 = not seen). ~4 bytes per day of the series' span.
 */
class LineIndex {
  private base = 0;
  private lines = new Int32Array(0);

  /** The line that already has `day`, or undefined after recording `line` for it. */
  firstLine(day: number, line: number): number | undefined {
    if (this.lines.length === 0) {
      this.base = day - 32;
      this.lines = new Int32Array(128);
    }
    if (day < this.base) {
      const grow = Math.max(this.base - day, this.lines.length);
      const bigger = new Int32Array(this.lines.length + grow);
      bigger.set(this.lines, grow);
      this.lines = bigger;
      this.base -= grow;
    } else if (day - this.base >= this.lines.length) {
      const bigger = new Int32Array(Math.max(this.lines.length * 2, day - this.base + 1));
      bigger.set(this.lines);
      this.lines = bigger;
    }
    const at = day - this.base;
    const first = this.lines[at] ?? 0;
    if (first !== 0) return first;
    this.lines[at] = line;
    return undefined;
  }
}
