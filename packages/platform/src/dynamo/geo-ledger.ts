import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type GeoDayHash,
  type GeoLevel,
  type GeoLevelPlan,
  type GeoRejectedRow,
  MAX_REJECTED_IN_SUMMARY,
  parseChunkKey,
} from '@covid-etl/contracts';
import { batchGetAll, isConditionalCheckFailed } from './client.js';
import { LedgerTable, runKey } from './ledger-items.js';

/** The ledger's partition of the day hashes of the states and counties (one item per chunk key). */
export const DAYS_PARTITION = 'DAYS';

/**
 * The ledger's partition of the geographies loaded on each day of a county chunk (one item per
 * chunk key, beside its day hashes): what the `missing-geographies` gate compares a changed day with.
 */
export const DAY_GEOS_PARTITION = 'DAYGEOS';

/** The geographies loaded on one day of a chunk: every geography id of the chunk's state that had a row. */
export interface GeoDayGeos {
  date: string;
  geos: readonly string[];
}

/** How a day hash or day geographies write goes about its item. */
export interface DayMapWriteOptions {
  /**
   * The chunk had no item when its run was planned (`GeoChunkMessage.newChunk`): put it first
   * (one request) instead of an update that fails on a new chunk (two). A hint only: a wrong
   * guess costs one more request, never a different item.
   */
  create?: boolean;
}

/** Most rejected rows kept per chunk (the count is always exact). */
export const MAX_REJECTED_PER_CHUNK = MAX_REJECTED_IN_SUMMARY;

/** The ledger's items for the states and counties: day hashes, rejected rows, the plan per level. */
export interface GeoLedger {
  /** The day hashes of the last successful loads of these chunks: chunk key → (date → hash). Absent chunks are absent. */
  getDayHashes(chunkKeys: readonly string[]): Promise<Map<string, Map<string, string>>>;
  /** Records the hashes of days just loaded (idempotent: the same part recorded twice is the same item). */
  putDayHashes(
    chunkKey: string,
    days: readonly GeoDayHash[],
    runId: string,
    options?: DayMapWriteOptions,
  ): Promise<void>;
  /**
   * Drops the hashes of dates no longer loaded (a revert removed every day the chunk had on them):
   * the next run compares them as new days. Idempotent; a chunk without hashes is left absent.
   */
  forgetDays(chunkKey: string, dates: readonly string[]): Promise<void>;
  /**
   * The geographies loaded on each day of these chunks (`putDayGeos`): chunk key → (date → geo
   * ids). Chunks and days loaded before they were recorded are absent.
   */
  getDayGeos(chunkKeys: readonly string[]): Promise<Map<string, Map<string, string[]>>>;
  /** Records the geographies of days just loaded (idempotent; a day recorded again is replaced). */
  putDayGeos(chunkKey: string, days: readonly GeoDayGeos[], runId: string, options?: DayMapWriteOptions): Promise<void>;
  /** Keeps a chunk's rejected rows with the run (`RUN#<runId>`/`REJECTED#<chunk key>`), capped, with the exact count. */
  putRejections(runId: string, chunkKey: string, rows: readonly GeoRejectedRow[]): Promise<void>;
  /** Every rejection item of a run: chunk key → rows kept and exact count. */
  listRejections(runId: string): Promise<{ chunk: string; rows: GeoRejectedRow[]; count: number }[]>;
  /** Records what a run planned per level (`geo` on the run item). */
  recordGeoPlan(runId: string, plan: Partial<Record<Exclude<GeoLevel, 'nation'>, GeoLevelPlan>>): Promise<void>;
}

/**
 * The ledger's geography items (see docs/architecture.md, Geographies): `DAYS`/`<chunk key>`
 * holds date → day hash of the last successful load of each day of a (level, state, month);
 * `DAYGEOS`/`<chunk key>` the geographies loaded on each of those days (counties);
 * `RUN#<runId>`/`REJECTED#<chunk key>` the rows of a chunk the fetcher rejected.
 */
export class DynamoGeoLedger extends LedgerTable implements GeoLedger {
  async getDayHashes(chunkKeys: readonly string[]): Promise<Map<string, Map<string, string>>> {
    const out = new Map<string, Map<string, string>>();
    for (const [key, days] of await this.getDayMaps(DAYS_PARTITION, 'days', chunkKeys)) {
      out.set(key, new Map(Object.entries(days)));
    }
    return out;
  }

  async putDayHashes(
    chunkKey: string,
    days: readonly GeoDayHash[],
    runId: string,
    options: DayMapWriteOptions = {},
  ): Promise<void> {
    await this.setDayMap(
      DAYS_PARTITION,
      'days',
      chunkKey,
      days.map((day) => [day.date, day.hash]),
      runId,
      options,
    );
  }

  /**
   * Kept as one string per day, the ids without the state's two digits, space-separated
   * (`"001 003 … -unknown"`): Texas's 255 series are ~1 KB a day, ~31 KB a month item. Read
   * only for chunks with a changed day that was loaded before, so an unchanged re-run never reads it.
   */
  async getDayGeos(chunkKeys: readonly string[]): Promise<Map<string, Map<string, string[]>>> {
    const out = new Map<string, Map<string, string[]>>();
    for (const [key, days] of await this.getDayMaps(DAY_GEOS_PARTITION, 'geos', chunkKeys)) {
      const state = parseChunkKey(key).state;
      out.set(
        key,
        new Map(Object.entries(days).map(([date, list]) => [date, list.split(' ').map((rest) => `${state}${rest}`)])),
      );
    }
    return out;
  }

  async putDayGeos(
    chunkKey: string,
    days: readonly GeoDayGeos[],
    runId: string,
    options: DayMapWriteOptions = {},
  ): Promise<void> {
    const state = parseChunkKey(chunkKey).state;
    const entries = days.map((day): [string, string] => {
      const rest = [...new Set(day.geos)].sort().map((geo) => {
        if (!geo.startsWith(state)) throw new RangeError(`geography ${geo} is not of the state of chunk ${chunkKey}`);
        return geo.slice(state.length);
      });
      return [day.date, rest.join(' ')];
    });
    await this.setDayMap(DAY_GEOS_PARTITION, 'geos', chunkKey, entries, runId, options);
  }

  /** Reads `<partition>`/`<chunk key>` items (BatchGetItem, 100 keys a request): chunk key → the map in `attribute`. */
  private async getDayMaps(
    partition: string,
    attribute: string,
    chunkKeys: readonly string[],
  ): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    const keys = [...new Set(chunkKeys)].map((key) => ({ pk: partition, sk: key }));
    await batchGetAll(
      this.doc,
      this.tableName,
      keys,
      (item) => out.set(String(item.sk), (item[attribute] ?? {}) as Record<string, string>),
      partition,
    );
    return out;
  }

  /**
   * Sets date entries of the map `attribute` of `<partition>`/`<chunk key>`, one `SET` per date,
   * so parts of one chunk (whole days each) recorded at the same moment never overwrite each other.
   * One request when the guess of `options.create` is right (the item is there, or it is not and
   * `create` says so), two when it is wrong: the conditions, not the guess, decide what is written.
   */
  private async setDayMap(
    partition: string,
    attribute: string,
    chunkKey: string,
    entries: readonly (readonly [string, string])[],
    runId: string,
    options: DayMapWriteOptions,
  ): Promise<void> {
    if (entries.length === 0) return;
    if (options.create && (await this.createDayMap(partition, attribute, chunkKey, entries, runId))) return;
    const names: Record<string, string> = { '#map': attribute, '#runId': 'runId' };
    const values: Record<string, string> = { ':runId': runId };
    const sets = entries.map(([date, value], index) => {
      names[`#d${index}`] = date;
      values[`:v${index}`] = value;
      return `#map.#d${index} = :v${index}`;
    });
    const key = { pk: partition, sk: chunkKey };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}, #runId = :runId`,
          ConditionExpression: 'attribute_exists(#map)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // The chunk's first part ever: create the map (or, if another part just did, add to it).
    if (!(await this.createDayMap(partition, attribute, chunkKey, entries, runId))) {
      await this.setDayMap(partition, attribute, chunkKey, entries, runId, {});
    }
  }

  /** Puts the map item if it is not there yet: `false` when it was (nothing written). */
  private async createDayMap(
    partition: string,
    attribute: string,
    chunkKey: string,
    entries: readonly (readonly [string, string])[],
    runId: string,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: partition, sk: chunkKey, runId, [attribute]: Object.fromEntries(entries) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return false;
    }
  }

  async forgetDays(chunkKey: string, dates: readonly string[]): Promise<void> {
    if (dates.length === 0) return;
    const names: Record<string, string> = { '#days': 'days' };
    const removes = dates.map((date, index) => {
      names[`#d${index}`] = date;
      return `#days.#d${index}`;
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: DAYS_PARTITION, sk: chunkKey },
          UpdateExpression: `REMOVE ${removes.join(', ')}`,
          ConditionExpression: 'attribute_exists(#days)',
          ExpressionAttributeNames: names,
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async putRejections(runId: string, chunkKey: string, rows: readonly GeoRejectedRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: runKey(runId).pk,
          sk: `REJECTED#${chunkKey}`,
          chunk: chunkKey,
          count: rows.length,
          rows: rows.slice(0, MAX_REJECTED_PER_CHUNK),
        },
      }),
    );
  }

  async listRejections(runId: string): Promise<{ chunk: string; rows: GeoRejectedRow[]; count: number }[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': runKey(runId).pk, ':prefix': 'REJECTED#' },
      ConsistentRead: true,
    });
    return items.map((item) => ({
      chunk: String(item.chunk),
      rows: (item.rows ?? []) as GeoRejectedRow[],
      count: Number(item.count ?? 0),
    }));
  }

  async recordGeoPlan(runId: string, plan: Partial<Record<Exclude<GeoLevel, 'nation'>, GeoLevelPlan>>): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKey(runId),
        UpdateExpression: 'SET geo = :geo',
        ExpressionAttributeValues: { ':geo': plan },
      }),
    );
  }
}
