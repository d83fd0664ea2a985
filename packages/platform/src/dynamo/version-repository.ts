import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { versionPartitionKey } from '@covid-etl/contracts';
import { queryAllItems, queryPages } from './client.js';
import type { RecordChange, StoredRecord } from './series-repository.js';
import { geoVersionRun, NATIONAL_SERIES, VERSIONS_BY_RUN_INDEX } from './tables.js';

/** The values of a day. */
export interface DayValues {
  cases: number;
  deaths: number;
  recovered: number;
}

/**
 * One change of one day: what it held before (null: it did not exist) and after (null: the
 * change removed it), which run made it and when. There is exactly one per (day, run) that
 * changed the day.
 */
export interface DayVersion {
  date: string;
  runId: string;
  /** When the day item was written (its `updatedAt`). */
  at: string;
  change: RecordChange;
  before: (DayValues & { runId: string }) | null;
  after: DayValues | null;
}

/**
 * Partition of a day's versions in the data table (`versionPartitionKey` of the contracts):
 * `DAY#<date>` for the national series (the layout deployed tables hold), `DAY#<series>#<date>`
 * for any other geography.
 */
export const versionPartition = (date: string, series: string = NATIONAL_SERIES) => versionPartitionKey(series, date);

/**
 * The version a stored day item records. Derived only from the item, so writing it again
 * (a redelivery, a crash between the two writes) writes the very same item under the same key.
 */
export function versionOfDay(day: StoredRecord): DayVersion {
  const values = { cases: day.cases, deaths: day.deaths, recovered: day.recovered };
  return {
    date: day.date,
    runId: day.runId,
    at: day.updatedAt,
    change: day.change,
    before: day.before ?? null,
    after: day.change === 'deleted' ? null : values,
  };
}

/**
 * The version item of a stored day's last change. Its key is a function of the change alone:
 * `pk` = `DAY#<date>`, `sk` = `<start time of the run>#<run id>` (one item per day and run,
 * whatever the deliveries: two concurrent deliveries of a chunk, or a redelivery after a crash,
 * write the same key), so a day's history reads oldest run first. Days written before the run's
 * start time was stored keep the key they were written with (`<updatedAt>#<run id>`).
 */
export function versionItem(day: StoredRecord, series: string = NATIONAL_SERIES): Record<string, unknown> {
  const version = versionOfDay(day);
  return {
    pk: versionPartition(day.date, series),
    sk: `${day.runStartedAt ?? day.updatedAt}#${day.runId}`,
    vrun: series === NATIONAL_SERIES ? version.runId : geoVersionRun(version.runId),
    // A run's changes read by date on the index; other geographies' dates carry their id.
    vdate: series === NATIONAL_SERIES ? version.date : `${version.date}#${series}`,
    ...version,
  };
}

/**
 * The version items of the data table (see `versionItem`; written with their days by
 * `SeriesRepository.writeChanges`), and on the index `versionsByRun` `vrun` = run id,
 * `vdate` = date (a run's changes are one Query, by date).
 */
export class VersionRepository {
  private readonly series: string;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    { series = NATIONAL_SERIES }: { series?: string } = {},
  ) {
    this.series = series;
  }

  /**
   * Every version of one day, oldest first (one Query, paginated): in the order they were
   * written (`at`), which the key (the run's start) follows unless a run that started earlier
   * changed the day later (a chunk replayed from a DLQ).
   */
  async history(date: string): Promise<DayVersion[]> {
    const versions = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': versionPartition(date, this.series) },
      ConsistentRead: true,
    });
    return versions.sort((a, b) => a.at.localeCompare(b.at));
  }

  /**
   * Every day of this series one run changed, by date (one Query on the index, paginated).
   * States' and counties' versions have their own index key (`geoVersionRun`); those written
   * before it share the run id (their `vdate` is `<date>#<id>`) and are left out, so the
   * nation's diff, revert and time travel never read a county's day as one of theirs.
   */
  async changesOf(runId: string): Promise<DayVersion[]> {
    const items = await this.runItems(runId);
    return items.filter((item) => this.ownsIndexDate(String(item.vdate))).map(toVersion);
  }

  /**
   * Every day of the states and counties one run changed (Queries on the index, paginated;
   * only on the nation's repository): each with its
   * values before the run (null: the run inserted it) and after (null: the run removed it).
   */
  async geoChangesOf(runId: string): Promise<GeoDayVersion[]> {
    const all: GeoDayVersion[] = [];
    for await (const page of this.geoChangePages(runId)) all.push(...page);
    return all;
  }

  /**
   * {@link geoChangesOf} a page of the index at a time (a county backfill changes ~3.6 M days):
   * the states' and counties' own key (`geoVersionRun`), then the bare run id's items that are
   * not the nation's (geo versions written before that key existed).
   */
  async *geoChangePages(runId: string): AsyncGenerator<GeoDayVersion[]> {
    if (this.series !== NATIONAL_SERIES)
      throw new RangeError('geoChangesOf reads every geography: call it on the nation');
    for await (const page of queryPages(this.doc, this.runQuery(geoVersionRun(runId)))) {
      yield page.map(toGeoVersion);
    }
    for await (const page of queryPages(this.doc, this.runQuery(runId))) {
      const legacy = page.filter((item) => !this.ownsIndexDate(String(item.vdate)));
      if (legacy.length > 0) yield legacy.map(toGeoVersion);
    }
  }

  /**
   * The days of the states and counties one run changed in one month (`YYYY-MM`): the month's
   * slice of {@link geoChangePages}, read with `begins_with(vdate, month)` on both index keys, so
   * that a revert of a county backfill (~3.6 M days) holds a month of them at a time, not all.
   */
  async geoChangesOfMonth(runId: string, month: string): Promise<GeoDayVersion[]> {
    if (this.series !== NATIONAL_SERIES)
      throw new RangeError('geoChangesOfMonth reads every geography: call it on the nation');
    const inMonth = (key: string): QueryCommandInput => ({
      ...this.runQuery(key),
      KeyConditionExpression: 'vrun = :run AND begins_with(vdate, :month)',
      ExpressionAttributeValues: { ':run': key, ':month': `${month}-` },
    });
    const own = await queryAllItems(this.doc, inMonth(geoVersionRun(runId)));
    const legacy = (await queryAllItems(this.doc, inMonth(runId))).filter(
      (item) => !this.ownsIndexDate(String(item.vdate)),
    );
    return [...own, ...legacy].map(toGeoVersion);
  }

  /** The version items under one `vrun` key of the index (one Query, paginated). */
  private runItems(runId: string): Promise<Record<string, unknown>[]> {
    return queryAllItems(this.doc, this.runQuery(runId));
  }

  /** The Query of the version items under one `vrun` key of the index. */
  private runQuery(runId: string): QueryCommandInput {
    return {
      TableName: this.tableName,
      IndexName: VERSIONS_BY_RUN_INDEX,
      KeyConditionExpression: 'vrun = :run',
      ExpressionAttributeValues: { ':run': runId },
    };
  }

  /**
   * Every version of one day of a state or county (`geo`, a parsed id), oldest first (one Query
   * on its partition `versionPartitionKey(geo, date)`, paginated), in the order they were written.
   */
  async geoHistory(geo: string, date: string): Promise<GeoHistoryVersion[]> {
    const items = await queryAllItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': versionPartition(date, geo) },
      ConsistentRead: true,
    });
    return items
      .map((item) => ({ ...toGeoVersion(item), at: String(item.updatedAt) }))
      .sort((a, b) => a.at.localeCompare(b.at));
  }

  /** `vdate` of this series' versions: the date for the nation, `<date>#<series>` otherwise. */
  private ownsIndexDate(vdate: string): boolean {
    const [, suffix] = vdate.split('#', 2);
    return this.series === NATIONAL_SERIES ? suffix === undefined : suffix === this.series;
  }

  private async queryAll(input: QueryCommandInput): Promise<DayVersion[]> {
    return (await queryAllItems(this.doc, input)).map(toVersion);
  }
}

/** One change of one day of a state or county (`deaths` null: not reported). */
export interface GeoDayVersion {
  geo: string;
  date: string;
  runId: string;
  change: RecordChange;
  before: { cases: number; deaths: number | null; runId: string } | null;
  after: { cases: number; deaths: number | null } | null;
}

/** A version of a state's or county's day with when it was written (`at`, the day item's `updatedAt`). */
export type GeoHistoryVersion = GeoDayVersion & { at: string };

function toGeoVersion(item: Record<string, unknown>): GeoDayVersion {
  const deathsOf = (value: unknown) => (typeof value === 'number' ? value : null);
  const before = item.before as Record<string, unknown> | null | undefined;
  const change = item.change === 'updated' ? 'updated' : item.change === 'deleted' ? 'deleted' : 'inserted';
  return {
    geo: String(item.vdate).split('#', 2)[1] as string,
    date: String(item.date),
    runId: String(item.runId),
    change,
    before: before
      ? { cases: Number(before.cases), deaths: deathsOf(before.deaths), runId: String(before.runId) }
      : null,
    after: change === 'deleted' ? null : { cases: Number(item.cases), deaths: deathsOf(item.deaths) },
  };
}

function toVersion(item: Record<string, unknown>): DayVersion {
  const values = (value: unknown): DayValues | null => {
    if (!value || typeof value !== 'object') return null;
    const v = value as Record<string, unknown>;
    return { cases: Number(v.cases), deaths: Number(v.deaths), recovered: Number(v.recovered) };
  };
  const before = values(item.before);
  return {
    date: String(item.date),
    runId: String(item.runId),
    at: String(item.at),
    change: item.change === 'updated' ? 'updated' : item.change === 'deleted' ? 'deleted' : 'inserted',
    before: before ? { ...before, runId: String((item.before as Record<string, unknown>).runId) } : null,
    after: values(item.after),
  };
}
