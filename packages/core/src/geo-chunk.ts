import { createHash } from 'node:crypto';
import {
  formatChunkKey,
  type GeoChunkId,
  type GeoChunkMessage,
  type GeoDayHash,
  type GeoRecord,
  type GeoRejectedRow,
  MAX_GEO_NAME_CHARS,
  parseGeoId,
  STATES,
} from '@covid-etl/contracts';
import { MAX_CHUNK_BYTES } from './chunk.js';
import { ChunkTooLargeError } from './errors.js';
import type { GeoRowResult } from './geo-extract.js';

/** Version tag of the canonical serialisation behind the day and chunk hashes: change it and every day reloads. */
const GEO_HASH_FORMAT = 'covid-etl/geo-day/v1';

/**
 * Most bytes of records (JSON) in one part message: 128 KiB. With the envelope (ids, the day
 * hashes of at most 31 days) a part stays under {@link MAX_CHUNK_BYTES} (200 KB), itself well
 * under SQS's 256 KiB.
 */
export const GEO_PART_RECORD_BYTES = 128 * 1024;

/** The longest run id, to measure messages as they will be sent. */
const LONGEST_RUN_ID = 'm-00000000T000000Z-000000';

/** One (level, state, month) chunk of a states or counties file, as parsed. */
export interface GeoChunk extends GeoChunkId {
  /** `county/48/2020-04`. */
  key: string;
  /**
   * SHA-256 of the chunk: its key, its day hashes and its rejected rows (line numbers left
   * out). Equal hash, equal chunk.
   */
  hash: string;
  /** The days the file has for this chunk, in date order, each with the hash of its rows. */
  days: (GeoDayHash & { rows: number })[];
  /** Valid records. */
  rows: number;
  /** The rows of this chunk that were rejected (a chunk with any never becomes a baseline). */
  rejected: GeoRejectedRow[];
  /** The records, sorted by date then geography id (built on each call: keep only what you send). */
  records(): GeoRecord[];
  /** The publisher's name of each geography (the planner's, every level and state: look up what you need). */
  names: ReadonlyMap<string, string>;
}

/** The records of some days of a chunk, sized to be one message. */
export interface GeoChunkPart {
  /** `county/48/2020-04#01-08`: the chunk key, then the first and last day of the part. */
  key: string;
  /** The chunk key. */
  chunk: string;
  /** The days whose records are in this part, with their hashes. */
  days: GeoDayHash[];
  /** False when the chunk has rejected rows: the loader must not record these day hashes. */
  baseline: boolean;
  records: GeoRecord[];
  /** The publisher's name of each geography of the part that has one (once per geography), cut to {@link MAX_GEO_NAME_CHARS}. */
  names: Record<string, string>;
}

/**
 * Collects the results of {@link extractGeoRows} for one level and groups them into
 * (level, state, month) chunks. Records are held in typed columns (17 bytes a record, ~61 MB
 * for a 3.5 M-row county file; each month's columns are cut to size once the file moves past
 * it), not as objects; records of a chunk are built only when asked.
 * Rejections go with their chunk when its state and month are readable, else to
 * {@link unplaced}.
 */
export class GeoChunkPlanner {
  readonly level: 'state' | 'county';
  /** Rejections whose state or month could not be read (no chunk to put them in). */
  readonly unplaced: GeoRejectedRow[] = [];
  /** The publisher's name of each geography (as on its first row): for search and lists. */
  readonly names = new Map<string, string>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly geoIds: string[] = [];
  private readonly geoIndex = new Map<string, number>();
  /** The latest month seen, and the buckets that got rows since their last compaction. */
  private month = '';
  private readonly open = new Set<Bucket>();

  constructor(level: 'state' | 'county') {
    this.level = level;
  }

  /** Adds one extraction result. Throws `RangeError` for a record of another level. */
  add(result: GeoRowResult): void {
    if (!result.ok) {
      const chunk = result.rejected.chunk;
      if (chunk === undefined) this.unplaced.push(result.rejected);
      else this.bucket(chunk).rejected.push(result.rejected);
      return;
    }
    const { record } = result;
    if (result.name !== undefined) this.names.set(record.geo, result.name);
    let geo = this.geoIndex.get(record.geo);
    if (geo === undefined) {
      const parsed = parseGeoId(record.geo);
      if (parsed.level !== this.level) {
        throw new RangeError(`record ${record.geo} is of level ${parsed.level}; this planner groups ${this.level}`);
      }
      geo = this.geoIds.length;
      this.geoIds.push(record.geo);
      this.geoIndex.set(record.geo, geo);
    }
    const state = record.geo.slice(0, 2);
    const month = record.date.slice(0, 7);
    if (month > this.month) this.closeMonthsBefore(month);
    const key = formatChunkKey({ level: this.level, state, month });
    const bucket = this.bucket(key);
    bucket.push(geo, Number(record.date.slice(8, 10)), record.cases, record.deaths, record.line);
    this.open.add(bucket);
  }

  /**
   * The publisher's files are in date order: once a later month starts, the buckets of earlier
   * months are complete and their columns are cut to their length (growth by doubling leaves up
   * to half of each unused). A bucket that gets rows again (a file out of order) just grows again.
   */
  private closeMonthsBefore(month: string): void {
    this.month = month;
    for (const bucket of this.open) {
      if (bucket.month < month) {
        bucket.compact();
        this.open.delete(bucket);
      }
    }
  }

  /** Adds every result of an extraction (e.g. `extractGeoRows(...)`). */
  async addAll(results: AsyncIterable<GeoRowResult>): Promise<this> {
    for await (const result of results) this.add(result);
    return this;
  }

  /** Every rejection: those of each chunk (by key) and the unplaced ones. */
  get rejected(): GeoRejectedRow[] {
    const keys = [...this.buckets.keys()].sort();
    return [...keys.flatMap((key) => this.buckets.get(key)?.rejected ?? []), ...this.unplaced];
  }

  /** Valid records added so far. */
  get records(): number {
    let total = 0;
    for (const bucket of this.buckets.values()) total += bucket.length;
    return total;
  }

  /** The chunks, by key. Hashes are computed here (each call recomputes them). */
  chunks(): GeoChunk[] {
    return [...this.buckets.keys()].sort().map((key) => this.chunk(key));
  }

  private chunk(key: string): GeoChunk {
    const bucket = this.buckets.get(key) as Bucket;
    const [level, state, month] = key.split('/') as ['state' | 'county', string, string];
    const order = bucket.order(this.geoIds);
    const days: (GeoDayHash & { rows: number })[] = [];
    let at = 0;
    while (at < order.length) {
      const day = bucket.day[order[at] as number] as number;
      let end = at;
      while (end < order.length && bucket.day[order[end] as number] === day) end++;
      const rows: [string, number, number | null][] = [];
      for (let i = at; i < end; i++) {
        const row = order[i] as number;
        rows.push([
          this.geoIds[bucket.geo[row] as number] as string,
          bucket.cases[row] as number,
          bucket.deathsAt(row),
        ]);
      }
      const date = `${month}-${pad(day)}`;
      days.push({ date, hash: sha256([GEO_HASH_FORMAT, key, date, rows]), rows: rows.length });
      at = end;
    }
    const rejected = bucket.rejected;
    const hash = sha256([
      GEO_HASH_FORMAT,
      key,
      days.map((day) => [day.date, day.hash]),
      rejected.map((row) => [row.column, row.value, row.reason.replace(/line \d+/g, 'line')]),
    ]);
    const geoIds = this.geoIds;
    return {
      names: this.names,
      key,
      level,
      state,
      month,
      hash,
      days,
      rows: bucket.length,
      rejected,
      records: () =>
        order.map((row) => ({
          geo: geoIds[bucket.geo[row] as number] as string,
          date: `${month}-${pad(bucket.day[row] as number)}`,
          cases: bucket.cases[row] as number,
          deaths: bucket.deathsAt(row),
          line: bucket.line[row] as number,
        })),
    };
  }

  private bucket(key: string): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new Bucket(key.slice(-7));
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}

/**
 * Cuts the records of a chunk into message parts, deterministically: whole days in date order,
 * as many per part as fit in {@link GEO_PART_RECORD_BYTES}, with the names of the part's
 * geographies (each once a part, counted in those bytes). One day of one state always fits: a
 * state has at most 999 county codes plus the 4 areas without one, a record is at most ~106
 * bytes of JSON (16-digit counts) and a name entry at most ~84 (64 characters), so a day and
 * its names are under 191 KB (a real Texas day is ~20 KB and its names ~5 KB).
 * `days` limits the parts to those dates (the changed ones). Each part's message is measured
 * against {@link MAX_CHUNK_BYTES} ({@link ChunkTooLargeError} if ever over).
 */
export function planParts(chunk: GeoChunk, days?: ReadonlySet<string>): GeoChunkPart[] {
  const wanted = chunk.days.filter((day) => days === undefined || days.has(day.date));
  if (wanted.length === 0) return [];
  const byDate = new Map<string, GeoRecord[]>();
  for (const record of chunk.records()) {
    if (days !== undefined && !days.has(record.date)) continue;
    let list = byDate.get(record.date);
    if (!list) {
      list = [];
      byDate.set(record.date, list);
    }
    list.push(record);
  }
  const parts: GeoChunkPart[] = [];
  const empty = () => ({
    days: [] as GeoDayHash[],
    records: [] as GeoRecord[],
    names: {} as Record<string, string>,
    bytes: 0,
  });
  let current = empty();
  const flush = () => {
    if (current.days.length === 0) return;
    const first = (current.days[0] as GeoDayHash).date.slice(8);
    const last = (current.days.at(-1) as GeoDayHash).date.slice(8);
    parts.push({
      key: `${chunk.key}#${first}-${last}`,
      chunk: chunk.key,
      days: current.days,
      baseline: chunk.rejected.length === 0,
      records: current.records,
      names: current.names,
    });
    current = empty();
  };
  /** The names of `records` the current part does not carry yet, and their bytes. */
  const newNames = (records: readonly GeoRecord[]) => {
    const names: Record<string, string> = {};
    let bytes = 0;
    for (const { geo } of records) {
      const name = chunk.names.get(geo);
      if (name === undefined || geo in current.names || geo in names) continue;
      names[geo] = name.length > MAX_GEO_NAME_CHARS ? name.slice(0, MAX_GEO_NAME_CHARS) : name;
      bytes += Buffer.byteLength(JSON.stringify([geo, names[geo]]), 'utf8');
    }
    return { names, bytes };
  };
  for (const day of wanted) {
    const records = byDate.get(day.date) ?? [];
    const recordsBytes = records.reduce((sum, record) => sum + recordBytes(record), 0);
    let names = newNames(records);
    if (current.bytes + recordsBytes + names.bytes > GEO_PART_RECORD_BYTES) {
      flush();
      names = newNames(records);
    }
    current.days.push({ date: day.date, hash: day.hash });
    current.records.push(...records);
    Object.assign(current.names, names.names);
    current.bytes += recordsBytes + names.bytes;
  }
  flush();
  for (const part of parts) assertGeoPartSize(chunk, part);
  return parts;
}

/** The transformer message of one part of a chunk, for a run. */
export function geoPartMessage(
  runId: string,
  chunk: Pick<GeoChunk, 'level' | 'key' | 'hash'>,
  part: GeoChunkPart,
  { newChunk = false }: { newChunk?: boolean } = {},
): GeoChunkMessage {
  return {
    version: 1,
    runId,
    level: chunk.level,
    chunk: chunk.key,
    part: part.key,
    hash: chunk.hash,
    days: part.days,
    baseline: part.baseline,
    records: part.records,
    names: part.names,
    ...(newChunk ? { newChunk: true as const } : {}),
  };
}

/**
 * The size in bytes of a part as a {@link GeoChunkMessage} (JSON, UTF-8, longest run id);
 * throws {@link ChunkTooLargeError} above {@link MAX_CHUNK_BYTES}.
 */
export function assertGeoPartSize(chunk: GeoChunk, part: GeoChunkPart): number {
  const bytes = Buffer.byteLength(
    JSON.stringify(geoPartMessage(LONGEST_RUN_ID, chunk, part, { newChunk: true })),
    'utf8',
  );
  if (bytes > MAX_CHUNK_BYTES) throw new ChunkTooLargeError(part.key, bytes, MAX_CHUNK_BYTES);
  return bytes;
}

/** One day of one geography a revert puts back: its values before the reverted run, or null to remove it. */
export interface RevertGeoDay {
  geo: string;
  date: string;
  before: { cases: number; deaths: number | null } | null;
}

/** One message of a revert for a (level, state, month) chunk: values to restore and days to remove. */
export interface RevertGeoPart {
  /** `county/48/2020-04#01-08`: the chunk key, then the first and last day of the part. */
  key: string;
  chunk: string;
  /** The dates of the part that keep at least one day, each with the hash `hashOf` gives it. */
  days: GeoDayHash[];
  /** The restored days (`line` 1: they come from the table's versions, not from a file line). */
  records: GeoRecord[];
  /** The days to remove (the reverted run inserted them). */
  removed: { geo: string; date: string }[];
}

/**
 * Cuts what a revert puts back in one (level, state, month) chunk into message parts, as
 * {@link planParts} cuts a file's chunk: whole dates in date order, as many per part as fit in
 * {@link GEO_PART_RECORD_BYTES} (restored records and removed days both counted), each message
 * measured against {@link MAX_CHUNK_BYTES}. `hashOf(date)` is the day hash a restored date is
 * given (a revert's own: no file day has it, so the next run compares the day again).
 */
export function planRevertParts(
  chunk: GeoChunkId,
  days: readonly RevertGeoDay[],
  hashOf: (date: string) => string,
): RevertGeoPart[] {
  const key = formatChunkKey(chunk);
  const byDate = new Map<string, RevertGeoDay[]>();
  for (const day of days) {
    if (day.date.slice(0, 7) !== chunk.month || !day.geo.startsWith(chunk.state)) {
      throw new RangeError(`day ${day.geo} ${day.date} is not in chunk ${key}`);
    }
    const group = byDate.get(day.date);
    if (group) group.push(day);
    else byDate.set(day.date, [day]);
  }
  const parts: RevertGeoPart[] = [];
  let current = {
    dates: [] as string[],
    records: [] as GeoRecord[],
    removed: [] as RevertGeoPart['removed'],
    bytes: 0,
  };
  const flush = () => {
    if (current.dates.length === 0) return;
    const restored = new Set(current.records.map((record) => record.date));
    parts.push({
      key: `${key}#${(current.dates[0] as string).slice(8)}-${(current.dates.at(-1) as string).slice(8)}`,
      chunk: key,
      days: current.dates.filter((date) => restored.has(date)).map((date) => ({ date, hash: hashOf(date) })),
      records: current.records,
      removed: current.removed,
    });
    current = { dates: [], records: [], removed: [], bytes: 0 };
  };
  for (const date of [...byDate.keys()].sort()) {
    const entries = [...(byDate.get(date) ?? [])].sort((a, b) => (a.geo < b.geo ? -1 : a.geo > b.geo ? 1 : 0));
    const records: GeoRecord[] = [];
    const removed: RevertGeoPart['removed'] = [];
    for (const entry of entries) {
      if (entry.before)
        records.push({ geo: entry.geo, date, cases: entry.before.cases, deaths: entry.before.deaths, line: 1 });
      else removed.push({ geo: entry.geo, date });
    }
    const bytes =
      records.reduce((sum, record) => sum + recordBytes(record), 0) +
      removed.reduce((sum, day) => sum + Buffer.byteLength(JSON.stringify(day), 'utf8') + 1, 0);
    if (current.bytes + bytes > GEO_PART_RECORD_BYTES) flush();
    current.dates.push(date);
    current.records.push(...records);
    current.removed.push(...removed);
    current.bytes += bytes;
  }
  flush();
  for (const part of parts) {
    const message: GeoChunkMessage = {
      version: 1,
      runId: LONGEST_RUN_ID,
      level: chunk.level,
      chunk: key,
      part: part.key,
      hash: '0'.repeat(64),
      days: part.days,
      baseline: true,
      records: part.records,
      removed: part.removed,
    };
    const size = Buffer.byteLength(JSON.stringify(message), 'utf8');
    if (size > MAX_CHUNK_BYTES) throw new ChunkTooLargeError(part.key, size, MAX_CHUNK_BYTES);
  }
  return parts;
}

/**
 * The days of a chunk whose content differs from what was last loaded (`loaded`: date → day
 * hash), in date order: new days and revised days. Days `loaded` has and the chunk does not
 * are not listed (a file never deletes a loaded day).
 */
export function changedDays(chunk: Pick<GeoChunk, 'days'>, loaded: ReadonlyMap<string, string>): string[] {
  return chunk.days.filter((day) => loaded.get(day.date) !== day.hash).map((day) => day.date);
}

/**
 * The (level, state, month) chunks a file covering the dates `from`..`to` (inclusive; e.g. the
 * publisher's rolling 30-day county file) can have changed, with the dates of each it covers:
 * every state of `states` (default: all states and territories) times every month overlapping
 * the range. A daily run reads the stored day hashes of these chunks only, and only compares
 * these dates: a month outside the range cannot have changed, and the days of a partly covered
 * month before `from` are not in the file (their absence is not a change).
 */
export function chunksCoveredBy(
  level: 'state' | 'county',
  from: string,
  to: string,
  states: readonly string[] = STATES.map((state) => state.fips),
): (GeoChunkId & { key: string; dates: string[] })[] {
  if (!(from <= to)) throw new RangeError(`the covered dates run from ${from} to ${to}; expected from <= to`);
  const byMonth = new Map<string, string[]>();
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= end; at += 86_400_000) {
    const date = new Date(at).toISOString().slice(0, 10);
    const month = date.slice(0, 7);
    const list = byMonth.get(month) ?? [];
    list.push(date);
    byMonth.set(month, list);
  }
  if (Number.isNaN(end) || byMonth.size === 0)
    throw new RangeError(`the covered dates ${from}..${to} are not YYYY-MM-DD`);
  return [...states].sort().flatMap((state) =>
    [...byMonth].map(([month, dates]) => ({
      level,
      state,
      month,
      key: formatChunkKey({ level, state, month }),
      dates,
    })),
  );
}

/** The bytes a record adds to a message (its JSON and a comma). */
function recordBytes(record: GeoRecord): number {
  return Buffer.byteLength(JSON.stringify(record), 'utf8') + 1;
}

function pad(day: number): string {
  return day < 10 ? `0${day}` : String(day);
}

function sha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value), 'utf8').digest('hex');
}

/** Not reported, in a 32-bit value column (no count reaches it: a larger value switches the column to 64 bits). */
const NOT_REPORTED = 0xffffffff;

/**
 * The records of one chunk, as typed columns: 17 bytes a record. Counts are whole numbers below
 * 2^32 - 1 in 32 bits; a bucket given any other value (larger, or not whole) keeps that column
 * in 64-bit floats from then on, so no value is ever cut.
 */
class Bucket {
  length = 0;
  geo = new Uint32Array(16);
  day = new Uint8Array(16);
  cases: Uint32Array | Float64Array = new Uint32Array(16);
  /** {@link NOT_REPORTED} (NaN once 64-bit): not reported. */
  deaths: Uint32Array | Float64Array = new Uint32Array(16);
  line = new Uint32Array(16);
  readonly rejected: GeoRejectedRow[] = [];

  /** `2020-04`: the month of the chunk. */
  constructor(readonly month: string) {}

  push(geo: number, day: number, cases: number, deaths: number | null, line: number): void {
    if (this.length === this.geo.length) this.resize(Math.max(16, this.length * 2));
    if (this.cases instanceof Uint32Array && !fits32(cases)) this.cases = widen(this.cases, false);
    if (this.deaths instanceof Uint32Array && deaths !== null && !fits32(deaths))
      this.deaths = widen(this.deaths, true);
    const at = this.length++;
    this.geo[at] = geo;
    this.day[at] = day;
    this.cases[at] = cases;
    this.deaths[at] = deaths ?? (this.deaths instanceof Uint32Array ? NOT_REPORTED : Number.NaN);
    this.line[at] = line;
  }

  /** Cuts the columns to the records they hold. */
  compact(): void {
    if (this.geo.length > this.length) this.resize(this.length);
  }

  deathsAt(row: number): number | null {
    const deaths = this.deaths[row] as number;
    if (this.deaths instanceof Uint32Array) return deaths === NOT_REPORTED ? null : deaths;
    return Number.isNaN(deaths) ? null : deaths;
  }

  private resize(size: number): void {
    this.geo = copy(this.geo, new Uint32Array(size), this.length);
    this.day = copy(this.day, new Uint8Array(size), this.length);
    this.cases = copy(
      this.cases,
      this.cases instanceof Uint32Array ? new Uint32Array(size) : new Float64Array(size),
      this.length,
    );
    this.deaths = copy(
      this.deaths,
      this.deaths instanceof Uint32Array ? new Uint32Array(size) : new Float64Array(size),
      this.length,
    );
    this.line = copy(this.line, new Uint32Array(size), this.length);
  }

  /** Row indices sorted by day, then geography id. */
  order(geoIds: readonly string[]): number[] {
    const rows = Array.from({ length: this.length }, (_, index) => index);
    return rows.sort((a, b) => {
      const byDay = (this.day[a] as number) - (this.day[b] as number);
      if (byDay !== 0) return byDay;
      const left = geoIds[this.geo[a] as number] as string;
      const right = geoIds[this.geo[b] as number] as string;
      return left < right ? -1 : left > right ? 1 : 0;
    });
  }
}

const fits32 = (value: number) => Number.isInteger(value) && value >= 0 && value < NOT_REPORTED;

/** The same values in 64-bit floats (`NOT_REPORTED` becoming NaN for a deaths column). */
function widen(column: Uint32Array, nullable: boolean): Float64Array {
  const wide = new Float64Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const value = column[i] as number;
    wide[i] = nullable && value === NOT_REPORTED ? Number.NaN : value;
  }
  return wide;
}

function copy<T extends Uint8Array | Uint32Array | Float64Array>(from: T, to: T, length: number): T {
  to.set(from.subarray(0, length));
  return to;
}
