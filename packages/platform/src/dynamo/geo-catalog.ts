import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { type GeoLevel, parseGeoId, SPECIAL_COUNTIES, stateByFips } from '@covid-etl/contracts';
import { batchDeleteAll, batchPutAll, queryAllItems } from './client.js';
import { geoDayValues } from './geo-series.js';

/**
 * The partition of the geography catalogue in the data table (`sk` = geo id). Not a geography
 * id (`parseGeoId` rejects it: ids are `US` or start with two digits) and not a version
 * partition (`DAY#…`).
 */
export const GEOS_PARTITION = 'GEOS';

/** The partition of a state's county summaries in the data table (`sk` = county geo id): `COUNTIES#48`. */
export function countiesPartitionKey(stateFips: string): string {
  const geo = parseGeoId(stateFips);
  if (geo.level !== 'state') throw new RangeError(`"${stateFips}" is not a state FIPS code such as 48`);
  return `COUNTIES#${geo.id}`;
}

/** Days in the 7-day averages (the same window as the dashboard's charts). */
const AVERAGE_DAYS = 7;
const DAY_MS = 86_400_000;

/** One stored day of a geography: `deaths` null when not reported; `recovered` for the nation only. */
export interface GeoDay {
  date: string;
  cases: number;
  deaths: number | null;
  recovered?: number;
}

/** A day of one geography, as the loader loaded it. */
export interface GeoDayOf extends GeoDay {
  geo: string;
}

/** A catalogue entry (`pk = GEOS`, `sk = <geo id>`): what the dashboard's picker lists. */
export interface GeoCatalogEntry {
  id: string;
  name: string;
  level: GeoLevel;
  /** State FIPS of a state or county; null for the nation. */
  state: string | null;
  firstDate: string;
  lastDate: string;
  /** Cumulative values on `lastDate`. */
  cases: number;
  deaths: number | null;
}

/** A county's summary (`pk = COUNTIES#<state>`, `sk = <geo id>`): one row of a state's county table. */
export interface CountySummary {
  id: string;
  name: string;
  /** The county's latest date and its cumulative values. */
  date: string;
  cases: number;
  deaths: number | null;
  /** Mean of the 7 daily values ending on `date` (1 decimal); null unless all 8 days are stored. */
  newCases7d: number | null;
  newDeaths7d: number | null;
  /** The stored days among the 8 ending on `date` (what the next day's averages start from). */
  window: GeoDay[];
}

/** What one {@link GeoCatalogRepository.applyLoaded} call cost, from its own counters. */
export interface CatalogUpdateCounts {
  /** Queries of the catalogue and summary partitions: at most 2 per state touched (1 for the nation). */
  partitionQueries: number;
  /** Queries of a county's series, made only when the records in hand and the stored window miss a day of the last 8. */
  seriesQueries: number;
  /** Catalogue and summary items put (only those whose content changed). */
  itemsWritten: number;
  /** BatchWriteItem requests (25 items each at most). */
  batchRequests: number;
}

/** The parts of this repository the dashboard reads (Queries only; no Scan, no GetItem). */
export interface GeoCatalogReader {
  listGeos(): Promise<GeoCatalogEntry[]>;
  getGeo(id: string): Promise<GeoCatalogEntry | undefined>;
  listCounties(stateFips: string): Promise<CountySummary[]>;
}

/** The name of a geography when the loader gives none (the state's name, the area's label, or the FIPS code). */
export function defaultGeoName(id: string): string {
  const geo = parseGeoId(id);
  if (geo.level === 'nation') return 'United States';
  const state = stateByFips(geo.state)?.name ?? geo.state;
  if (geo.level === 'state') return state;
  if ('special' in geo) return `${SPECIAL_COUNTIES[geo.special].county}, ${state}`;
  return `County ${geo.fips}, ${state}`;
}

/**
 * The geography catalogue and the county summaries, kept in the data table next to the series:
 * - `pk = GEOS`, `sk = <geo id>`: name, level, state, first and last date, latest cumulative
 *   values (the dashboard's picker: one Query, ~3,300 small items);
 * - `pk = COUNTIES#<state>`, `sk = <county id>`: each county's latest date, cumulative values
 *   and 7-day averages of new cases and deaths (a state's county table: one Query).
 *
 * The loader calls {@link applyLoaded} after it wrote a part's days. Cost per call, for the
 * states touched: one Query of the catalogue items of the state (`begins_with(sk, <state>)`;
 * only the state's own item, `sk = <state>`, when the records are the state's own days) and,
 * when counties are among the records, one Query of `COUNTIES#<state>`; then only the items
 * whose content changed, put with BatchWriteItem (25 per request). A county's averages
 * come from the records in hand, the days the caller read (`known`) and the 8-day window the
 * summary keeps; only when these miss a stored day of the last 8 does it Query that county's
 * series (8 items). A daily run that adds one day to every county therefore costs ~2 Queries per
 * state and one put per changed catalogue and summary item, never a Query per county.
 *
 * Idempotent: the items are a function of what is stored and what the call is given, and an
 * item whose content is unchanged is not written (a redelivered part writes nothing). Puts are
 * not conditional (BatchWriteItem takes no condition): callers must not run two calls for the
 * same state at once (the loader holds the state's catalogue lock, `ChunkLedger.lockCatalogue`).
 */
export class GeoCatalogRepository implements GeoCatalogReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Every catalogue entry in id order (nation, then states each followed by their counties): one paginated Query. */
  async listGeos(): Promise<GeoCatalogEntry[]> {
    const items = await this.query({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': GEOS_PARTITION },
    });
    return items.map(toEntry);
  }

  /**
   * Per state FIPS, the first and last dates loaded of one level: a state's own series
   * (`state`), or the earliest and latest of its counties, `Unknown` and the special areas
   * included (`county`). One paginated Query of the catalogue (~3,300 small items; their id,
   * level and dates only). The fetcher's gates compare a states or counties file with it: a file
   * that ends before what is loaded (`last-date`), or a full file that starts after it
   * (`missing-dates`), is held even when it changes no day, as a national file is.
   */
  async loadedDatesByState(level: 'state' | 'county'): Promise<Map<string, { first: string; last: string }>> {
    const items = await this.query({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ProjectionExpression: 'sk, #level, firstDate, lastDate',
      ExpressionAttributeNames: { '#level': 'level' },
      ExpressionAttributeValues: { ':pk': GEOS_PARTITION },
    });
    const out = new Map<string, { first: string; last: string }>();
    for (const item of items) {
      if (item.level !== level) continue;
      const state = String(item.sk).slice(0, 2);
      const first = String(item.firstDate);
      const last = String(item.lastDate);
      const known = out.get(state);
      out.set(state, {
        first: known && known.first < first ? known.first : first,
        last: known && known.last > last ? known.last : last,
      });
    }
    return out;
  }

  /**
   * One catalogue entry, or undefined when the geography was never loaded. A Query on the key
   * (not a GetItem): the dashboard's role may Query the data table and nothing else.
   */
  async getGeo(id: string): Promise<GeoCatalogEntry | undefined> {
    const [item] = await this.query({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': GEOS_PARTITION, ':sk': parseGeoId(id).id },
    });
    return item ? toEntry(item) : undefined;
  }

  /** The summaries of a state's counties, in id order (one paginated Query). */
  async listCounties(stateFips: string): Promise<CountySummary[]> {
    const items = await this.query({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': countiesPartitionKey(stateFips) },
    });
    return items.map(toSummary);
  }

  /**
   * Brings the catalogue and the county summaries up to date with days the loader just wrote
   * (`records`, any geographies, any days). `known`: other stored days the caller read (they
   * spare a series Query when they fill the 8-day window); `names`: the publisher's names of
   * the geographies (`Harris`), kept once given. `removed`: days a revert just removed; each
   * geography with one is rebuilt from its stored series (one strongly consistent Query of it),
   * so its latest values never stay those of a removed day, and a geography left with no day
   * leaves the catalogue (and its state's county table). Safe to repeat; see the class for the cost.
   */
  async applyLoaded({
    records,
    known = [],
    names = new Map(),
    removed = [],
  }: {
    records: readonly GeoDayOf[];
    known?: readonly GeoDayOf[];
    names?: ReadonlyMap<string, string>;
    removed?: readonly { geo: string; date: string }[];
  }): Promise<CatalogUpdateCounts> {
    const counts: CatalogUpdateCounts = { partitionQueries: 0, seriesQueries: 0, itemsWritten: 0, batchRequests: 0 };
    const byGroup = new Map<string, Map<string, GeoDay[]>>();
    for (const record of records) {
      const geo = parseGeoId(record.geo);
      const group = geo.level === 'nation' ? geo.id : geo.state;
      const geos = byGroup.get(group) ?? new Map<string, GeoDay[]>();
      const days = geos.get(geo.id) ?? [];
      days.push(dayOf(record));
      geos.set(geo.id, days);
      byGroup.set(group, geos);
    }
    const rebuilt = new Set<string>();
    for (const day of removed) {
      const geo = parseGeoId(day.geo);
      const group = geo.level === 'nation' ? geo.id : geo.state;
      const geos = byGroup.get(group) ?? new Map<string, GeoDay[]>();
      geos.set(geo.id, geos.get(geo.id) ?? []);
      byGroup.set(group, geos);
      rebuilt.add(geo.id);
    }
    const knownByGeo = new Map<string, Map<string, GeoDay>>();
    for (const day of known) {
      const days = knownByGeo.get(day.geo) ?? new Map<string, GeoDay>();
      days.set(day.date, dayOf(day));
      knownByGeo.set(day.geo, days);
    }

    const puts: Record<string, unknown>[] = [];
    const deletes: { pk: string; sk: string }[] = [];
    for (const [group, geos] of byGroup) {
      // Only the entries of `geos` are compared: a state's own days need its item, not its counties'.
      const ownItemOnly = group === 'US' || [...geos.keys()].every((id) => id === group);
      const catalogue = new Map(
        (
          await this.query({
            TableName: this.tableName,
            KeyConditionExpression: ownItemOnly ? 'pk = :pk AND sk = :group' : 'pk = :pk AND begins_with(sk, :group)',
            ExpressionAttributeValues: { ':pk': GEOS_PARTITION, ':group': group },
          })
        ).map((item) => [String(item.sk), toEntry(item)]),
      );
      counts.partitionQueries += 1;
      const hasCounties = [...geos.keys()].some((id) => parseGeoId(id).level === 'county');
      const summaries = new Map<string, CountySummary>();
      if (hasCounties) {
        for (const item of await this.query({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': countiesPartitionKey(group) },
        })) {
          summaries.set(String(item.sk), toSummary(item));
        }
        counts.partitionQueries += 1;
      }

      for (const [id, days] of geos) {
        const geo = parseGeoId(id);
        const before = catalogue.get(id);
        if (rebuilt.has(id)) {
          counts.seriesQueries += 1;
          const series = await this.storedSeries(id);
          const first = series[0];
          const last = series.at(-1);
          if (!first || !last) {
            if (before) deletes.push({ pk: GEOS_PARTITION, sk: id });
            if (summaries.has(id)) deletes.push({ pk: countiesPartitionKey(group), sk: id });
            continue;
          }
          const entry: GeoCatalogEntry = {
            id,
            name: names.get(id) ?? before?.name ?? defaultGeoName(id),
            level: geo.level,
            state: geo.level === 'nation' ? null : geo.state,
            firstDate: first.date,
            lastDate: last.date,
            cases: last.cases,
            deaths: last.deaths,
          };
          if (!before || !sameEntry(before, entry)) puts.push(entryItem(entry));
          if (geo.level !== 'county') continue;
          const window = windowDates(entry.lastDate);
          const summary = summarize(entry, window, new Map(series.map((day) => [day.date, day])));
          const stored = summaries.get(id);
          if (!stored || !sameSummary(stored, summary)) puts.push(summaryItem(group, summary));
          continue;
        }
        const entry = nextEntry(id, geo.level, days, before, names.get(id));
        if (!before || !sameEntry(before, entry)) puts.push(entryItem(entry));
        if (geo.level !== 'county') continue;

        const stored = summaries.get(id);
        const window = windowDates(entry.lastDate);
        const touches = days.some((day) => day.date >= (window[0] as string));
        if (stored && !touches && stored.date === entry.lastDate && stored.name === entry.name) continue;
        const values = new Map<string, GeoDay>();
        for (const day of stored?.window ?? []) values.set(day.date, day);
        for (const [date, day] of knownByGeo.get(id) ?? []) values.set(date, day);
        for (const day of days) values.set(day.date, day);
        // A geography seen for the first time may have stored days before the records in hand.
        const firstKnown = before ? entry.firstDate : undefined;
        const missing = window.some((date) => !values.has(date) && (firstKnown === undefined || date >= firstKnown));
        if (missing) {
          counts.seriesQueries += 1;
          const storedDays = await this.query({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': id, ':from': window[0], ':to': entry.lastDate },
          });
          for (const item of storedDays) {
            if (item.removed === true) continue;
            const date = String(item.sk);
            if (!days.some((day) => day.date === date)) values.set(date, geoDayValues(item));
          }
        }
        const summary = summarize(entry, window, values);
        if (!stored || !sameSummary(stored, summary)) puts.push(summaryItem(group, summary));
      }
    }

    await batchPutAll(this.doc, this.tableName, puts, {
      what: 'catalogue',
      onRequest: () => {
        counts.batchRequests += 1;
      },
    });
    counts.itemsWritten += puts.length;
    // A geography a revert emptied leaves the picker and its state's county table.
    await batchDeleteAll(this.doc, this.tableName, deletes, {
      what: 'catalogue',
      onRequest: () => {
        counts.batchRequests += 1;
      },
    });
    counts.itemsWritten += deletes.length;
    return counts;
  }

  /** A geography's stored days in date order, removed days left out (strongly consistent, paginated). */
  private async storedSeries(id: string): Promise<GeoDay[]> {
    const items = await this.query({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': id },
      ConsistentRead: true,
    });
    return items.filter((item) => item.removed !== true).map(geoDayValues);
  }

  private query(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    return queryAllItems(this.doc, input);
  }
}

function dayOf(day: GeoDay): GeoDay {
  return {
    date: day.date,
    cases: day.cases,
    deaths: day.deaths,
    ...(day.recovered === undefined ? {} : { recovered: day.recovered }),
  };
}

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The 8 dates ending on `last`, oldest first. */
function windowDates(last: string): string[] {
  return Array.from({ length: AVERAGE_DAYS + 1 }, (_, i) => shiftDate(last, i - AVERAGE_DAYS));
}

function nextEntry(
  id: string,
  level: GeoLevel,
  days: readonly GeoDay[],
  before: GeoCatalogEntry | undefined,
  name: string | undefined,
): GeoCatalogEntry {
  const latest = days.reduce((a, b) => (b.date > a.date ? b : a));
  const earliest = days.reduce((a, b) => (b.date < a.date ? b : a));
  const geo = parseGeoId(id);
  const keepStored = before !== undefined && before.lastDate > latest.date;
  return {
    id,
    name: name ?? before?.name ?? defaultGeoName(id),
    level,
    state: geo.level === 'nation' ? null : geo.state,
    firstDate: before && before.firstDate < earliest.date ? before.firstDate : earliest.date,
    lastDate: keepStored ? before.lastDate : latest.date,
    cases: keepStored ? before.cases : latest.cases,
    deaths: keepStored ? before.deaths : latest.deaths,
  };
}

function summarize(
  entry: GeoCatalogEntry,
  window: readonly string[],
  values: ReadonlyMap<string, GeoDay>,
): CountySummary {
  const days = window.flatMap((date) => {
    const day = values.get(date);
    return day ? [{ date, cases: day.cases, deaths: day.deaths }] : [];
  });
  const first = days.length === window.length ? days[0] : undefined;
  const last = days.at(-1);
  const mean = (from: number | null | undefined, to: number | null | undefined) =>
    from === null || from === undefined || to === null || to === undefined
      ? null
      : Math.round(((to - from) / AVERAGE_DAYS) * 10) / 10;
  const deathsKnown = days.every((day) => day.deaths !== null);
  return {
    id: entry.id,
    name: entry.name,
    date: entry.lastDate,
    cases: entry.cases,
    deaths: entry.deaths,
    newCases7d: first ? mean(first.cases, last?.cases) : null,
    newDeaths7d: first && deathsKnown ? mean(first.deaths, last?.deaths) : null,
    window: days,
  };
}

function entryItem(entry: GeoCatalogEntry): Record<string, unknown> {
  return { pk: GEOS_PARTITION, sk: entry.id, ...withoutNull(entry) };
}

function summaryItem(state: string, summary: CountySummary): Record<string, unknown> {
  return {
    pk: countiesPartitionKey(state),
    sk: summary.id,
    ...withoutNull(summary),
    window: summary.window.map((day) => withoutNull(day)),
  };
}

/** Nulls are stored as absent attributes (as the day items store an unreported `deaths`). */
function withoutNull<T extends object>(value: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null));
}

const numberOrNull = (value: unknown) => (typeof value === 'number' ? value : null);

function toEntry(item: Record<string, unknown>): GeoCatalogEntry {
  return {
    id: String(item.sk),
    name: String(item.name),
    level: item.level as GeoLevel,
    state: typeof item.state === 'string' ? item.state : null,
    firstDate: String(item.firstDate),
    lastDate: String(item.lastDate),
    cases: Number(item.cases),
    deaths: numberOrNull(item.deaths),
  };
}

function toSummary(item: Record<string, unknown>): CountySummary {
  const window = Array.isArray(item.window) ? (item.window as Record<string, unknown>[]) : [];
  return {
    id: String(item.sk),
    name: String(item.name),
    date: String(item.date),
    cases: Number(item.cases),
    deaths: numberOrNull(item.deaths),
    newCases7d: numberOrNull(item.newCases7d),
    newDeaths7d: numberOrNull(item.newDeaths7d),
    window: window.map((day) => ({
      date: String(day.date),
      cases: Number(day.cases),
      deaths: numberOrNull(day.deaths),
    })),
  };
}

function sameEntry(a: GeoCatalogEntry, b: GeoCatalogEntry): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameSummary(a: CountySummary, b: CountySummary): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * One geography's stored series in date order (one paginated Query on `pk = <geo id>`, removed
 * days left out). A reader for the dashboard and the export of states and counties, whose days
 * may lack `deaths` (not reported) and have no `recovered`.
 */
export class GeoSeriesReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async query(geoId: string, range: { from?: string; to?: string } = {}): Promise<GeoDay[]> {
    const items = await this.items(geoId, range);
    return items
      .filter((item) => item.removed !== true)
      .map((item) => ({
        ...geoDayValues(item),
        ...(typeof item.recovered === 'number' ? { recovered: item.recovered } : {}),
      }));
  }

  /**
   * Every stored day of one state or county, removed days (a revert's tombstones) included, each
   * with the run that last changed it (the same one Query as {@link query}): what time travel
   * starts from.
   */
  async lastChanges(geoId: string): Promise<(GeoDay & { runId: string; removed: boolean })[]> {
    const items = await this.items(geoId, {});
    return items.map((item) => ({ ...geoDayValues(item), runId: String(item.runId), removed: item.removed === true }));
  }

  private items(geoId: string, { from, to }: { from?: string; to?: string }): Promise<Record<string, unknown>[]> {
    return queryAllItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': parseGeoId(geoId).id,
        ':from': from ?? '0000-00-00',
        ':to': to ?? '9999-99-99',
      },
    });
  }
}
