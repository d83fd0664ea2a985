import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dataPartitionKey, type GeoRecord, versionPartitionKey } from '@covid-etl/contracts';
import { batchGetAll, batchPutAll } from './client.js';
import { geoVersionRun } from './tables.js';

/** A stored day of a state or county, with the run that last changed it and how (`deaths` absent: not reported). */
export interface GeoStoredDay {
  geo: string;
  date: string;
  cases: number;
  deaths: number | null;
  runId: string;
  /** `deleted`: a revert removed the day (its run had inserted it). */
  change: 'inserted' | 'updated' | 'deleted';
  updatedAt: string;
  /** What the day held before that change (null: it did not exist). */
  before: { cases: number; deaths: number | null; runId: string } | null;
  /** A removed day: kept as a tombstone (so its removal is versioned), left out of every read of the series. */
  removed?: boolean;
}

/**
 * The days of the states and counties in the data table: `pk` = the geography id
 * (`dataPartitionKey`), `sk` = date, `deaths` absent when not reported (never 0); one version
 * item per change under `versionPartitionKey(geo, date)` with `vrun` = run id and
 * `vdate` = `<date>#<geo>`. Reads are BatchGetItem of exactly the days of a part (strongly
 * consistent); writes are BatchWriteItem of the changed days with their versions (idempotent:
 * the same change writes the same items).
 */
export class GeoSeriesStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The stored days of these (geography, date) pairs, keyed `<geo>|<date>`. Removed days
   * (a revert's tombstones) are left out unless `removed` is true (the loader's read).
   */
  async getDays(
    keys: readonly { geo: string; date: string }[],
    { removed = false }: { removed?: boolean } = {},
  ): Promise<Map<string, GeoStoredDay>> {
    const out = new Map<string, GeoStoredDay>();
    const requests = keys.map((key) => ({ pk: dataPartitionKey(key.geo), sk: key.date }));
    await batchGetAll(
      this.doc,
      this.tableName,
      requests,
      (item) => {
        const day = fromItem(item);
        if (!day.removed || removed) out.set(`${day.geo}|${day.date}`, day);
      },
      'day',
    );
    return out;
  }

  /** Writes changed days with their versions, and the versions alone of `versionsOnly`. */
  async writeChanges(days: readonly GeoStoredDay[], versionsOnly: readonly GeoStoredDay[] = []): Promise<void> {
    const items = [...days.flatMap((day) => [dayItem(day), versionItem(day)]), ...versionsOnly.map(versionItem)];
    await batchPutAll(this.doc, this.tableName, items, { what: 'day' });
  }
}

/** The day a record makes over `previous`: inserted, or updated with what it replaces (a tombstone counts as absent). */
export function geoDayWritten(
  record: GeoRecord,
  stored: GeoStoredDay | undefined,
  meta: { runId: string; now: Date },
): GeoStoredDay {
  const previous = stored && !stored.removed ? stored : undefined;
  return {
    geo: record.geo,
    date: record.date,
    cases: record.cases,
    deaths: record.deaths,
    runId: meta.runId,
    change: previous ? 'updated' : 'inserted',
    updatedAt: meta.now.toISOString(),
    before: previous ? { cases: previous.cases, deaths: previous.deaths, runId: previous.runId } : null,
  };
}

/**
 * The tombstone that removing `previous` makes (a revert of the run that inserted it): it keeps
 * the values it replaced in `before`, so the removal has a version like any other change.
 */
export function geoDayRemoved(previous: GeoStoredDay, meta: { runId: string; now: Date }): GeoStoredDay {
  return {
    geo: previous.geo,
    date: previous.date,
    cases: previous.cases,
    deaths: previous.deaths,
    runId: meta.runId,
    change: 'deleted',
    updatedAt: meta.now.toISOString(),
    before: { cases: previous.cases, deaths: previous.deaths, runId: previous.runId },
    removed: true,
  };
}

function dayItem(day: GeoStoredDay): Record<string, unknown> {
  const { deaths, before, ...rest } = day;
  return {
    pk: dataPartitionKey(day.geo),
    sk: day.date,
    ...rest,
    ...(deaths === null ? {} : { deaths }),
    before: before === null ? null : withoutNullDeaths(before),
  };
}

function versionItem(day: GeoStoredDay): Record<string, unknown> {
  const { deaths, before, ...rest } = day;
  return {
    pk: versionPartitionKey(day.geo, day.date),
    sk: `${day.updatedAt}#${day.runId}`,
    vrun: geoVersionRun(day.runId),
    vdate: `${day.date}#${day.geo}`,
    ...rest,
    ...(deaths === null ? {} : { deaths }),
    before: before === null ? null : withoutNullDeaths(before),
  };
}

function withoutNullDeaths<T extends { deaths: number | null }>(values: T): Omit<T, 'deaths'> & { deaths?: number } {
  const { deaths, ...rest } = values;
  return deaths === null ? rest : { ...rest, deaths };
}

/**
 * The values of a stored day item of any geography (`sk` = date; `deaths` absent: not
 * reported, null): the one reading of a day item, for the store and the dashboard's reader.
 */
export function geoDayValues(item: Record<string, unknown>): { date: string; cases: number; deaths: number | null } {
  return {
    date: String(item.sk),
    cases: Number(item.cases),
    deaths: typeof item.deaths === 'number' ? item.deaths : null,
  };
}

function fromItem(item: Record<string, unknown>): GeoStoredDay {
  const before = item.before as { cases: number; deaths?: number; runId: string } | null | undefined;
  return {
    geo: String(item.geo),
    ...geoDayValues(item),
    runId: String(item.runId),
    change: item.change === 'updated' ? 'updated' : item.change === 'deleted' ? 'deleted' : 'inserted',
    updatedAt: String(item.updatedAt),
    before: before ? { cases: before.cases, deaths: before.deaths ?? null, runId: before.runId } : null,
    ...(item.removed === true ? { removed: true } : {}),
  };
}
