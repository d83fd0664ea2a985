import { GateName, type GateTrip, type GeoRecord, type QualityGates, stateByFips } from '@covid-etl/contracts';
import type { GeoChunk } from '@covid-etl/core';
import { defaultGeoName, type GeoStoredDay } from '@covid-etl/platform';
import { fallsTooFar, fmt, pct } from './gates.js';

/** A level of geography other than the nation. */
type Level = 'state' | 'county';

/** One tripped gate of one geography (or, for the date gates, one state's chunks of a level). */
export interface GeoGateTrip {
  gate: GateName;
  level: Level;
  /**
   * The geography id (`48`, `48201`, `36-nyc`); for `last-date` / `missing-dates` of counties,
   * the state's; the level (`state`, `county`) for a trip of the whole file.
   */
  geo: string;
  /** One line naming the geography and its figures, e.g. `Texas (48): cases 12,345 on … → …`. */
  message: string;
}

/** Reads the geographies loaded on each day of chunks: `GeoLedger.getDayGeos` (chunk key → date → ids). */
export type DayGeosReader = (
  chunkKeys: readonly string[],
) => Promise<ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>>;

/** Reads the stored days of (geography, date) pairs: `GeoSeriesStore.getDays`. */
export type StoredDaysReader = (
  keys: readonly { geo: string; date: string }[],
) => Promise<ReadonlyMap<string, Pick<GeoStoredDay, 'cases' | 'deaths'>>>;

export interface GeoGateOptions {
  level: Level;
  thresholds: QualityGates;
  /**
   * The rolling 30-day counties file: `revised-share` is not evaluated (a share of a 30-day
   * window is noise: one county's reallocated month is a normal correction).
   */
  rolling: boolean;
  /**
   * `missing-dates` only looks at loaded dates between these: the file's first and last dates
   * (a full file: from the earliest loaded date instead, since it holds every date from the start).
   */
  from: string;
  to: string;
  /** The publisher's names by geography id (for the labels). */
  names?: ReadonlyMap<string, string>;
  /** The states with a loaded day of this level in the chunks read (their stored day hashes are not empty). */
  loadedStates: ReadonlySet<string>;
  /**
   * Per state, the last date loaded of this level, wherever it is (the catalogue's
   * `loadedDatesByState`): `last-date` compares each state's last date in the file with it, not
   * only with the chunks read (which end with the file's months). Unset: the chunks read only.
   */
  loadedLast?: ReadonlyMap<string, string>;
}

/** Most geographies named in the one-line message of a gate (the rest are counted). */
export const GEO_TRIPS_NAMED = 3;
/** Longest quote of one geography's trip in that line. */
const NAMED_CHARS = 160;

const LEVEL_NAMES: Record<Level, string> = { state: 'states', county: 'counties' };

/** `Texas (48)`, `Harris, TX (48201)`, `New York City, NY (36-nyc)`, or the id alone. */
export function geoLabel(level: Level, geo: string, names?: ReadonlyMap<string, string>): string {
  const state = stateByFips(geo.slice(0, 2));
  if (level === 'state') return state ? `${state.name} (${geo})` : geo;
  const name = names?.get(geo);
  return name ? `${name}${state ? `, ${state.abbr}` : ''} (${geo})` : geo;
}

/**
 * A county the file does not name (it has no row of it at all): `Unknown, Texas (48-unknown)`,
 * `County 48201, Texas (48201)` (the catalogue's default name; the publisher's is not read).
 */
function absentLabel(geo: string, names?: ReadonlyMap<string, string>): string {
  if (names?.has(geo)) return geoLabel('county', geo, names);
  try {
    return `${defaultGeoName(geo)} (${geo})`;
  } catch {
    return geo;
  }
}

interface Example {
  count: number;
  first: string;
}

/** Valid numeric values of a record: deaths absent when not reported. */
function cumulativeValues(day: Pick<GeoRecord, 'cases' | 'deaths'>): [string, number][] {
  return day.deaths === null
    ? [['cases', day.cases]]
    : [
        ['cases', day.cases],
        ['deaths', day.deaths],
      ];
}

/**
 * The data-quality gates on the states or counties of one source, over what the run can change
 * (see docs/architecture.md, "Trust boundary"). Fed the file's chunks in key order (state, then
 * month) with their stored day hashes and changed days, it needs no read for what is new and one
 * bounded read (`finish`) for what is revised: the loaded values of the changed days that were
 * loaded before (their date has a stored hash), never of an unchanged day.
 *
 * - `cumulative-fall`, per geography: a day-to-day fall in the file between a changed day and a
 *   neighbour (a fall already loaded, or approved, is not flagged again); between two days never
 *   loaded only where the state has loaded days of the level in the chunks read (a first load of
 *   the file's months has no loaded value to protect: the real rolling county file has the
 *   publisher's own corrections inside its window);
 * - `revised-down`, per geography: a changed day's loaded value falls beyond the tolerance;
 *   neither cumulative gate applies to the `<state>-unknown` series (cases not yet placed);
 * - `revised-share`, per geography, full files only: more than `maxRevisedShare` of its loaded
 *   dates in the file change value;
 * - `last-date` and `missing-dates`, per state of the level (the day hashes are per state): for
 *   any state of the file, changed or not, its last date in the file is earlier than its loaded
 *   last date (among the chunks read, and `loadedLast`: a stale file changes no day, yet is
 *   held as a stale national file is); for any state, loaded dates between the file's first and
 *   last date are absent, a whole chunk the file lacks included (`addAbsentChunk`);
 * - `missing-geographies`, per geography: a changed day that was loaded before lacks a
 *   geography loaded that day (the ledger's `getDayGeos`, read in `finish` for the chunks with
 *   such a day only; a day loaded before they were recorded is not compared). A geography that
 *   vanishes changes its day's hash, so an unchanged day never needs the read.
 *
 * Pure apart from the readers passed to `finish`; records of unchanged chunks are not kept.
 */
export class GeoGateCollector {
  private readonly falls = new Map<string, Example>();
  private readonly downs = new Map<string, Example>();
  /** geo → [revised dates, loaded dates in the file]. */
  private readonly shares = new Map<string, [number, number]>();
  /** Changed days that were loaded before: `<geo>|<date>` → the new record. */
  private readonly revisions = new Map<string, GeoRecord>();
  /** Per state: the file's last date, the stored last date among the chunks read, the loaded dates missing. */
  private readonly states = new Map<string, { fileLast?: string; storedLast?: string; missing: string[] }>();
  /** Changed days that were loaded before: chunk key → date → the geographies the file has that day. */
  private readonly present = new Map<string, Map<string, Set<string>>>();
  private previous:
    | { state: string; last: Map<string, { record: GeoRecord; changed: boolean; loaded: boolean }> }
    | undefined;

  constructor(private readonly options: GeoGateOptions) {}

  /** Adds one chunk of the file (in key order), its stored day hashes (date → hash) and its changed days. */
  addChunk(chunk: GeoChunk, stored: ReadonlyMap<string, string> | undefined, changed: ReadonlySet<string>): void {
    const { from, to } = this.options;
    const state = this.states.get(chunk.state) ?? { missing: [] };
    this.states.set(chunk.state, state);
    const fileDates = new Set(chunk.days.map((day) => day.date));
    const fileLast = chunk.days.at(-1)?.date;
    if (fileLast && (!state.fileLast || fileLast > state.fileLast)) state.fileLast = fileLast;
    for (const date of stored?.keys() ?? []) {
      if (!state.storedLast || date > state.storedLast) state.storedLast = date;
      if (date >= from && date <= to && !fileDates.has(date)) state.missing.push(date);
    }

    if (this.previous?.state !== chunk.state) this.previous = { state: chunk.state, last: new Map() };
    const last = this.previous.last;
    for (const record of chunk.records()) {
      const before = last.get(record.geo);
      const isChanged = changed.has(record.date);
      const isLoaded = stored?.has(record.date) === true;
      last.set(record.geo, { record, changed: isChanged, loaded: isLoaded });
      const cumulative = !isUnplaced(record.geo);
      // A written day against its neighbour; two days never loaded only where the state has loaded days.
      const compared = isLoaded || before?.loaded === true || this.options.loadedStates.has(chunk.state);
      if (cumulative && before && (isChanged || before.changed) && compared) {
        this.checkFall(before.record, record);
      }
      if (!isLoaded) continue;
      if (isChanged) {
        this.revisions.set(`${record.geo}|${record.date}`, record);
        const days = this.present.get(chunk.key) ?? new Map<string, Set<string>>();
        this.present.set(chunk.key, days);
        const geos = days.get(record.date) ?? new Set<string>();
        days.set(record.date, geos);
        geos.add(record.geo);
      } else this.share(record.geo, 0, 1);
    }
  }

  /**
   * Adds a (level, state, month) chunk the file lacks entirely, by its stored day hashes: its
   * loaded dates between the file's first and last date are missing (`missing-dates`), whether
   * or not another day of the state changes.
   */
  addAbsentChunk(stateFips: string, stored: ReadonlyMap<string, string>): void {
    const { from, to } = this.options;
    const state = this.states.get(stateFips) ?? { missing: [] };
    this.states.set(stateFips, state);
    for (const date of stored.keys()) {
      if (!state.storedLast || date > state.storedLast) state.storedLast = date;
      if (date >= from && date <= to) state.missing.push(date);
    }
  }

  /**
   * Reads the loaded values of the revised days (nothing when none: an unchanged re-run reads
   * nothing) and the geographies loaded on them (`readGeos`: one item per chunk with such a
   * day), and returns every trip, in gate order then geography order.
   */
  async finish(read: StoredDaysReader | undefined, readGeos?: DayGeosReader): Promise<GeoGateTrip[]> {
    const { level, thresholds: t, rolling } = this.options;
    /** geo → the loaded dates the file lacks it on (while its state has rows those days). */
    const vanished = new Map<string, string[]>();
    if (this.present.size > 0 && readGeos) {
      const loadedGeos = await readGeos([...this.present.keys()]);
      for (const [chunk, days] of this.present) {
        const loadedDays = loadedGeos.get(chunk);
        for (const [date, geos] of days) {
          for (const geo of loadedDays?.get(date) ?? []) {
            if (geos.has(geo)) continue;
            const dates = vanished.get(geo) ?? [];
            dates.push(date);
            vanished.set(geo, dates);
          }
        }
      }
    }
    if (this.revisions.size > 0) {
      if (!read) throw new Error('the fetcher has revised states or counties to check but no data table reader');
      const keys = [...this.revisions.values()].map(({ geo, date }) => ({ geo, date }));
      const loaded = await read(keys);
      for (const [key, record] of this.revisions) {
        const old = loaded.get(key);
        if (!old) continue;
        const revised = old.cases !== record.cases || old.deaths !== record.deaths;
        this.share(record.geo, revised ? 1 : 0, 1);
        if (isUnplaced(record.geo)) continue;
        for (const [name, before] of cumulativeValues(old)) {
          const after = name === 'cases' ? record.cases : record.deaths;
          if (after === null) continue;
          if (fallsTooFar(before, after, t.revisedDownRatio, t.revisedDownAbsolute)) {
            note(this.downs, record.geo, `${name} on ${record.date} ${fmt(before)} → ${fmt(after)}`);
          }
        }
      }
    }

    const trips: GeoGateTrip[] = [];
    const label = (geo: string) => geoLabel(level, geo, this.options.names);
    const stateLabel = (fips: string) => `${geoLabel('state', fips)}${level === 'county' ? ' counties' : ''}`;
    // Every state of the file, changed or not: a stale copy changes no day but is still stale.
    for (const [fips, s] of [...this.states].sort(([a], [b]) => a.localeCompare(b))) {
      const catalogued = this.options.loadedLast?.get(fips);
      const loadedLast = catalogued && (!s.storedLast || catalogued > s.storedLast) ? catalogued : s.storedLast;
      if (s.fileLast && loadedLast && s.fileLast < loadedLast) {
        trips.push({
          gate: 'last-date',
          level,
          geo: fips,
          message: `${stateLabel(fips)}: last date ${s.fileLast} is earlier than the loaded ${loadedLast}`,
        });
      }
    }
    // Loaded dates the file lacks, in any state: an unchanged state can lose dates too.
    for (const [fips, s] of [...this.states].sort(([a], [b]) => a.localeCompare(b))) {
      if (s.missing.length > t.maxMissingDates) {
        const dates = [...s.missing].sort();
        const first = dates[0];
        const lastMissing = dates.at(-1);
        trips.push({
          gate: 'missing-dates',
          level,
          geo: fips,
          message: `${stateLabel(fips)}: ${fmt(dates.length)} loaded date(s) missing (${first}${
            lastMissing !== first ? ` to ${lastMissing}` : ''
          })`,
        });
      }
    }
    for (const [geo, dates] of [...vanished].sort(([a], [b]) => a.localeCompare(b))) {
      if (dates.length <= t.maxMissingDates) continue;
      dates.sort();
      const first = dates[0];
      const lastMissing = dates.at(-1);
      trips.push({
        gate: 'missing-geographies',
        level,
        geo,
        message: `${absentLabel(geo, this.options.names)}: absent on ${fmt(dates.length)} loaded date(s) (${first}${
          lastMissing !== first ? ` to ${lastMissing}` : ''
        })`,
      });
    }
    const examples = (gate: GateName, map: Map<string, Example>, kind: string) => {
      for (const [geo, example] of [...map].sort(([a], [b]) => a.localeCompare(b))) {
        const more = example.count > 1 ? ` (and ${fmt(example.count - 1)} more ${kind})` : '';
        trips.push({ gate, level, geo, message: `${label(geo)}: ${example.first}${more}` });
      }
    };
    examples('cumulative-fall', this.falls, 'fall(s)');
    examples('revised-down', this.downs, 'revision(s)');
    if (!rolling) {
      for (const [geo, [revised, loaded]] of [...this.shares].sort(([a], [b]) => a.localeCompare(b))) {
        const share = loaded ? revised / loaded : 0;
        if (revised > 0 && share > t.maxRevisedShare) {
          trips.push({
            gate: 'revised-share',
            level,
            geo,
            message: `${label(geo)}: revises ${fmt(revised)} of ${fmt(loaded)} loaded dates (${pct(share)})`,
          });
        }
      }
    }
    return trips;
  }

  private checkFall(before: GeoRecord, day: GeoRecord): void {
    const { thresholds: t } = this.options;
    for (const [name, a] of cumulativeValues(before)) {
      const b = name === 'cases' ? day.cases : day.deaths;
      if (b === null) continue;
      if (fallsTooFar(a, b, t.cumulativeFallRatio, t.cumulativeFallAbsolute)) {
        note(this.falls, day.geo, `${name} ${fmt(a)} on ${before.date} → ${fmt(b)} on ${day.date}`);
      }
    }
  }

  private share(geo: string, revised: number, loaded: number): void {
    const counts = this.shares.get(geo) ?? [0, 0];
    counts[0] += revised;
    counts[1] += loaded;
    this.shares.set(geo, counts);
  }
}

/**
 * The publisher's `Unknown` county of a state: cases not yet placed in a county. Not a
 * cumulative series (it falls whenever cases are placed: Iowa's went from 3,810 to 1,374 on
 * 2021-02-25), so the cumulative gates leave it out.
 */
function isUnplaced(geo: string): boolean {
  return geo.endsWith('-unknown');
}

function note(map: Map<string, Example>, geo: string, text: string): void {
  const example = map.get(geo);
  if (example) example.count += 1;
  else map.set(geo, { count: 1, first: text });
}

/** What each gate checks, for the one-line message of a level. */
function gateWhat(gate: GateName, t: QualityGates): string {
  switch (gate) {
    case 'last-date':
      return 'the file ends before the loaded series';
    case 'missing-dates':
      return 'loaded dates are missing from the file';
    case 'missing-geographies':
      return 'geographies loaded on a date are missing from the file on that date';
    case 'cumulative-fall':
      return `a cumulative count falls from one day to the next beyond ${pct(t.cumulativeFallRatio)} and ${fmt(
        t.cumulativeFallAbsolute,
      )}`;
    case 'revised-down':
      return `a loaded value is revised down beyond ${pct(t.revisedDownRatio)} and ${fmt(t.revisedDownAbsolute)}`;
    case 'revised-share':
      return `more than ${pct(t.maxRevisedShare)} of the loaded dates change`;
  }
}

/**
 * The trips of one level as the run keeps them (`gates`) and announces them: one entry per
 * gate, one line each, naming the first {@link GEO_TRIPS_NAMED} geographies and counting the
 * others (`and 1,231 more`), so thousands of counties stay one readable line per gate. The
 * full list is kept beside the held snapshot (`HeldRunRepository.putTrips`).
 */
export function summarizeGeoTrips(
  level: Level,
  file: string,
  trips: readonly GeoGateTrip[],
  thresholds: QualityGates,
): GateTrip[] {
  const byGate = new Map<GateName, GeoGateTrip[]>();
  for (const trip of trips) {
    const list = byGate.get(trip.gate) ?? [];
    list.push(trip);
    byGate.set(trip.gate, list);
  }
  // In the gates' declared order (the CLI's trip list uses the same).
  return GateName.options.flatMap((gate) => {
    const list = byGate.get(gate);
    if (!list) return [];
    const perState = gate === 'last-date' || gate === 'missing-dates' || level === 'state';
    const unit = perState ? (list.length === 1 ? 'state' : 'states') : list.length === 1 ? 'county' : 'counties';
    const named = list
      .slice(0, GEO_TRIPS_NAMED)
      .map((trip) => (trip.message.length > NAMED_CHARS ? `${trip.message.slice(0, NAMED_CHARS - 1)}…` : trip.message));
    const more = list.length > named.length ? `; and ${fmt(list.length - named.length)} more` : '';
    return [
      {
        gate,
        message: `${LEVEL_NAMES[level]} (${file}): ${gateWhat(gate, thresholds)} in ${fmt(list.length)} ${unit}: ${named.join(
          '; ',
        )}${more}`,
      },
    ];
  });
}
