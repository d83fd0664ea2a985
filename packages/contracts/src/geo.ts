import './zod-locale.js';
import * as z from 'zod/mini';
import { LoadChunkMessage, TransformChunkMessage } from './messages.js';
import { Count, IsoDate, Month, RunId, Sha256 } from './primitives.js';

/**
 * Geographies: which series a row belongs to. One series per geography; the nation is the
 * series the pipeline has always loaded (partition `US`).
 *
 * | id               | level    | what                                                                  |
 * | ---------------- | -------- | --------------------------------------------------------------------- |
 * | `US`             | nation   | the United States (NYT `us.csv` joined with JHU recoveries)           |
 * | `06`             | state    | a state or territory by its 2-digit FIPS code                         |
 * | `06037`          | county   | a county by its 5-digit FIPS code (also NYT's own `02997`, `02998`)   |
 * | `36-unknown`     | county   | the publisher's `Unknown` county of a state (cases not yet placed)    |
 * | `36-nyc`         | county   | `New York City`: the five boroughs together (no FIPS in the source)   |
 * | `29-kansas-city` | county   | `Kansas City`, Missouri, counted apart from its four counties         |
 * | `29-joplin`      | county   | `Joplin`, Missouri, counted apart from Jasper and Newton counties     |
 *
 * Ids are plain ASCII, case-sensitive, URL- and shell-safe (`?geo=36-nyc`, `--geo 06037`),
 * and never change once loaded: they are the data table's partition keys.
 */

/** The levels of geography, largest first. */
export const GEO_LEVELS = ['nation', 'state', 'county'] as const;
export const GeoLevel = z.enum(GEO_LEVELS);
export type GeoLevel = z.infer<typeof GeoLevel>;

/** The id of the nation: also its partition key in the data table, as before geographies existed. */
export const NATION_GEO_ID = 'US';

/** A state or territory: FIPS code, USPS abbreviation and the name the publisher writes. */
export interface StateInfo {
  fips: string;
  abbr: string;
  name: string;
}

/** The 50 states, DC and the five inhabited territories, by FIPS code (the NYT names). */
export const STATES: readonly StateInfo[] = [
  { fips: '01', abbr: 'AL', name: 'Alabama' },
  { fips: '02', abbr: 'AK', name: 'Alaska' },
  { fips: '04', abbr: 'AZ', name: 'Arizona' },
  { fips: '05', abbr: 'AR', name: 'Arkansas' },
  { fips: '06', abbr: 'CA', name: 'California' },
  { fips: '08', abbr: 'CO', name: 'Colorado' },
  { fips: '09', abbr: 'CT', name: 'Connecticut' },
  { fips: '10', abbr: 'DE', name: 'Delaware' },
  { fips: '11', abbr: 'DC', name: 'District of Columbia' },
  { fips: '12', abbr: 'FL', name: 'Florida' },
  { fips: '13', abbr: 'GA', name: 'Georgia' },
  { fips: '15', abbr: 'HI', name: 'Hawaii' },
  { fips: '16', abbr: 'ID', name: 'Idaho' },
  { fips: '17', abbr: 'IL', name: 'Illinois' },
  { fips: '18', abbr: 'IN', name: 'Indiana' },
  { fips: '19', abbr: 'IA', name: 'Iowa' },
  { fips: '20', abbr: 'KS', name: 'Kansas' },
  { fips: '21', abbr: 'KY', name: 'Kentucky' },
  { fips: '22', abbr: 'LA', name: 'Louisiana' },
  { fips: '23', abbr: 'ME', name: 'Maine' },
  { fips: '24', abbr: 'MD', name: 'Maryland' },
  { fips: '25', abbr: 'MA', name: 'Massachusetts' },
  { fips: '26', abbr: 'MI', name: 'Michigan' },
  { fips: '27', abbr: 'MN', name: 'Minnesota' },
  { fips: '28', abbr: 'MS', name: 'Mississippi' },
  { fips: '29', abbr: 'MO', name: 'Missouri' },
  { fips: '30', abbr: 'MT', name: 'Montana' },
  { fips: '31', abbr: 'NE', name: 'Nebraska' },
  { fips: '32', abbr: 'NV', name: 'Nevada' },
  { fips: '33', abbr: 'NH', name: 'New Hampshire' },
  { fips: '34', abbr: 'NJ', name: 'New Jersey' },
  { fips: '35', abbr: 'NM', name: 'New Mexico' },
  { fips: '36', abbr: 'NY', name: 'New York' },
  { fips: '37', abbr: 'NC', name: 'North Carolina' },
  { fips: '38', abbr: 'ND', name: 'North Dakota' },
  { fips: '39', abbr: 'OH', name: 'Ohio' },
  { fips: '40', abbr: 'OK', name: 'Oklahoma' },
  { fips: '41', abbr: 'OR', name: 'Oregon' },
  { fips: '42', abbr: 'PA', name: 'Pennsylvania' },
  { fips: '44', abbr: 'RI', name: 'Rhode Island' },
  { fips: '45', abbr: 'SC', name: 'South Carolina' },
  { fips: '46', abbr: 'SD', name: 'South Dakota' },
  { fips: '47', abbr: 'TN', name: 'Tennessee' },
  { fips: '48', abbr: 'TX', name: 'Texas' },
  { fips: '49', abbr: 'UT', name: 'Utah' },
  { fips: '50', abbr: 'VT', name: 'Vermont' },
  { fips: '51', abbr: 'VA', name: 'Virginia' },
  { fips: '53', abbr: 'WA', name: 'Washington' },
  { fips: '54', abbr: 'WV', name: 'West Virginia' },
  { fips: '55', abbr: 'WI', name: 'Wisconsin' },
  { fips: '56', abbr: 'WY', name: 'Wyoming' },
  { fips: '60', abbr: 'AS', name: 'American Samoa' },
  { fips: '66', abbr: 'GU', name: 'Guam' },
  { fips: '69', abbr: 'MP', name: 'Northern Mariana Islands' },
  { fips: '72', abbr: 'PR', name: 'Puerto Rico' },
  { fips: '78', abbr: 'VI', name: 'Virgin Islands' },
];

const STATE_BY_FIPS = new Map(STATES.map((state) => [state.fips, state]));
const STATE_BY_NAME = new Map(STATES.map((state) => [state.name, state]));

/** The state or territory with this FIPS code, or undefined. */
export function stateByFips(fips: string): StateInfo | undefined {
  return STATE_BY_FIPS.get(fips);
}

/** The state or territory the publisher writes with this name (exact, e.g. `Virgin Islands`), or undefined. */
export function stateByName(name: string): StateInfo | undefined {
  return STATE_BY_NAME.get(name);
}

/**
 * The publisher's county-level rows without a FIPS code, by the suffix of their id. `unknown`
 * exists in every state; the others in one state only (`state`).
 */
export const SPECIAL_COUNTIES = {
  unknown: { county: 'Unknown', state: undefined, label: 'Unknown (cases not yet assigned to a county)' },
  nyc: { county: 'New York City', state: '36', label: 'New York City (the five boroughs together)' },
  'kansas-city': { county: 'Kansas City', state: '29', label: 'Kansas City, Missouri (apart from its counties)' },
  joplin: { county: 'Joplin', state: '29', label: 'Joplin, Missouri (apart from Jasper and Newton counties)' },
} as const satisfies Record<string, { county: string; state: string | undefined; label: string }>;
export type SpecialCounty = keyof typeof SPECIAL_COUNTIES;

/** A parsed geography id. */
export type Geo =
  | { id: string; level: 'nation' }
  | { id: string; level: 'state'; state: string }
  | { id: string; level: 'county'; state: string; fips: string }
  | { id: string; level: 'county'; state: string; special: SpecialCounty };

/** Why a text is not a geography id: one line, with the accepted forms. */
export class GeoIdError extends Error {
  readonly text: string;

  constructor(text: string, problem: string) {
    super(
      `geography "${text.length > 40 ? `${text.slice(0, 39)}…` : text}" ${problem}; expected US, a state FIPS such as 06, a county FIPS such as 06037, or 36-nyc, 29-kansas-city, 29-joplin, <state FIPS>-unknown`,
    );
    this.name = 'GeoIdError';
    this.text = text;
  }
}

const GEO_ID_PATTERN = /^(?:US|(\d{2})(?:(\d{3})|-([a-z]+(?:-[a-z]+)*))?)$/;

/**
 * Parses a geography id (exact form: ids are keys). Throws {@link GeoIdError} (one line) for
 * anything else, including an unknown state FIPS or a special county in the wrong state.
 */
export function parseGeoId(text: string): Geo {
  const match = GEO_ID_PATTERN.exec(text);
  if (!match) {
    const hint = GEO_ID_PATTERN.test(text.toUpperCase()) || GEO_ID_PATTERN.test(text.toLowerCase());
    throw new GeoIdError(text, hint ? 'is not written in its exact case' : 'is not a geography id');
  }
  const [, state, county, special] = match;
  if (state === undefined) return { id: text, level: 'nation' };
  if (!STATE_BY_FIPS.has(state)) throw new GeoIdError(text, `names no state or territory (FIPS ${state})`);
  if (county !== undefined) {
    if (county === '000') throw new GeoIdError(text, 'has county code 000, which is the state itself');
    return { id: text, level: 'county', state, fips: text };
  }
  if (special === undefined) return { id: text, level: 'state', state };
  if (!Object.hasOwn(SPECIAL_COUNTIES, special)) throw new GeoIdError(text, `names no known area "${special}"`);
  const known = SPECIAL_COUNTIES[special as SpecialCounty];
  if (known.state !== undefined && known.state !== state) {
    throw new GeoIdError(text, `puts ${known.county} in the wrong state (it is ${known.state}-${special})`);
  }
  return { id: text, level: 'county', state, special: special as SpecialCounty };
}

/** Whether `text` is a geography id ({@link parseGeoId} would accept it). */
export function isGeoId(text: string): boolean {
  try {
    parseGeoId(text);
    return true;
  } catch {
    return false;
  }
}

/** The id of a state by FIPS, a county by FIPS, or a special county of a state. */
export function formatGeoId(
  geo:
    | { level: 'nation' }
    | { level: 'state'; state: string }
    | { level: 'county'; fips: string }
    | { level: 'county'; state: string; special: SpecialCounty },
): string {
  if (geo.level === 'nation') return NATION_GEO_ID;
  if (geo.level === 'state') return parseGeoId(geo.state).id;
  if ('fips' in geo) return parseGeoId(geo.fips).id;
  return parseGeoId(`${geo.state}-${geo.special}`).id;
}

/** The level of a geography id (throws {@link GeoIdError} when it is none). */
export function geoLevel(id: string): GeoLevel {
  return parseGeoId(id).level;
}

/** zod schema of a geography id, with {@link parseGeoId}'s message. */
export const GeoId = z.string().check(
  z.superRefine((value, context) => {
    try {
      parseGeoId(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
);
export type GeoId = z.infer<typeof GeoId>;

// ---------------------------------------------------------------------------------------------
// Data table layout
// ---------------------------------------------------------------------------------------------

/**
 * The data table partition of a geography's day items: the geography id itself (the nation
 * stays `US`). One Query on `pk = <id>` reads a series in date order (`sk` = date). No id can
 * collide with the version partitions (`DAY#…`), which start with a letter other than `U`.
 */
export function dataPartitionKey(geoId: string): string {
  return parseGeoId(geoId).id;
}

/**
 * The data table partition of the versions of one day of a geography: `DAY#<date>` for the
 * nation (unchanged), `DAY#<geoId>#<date>` for every other geography.
 */
export function versionPartitionKey(geoId: string, date: string): string {
  const geo = parseGeoId(geoId);
  return geo.level === 'nation' ? `DAY#${date}` : `DAY#${geo.id}#${date}`;
}

// ---------------------------------------------------------------------------------------------
// Chunk keys
// ---------------------------------------------------------------------------------------------

/** The unit of change detection of the states and counties: one level of one state for one month. */
export interface GeoChunkId {
  level: Exclude<GeoLevel, 'nation'>;
  /** State FIPS. */
  state: string;
  /** `YYYY-MM`. */
  month: string;
}

const CHUNK_KEY_PATTERN = /^(state|county)\/(\d{2})\/(\d{4}-\d{2})$/;

/**
 * The key of a (level, state, month) chunk: `state/48/2020-04`, `county/48/2020-04`. The
 * nation keeps its month chunks, keyed by the month alone (`2020-04`), as before.
 */
export function formatChunkKey(chunk: GeoChunkId): string {
  return `${chunk.level}/${chunk.state}/${chunk.month}`;
}

/** Parses a key made by {@link formatChunkKey}; throws a one-line `RangeError` for anything else. */
export function parseChunkKey(key: string): GeoChunkId {
  const match = CHUNK_KEY_PATTERN.exec(key);
  if (!match || !STATE_BY_FIPS.has(match[2] as string) || !Month.safeParse(match[3]).success) {
    throw new RangeError(`chunk key "${key}" is not <state|county>/<state FIPS>/<YYYY-MM>, such as county/48/2020-04`);
  }
  return { level: match[1] as GeoChunkId['level'], state: match[2] as string, month: match[3] as string };
}

// ---------------------------------------------------------------------------------------------
// Records and rejections of the states and counties files
// ---------------------------------------------------------------------------------------------

/**
 * One valid day of one geography, as parsed from a states or counties file. `deaths` is null
 * when the publisher left it empty ("not reported": the Puerto Rico municipios of the county
 * files), never 0. `line` is the 1-based physical line in its file (the header is line 1).
 */
export const GeoRecord = z.object({
  geo: GeoId,
  date: IsoDate,
  cases: Count,
  deaths: z.nullable(Count),
  line: z.number().check(z.int(), z.positive()),
});
export type GeoRecord = z.infer<typeof GeoRecord>;

/** A row of a states or counties file that is not loaded, and why: file, line, column, value, reason. */
export const GeoRejectedRow = z.object({
  /** The file's label, e.g. `us-counties.csv`. */
  file: z.string().check(z.minLength(1)),
  line: z.number().check(z.int(), z.positive()),
  column: z.string(),
  value: z.string(),
  reason: z.string().check(z.minLength(1)),
  /** The (level, state, month) chunk the row belongs to, when its state and month are readable. */
  chunk: z.optional(z.string()),
});
export type GeoRejectedRow = z.infer<typeof GeoRejectedRow>;

/** The content hash of one day of a (level, state, month) chunk: the unit of change detection. */
export const GeoDayHash = z.object({ date: IsoDate, hash: Sha256 });
export type GeoDayHash = z.infer<typeof GeoDayHash>;

/** Longest publisher's name of a geography a part carries (longer ones are cut): bounds a part's size. */
export const MAX_GEO_NAME_CHARS = 64;

/**
 * fetcher → loader (through the transformer) for the states and counties: the records of some
 * days of one (level, state, month) chunk. A chunk too large for one message is cut into parts
 * by whole days; every part stays under `MAX_CHUNK_BYTES` of `@covid-etl/core` whatever the
 * state. The loader records the day hashes of a part once its records are loaded (unless
 * `baseline` is false); a later run skips the days whose hash is unchanged.
 */
export const GeoChunkMessage = z.object({
  version: z.literal(1),
  runId: RunId,
  level: z.enum(['state', 'county']),
  /** `county/48/2020-04` (see `formatChunkKey`). */
  chunk: z.string(),
  /** `county/48/2020-04#01-08`: the chunk key, then the first and last day of the part. */
  part: z.string(),
  /** Content hash of the whole chunk as parsed (days and rejected rows). */
  hash: Sha256,
  /** The days of this part and their hashes. */
  days: z.array(GeoDayHash),
  /**
   * Whether the loader records the day hashes once the records are loaded: false when the chunk
   * has rejected rows, so its days are compared again on the next run ("remember failures").
   */
  baseline: z.boolean(),
  records: z.array(GeoRecord),
  /**
   * The publisher's name of each geography of the part (`{"48201": "Harris", "48": "Texas"}`),
   * once per geography, not per row: the loader keeps it in the geography catalogue. Absent
   * from messages sent before names were carried (the catalogue then keeps a default name).
   */
  names: z.optional(z.record(GeoId, z.string().check(z.minLength(1), z.maxLength(MAX_GEO_NAME_CHARS)))),
  /**
   * Days to remove (a revert removes the days the reverted run inserted): kept as tombstones
   * (`removed`), counted `deleted`. Only `etl revert` sends them.
   */
  removed: z.optional(z.array(z.object({ geo: GeoId, date: IsoDate }))),
  /**
   * True when the ledger had no day hashes for the chunk when the run was planned (its first
   * load): the loader creates the chunk's day-hash item with one conditional put instead of an
   * update that fails first. A hint for the request count only; absent means "probably there".
   */
  newChunk: z.optional(z.literal(true)),
});
export type GeoChunkMessage = z.infer<typeof GeoChunkMessage>;

/**
 * What a run planned for one level of geography (states or counties): the run item keeps one
 * per level it read, beside the part keys in its plan.
 */
export const GeoLevelPlan = z.object({
  /** The source read (`states`, `counties` or `counties-recent`). */
  source: z.enum(['states', 'counties', 'counties-recent']),
  /** (level, state, month) chunks the file has (for the recent file: those it covers). */
  chunks: Count,
  /** Chunks with at least one changed day, and the parts (messages) sent for them. */
  changedChunks: Count,
  parts: Count,
  /** Days sent (new or revised) and their records. */
  days: Count,
  records: Count,
  /** Days whose hash equals the last successful load: not sent; and their records (counted unchanged). */
  skippedDays: Count,
  skippedRecords: z.optional(Count),
  /** Rows rejected (file, line, column, reason kept under `REJECTED#<chunk key>`). */
  rejected: Count,
  /** True when the source answered 304 or the same bytes as its baseline: nothing was parsed. */
  unchanged: z.optional(z.boolean()),
});
export type GeoLevelPlan = z.infer<typeof GeoLevelPlan>;

/** The level of a chunk or part key: `2020-04` is the nation, `county/48/2020-04#01-08` a county part. */
export function levelOfChunkKey(key: string): GeoLevel {
  if (key.startsWith('state/')) return 'state';
  if (key.startsWith('county/')) return 'county';
  return 'nation';
}

/**
 * Parses a `GEO_LEVELS`-style list (`nation,state,county`, any order, spaces allowed): the
 * levels in canonical order. Throws a one-line `RangeError` naming the accepted values.
 */
export function parseGeoLevels(text: string): GeoLevel[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const bad = items.filter((item) => !(GEO_LEVELS as readonly string[]).includes(item));
  if (items.length === 0 || bad.length > 0) {
    throw new RangeError(
      `geography levels "${text}" ${bad.length ? `name unknown level(s) ${bad.join(', ')}` : 'are empty'}; expected a comma-joined subset of nation,state,county`,
    );
  }
  return GEO_LEVELS.filter((level) => items.includes(level));
}

/**
 * A {@link GeoChunkMessage} as the chunk-processing SQS handlers read it: with `month` set to
 * its part key, the key of its chunk item in the ledger (where errors and counts are kept).
 */
export const GeoPartMessage = z.pipe(
  GeoChunkMessage,
  z.transform((message: z.infer<typeof GeoChunkMessage>) => ({ ...message, month: message.part })),
);
export type GeoPartMessage = z.infer<typeof GeoPartMessage>;

/** What the transformer queue carries: a month of the nation, or a part of a states or counties chunk. */
export const TransformerMessage = z.union([TransformChunkMessage, GeoPartMessage]);
export type TransformerMessage = z.infer<typeof TransformerMessage>;

/** What the loader queue carries: a month of the nation, or a part of a states or counties chunk. */
export const LoaderMessage = z.union([LoadChunkMessage, GeoPartMessage]);
export type LoaderMessage = z.infer<typeof LoaderMessage>;
