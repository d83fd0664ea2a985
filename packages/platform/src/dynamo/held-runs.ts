import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { GateName, GateTrip, GeoLevel, RunSummary } from '@covid-etl/contracts';
import { BATCH_WRITE_ITEMS, batchDeleteAll, batchPutAll, isConditionalCheckFailed, queryPages } from './client.js';
import { LedgerTable, runKey } from './ledger-items.js';

/**
 * One chunk of a HELD snapshot: the transformer message the run would have sent, a month of
 * the nation (`month` = `2020-04`, a `TransformChunkMessage`) or a part of a states or counties
 * chunk (`month` = its part key `county/48/2021-03#01-17`, a `GeoChunkMessage`).
 */
export interface HeldChunk {
  month: string;
  /** The message's `hash` (its month's or its chunk's), kept beside the body so a plan is read without the bodies. */
  hash: string;
  /** The message as JSON (at most 256 KiB: the SQS limit, under DynamoDB's 400 KB item). */
  body: string;
}

/**
 * A held chunk as read back: `hash` is absent on items held before hashes were kept beside the
 * bodies (the hash is then the body's own `hash`).
 */
export interface StoredHeldChunk {
  month: string;
  hash?: string;
  body: string;
}

/** A held chunk's key and hash, read without its body (`hash`: see {@link StoredHeldChunk}). */
export type HeldChunkKey = Omit<StoredHeldChunk, 'body'>;

/** Options of {@link HeldRunRepository}. */
export interface HeldRunOptions {
  /** At most this many held chunks per Query page of bodies (default: DynamoDB's 1 MB pages). */
  pageItems?: number;
}

/** One geography's tripped gate, as a HELD run keeps the full list (its `gates` has one line per gate). */
export interface HeldGeoTrip {
  gate: GateName;
  level: Exclude<GeoLevel, 'nation'>;
  /** The geography (or, for the date gates of counties, the state; for a whole file, the level). */
  geo: string;
  message: string;
}

const HELD_PREFIX = 'HELD#';
const TRIPS_PREFIX = 'GATES#';
/** Bytes of trips per ledger item: well under DynamoDB's 400 KB item. */
const TRIPS_PAGE_BYTES = 300_000;

/**
 * What a HELD run keeps so that `etl approve` loads exactly its snapshot: every month chunk of
 * the nation and every part of the states and counties, in the ledger table beside the run
 * (`RUN#<runId>` / `HELD#<month or part key>`, its key and hash beside its body, so the plan is
 * read without the bodies and the bodies a page at a time), and every geography's trip (`GATES#<page>`),
 * the same locally and in AWS. And the decision transitions: HELD → RUNNING (approve) and HELD →
 * REJECTED (reject), both conditional, so a decision is taken once.
 */
export class HeldRunRepository extends LedgerTable {
  constructor(
    doc: DynamoDBDocumentClient,
    tableName: string,
    private readonly options: HeldRunOptions = {},
  ) {
    super(doc, tableName);
  }

  /**
   * Stores the snapshot's chunks, each with its key (`month`) and hash beside its body
   * (idempotent: the same run id holds the same snapshot). BatchWriteItem, 25 a request;
   * `chunks` may be a generator, read 25 at a time, each request written before the next 25 are
   * built (a county backfill's parts are ~420 MB of bodies).
   */
  async putChunks(runId: string, chunks: Iterable<HeldChunk>): Promise<void> {
    let batch: Record<string, unknown>[] = [];
    for (const chunk of chunks) {
      batch.push({ pk: `RUN#${runId}`, sk: `${HELD_PREFIX}${chunk.month}`, runId, ...chunk });
      if (batch.length === BATCH_WRITE_ITEMS) {
        await this.putAll(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.putAll(batch);
  }

  /**
   * The held snapshot's keys and hashes, without the bodies (a Query whose projection leaves the
   * body out, every page), in key order: the nation's months, then the counties' and the states'
   * parts. Strongly consistent. A county backfill's ~3,100 keys are a few hundred KB.
   */
  async getChunkKeys(runId: string): Promise<HeldChunkKey[]> {
    const items = await this.queryAll({
      ...this.queryOf(runId, HELD_PREFIX),
      ProjectionExpression: '#month, #hash',
      ExpressionAttributeNames: { '#month': 'month', '#hash': 'hash' },
    });
    return items.map(heldKey);
  }

  /** One held chunk with its body (strongly consistent), or undefined. */
  async getChunk(runId: string, month: string): Promise<StoredHeldChunk | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `RUN#${runId}`, sk: `${HELD_PREFIX}${month}` },
        ConsistentRead: true,
      }),
    );
    return Item ? { ...heldKey(Item), body: String(Item.body) } : undefined;
  }

  /**
   * The held snapshot's chunks with their bodies, a Query page at a time (at most 1 MB, or
   * `pageItems` chunks), in the key order of {@link getChunkKeys}, strongly consistent: each page
   * is read when the one before it has been consumed, so the bodies never all exist at once.
   */
  async *chunkPages(runId: string): AsyncGenerator<StoredHeldChunk[]> {
    const query = { ...this.queryOf(runId, HELD_PREFIX), Limit: this.options.pageItems };
    for await (const items of queryPages(this.doc, query)) {
      if (items.length > 0) yield items.map((item) => ({ ...heldKey(item), body: String(item.body) }));
    }
  }

  /**
   * Deletes the held snapshot's chunks once a decision no longer needs them: after a reject, and
   * after an approve has sent them all (`dispatch` SENT; until then an interrupted approve reads
   * them again). The trips (`GATES#`) stay: `etl trips` reads them for the run's record. Keys
   * only are read; BatchWriteItem, 25 a request. Idempotent. A county backfill held ~420 MB.
   */
  async deleteChunks(runId: string): Promise<number> {
    const keys = (await this.getChunkKeys(runId)).map((key) => ({
      pk: `RUN#${runId}`,
      sk: `${HELD_PREFIX}${key.month}`,
    }));
    if (keys.length > 0) await batchDeleteAll(this.doc, this.tableName, keys, { what: 'held items' });
    return keys.length;
  }

  /**
   * Keeps every geography's trip beside the held snapshot (`RUN#<runId>` / `GATES#<page>`, pages
   * of at most 300 KB): thousands of counties can trip at once, more than the run item (400 KB)
   * or its event (256 KB) can carry. Idempotent.
   */
  async putTrips(runId: string, trips: readonly HeldGeoTrip[]): Promise<void> {
    const pages: HeldGeoTrip[][] = [[]];
    let bytes = 0;
    for (const trip of trips) {
      const size = Buffer.byteLength(JSON.stringify(trip), 'utf8');
      if (bytes + size > TRIPS_PAGE_BYTES && (pages.at(-1) as HeldGeoTrip[]).length > 0) {
        pages.push([]);
        bytes = 0;
      }
      (pages.at(-1) as HeldGeoTrip[]).push(trip);
      bytes += size;
    }
    await this.putAll(
      pages.map((page, index) => ({
        pk: `RUN#${runId}`,
        sk: `${TRIPS_PREFIX}${String(index).padStart(4, '0')}`,
        runId,
        trips: page,
      })),
    );
  }

  /** Every geography's trip of a held run, in the order kept. */
  async getTrips(runId: string): Promise<HeldGeoTrip[]> {
    const items = await this.itemsOf(runId, TRIPS_PREFIX);
    return items
      .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
      .flatMap((item) => (item.trips ?? []) as HeldGeoTrip[]);
  }

  /** The run's items whose sort key starts with `prefix` (strongly consistent). */
  private itemsOf(runId: string, prefix: string): Promise<Record<string, unknown>[]> {
    return this.queryAll(this.queryOf(runId, prefix));
  }

  /** The Query of the run's items whose sort key starts with `prefix`, in key order (strongly consistent). */
  private queryOf(runId: string, prefix: string) {
    return {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `RUN#${runId}`, ':prefix': prefix },
      ConsistentRead: true,
    };
  }

  private async putAll(items: Record<string, unknown>[]): Promise<void> {
    await batchPutAll(this.doc, this.tableName, items, { what: 'held items' });
  }

  /**
   * HELD → RUNNING with the decision recorded and the held outcome cleared (the gates it
   * tripped kept on the run, for its final summary), so the run goes through dispatch and
   * loading like any run. Returns false when the run is not HELD.
   */
  async approve(runId: string, decision: { at: string; by?: string }, gates: GateTrip[]): Promise<boolean> {
    return this.transition(runId, {
      UpdateExpression:
        'SET #s = :running, dispatch = :pending, decision = :decision, gates = :gates REMOVE summary, finishedAt, event',
      ExpressionAttributeValues: {
        ':running': 'RUNNING',
        ':pending': 'PENDING',
        ':decision': { action: 'approve', ...decision },
        ':gates': gates,
      },
    });
  }

  /** HELD → REJECTED with the decision and the updated summary. Returns false when the run is not HELD. */
  async reject(runId: string, decision: { at: string; by?: string }, summary: RunSummary): Promise<boolean> {
    return this.transition(runId, {
      UpdateExpression: 'SET #s = :rejected, decision = :decision, summary = :summary, finishedAt = :at',
      ExpressionAttributeValues: {
        ':rejected': 'REJECTED',
        ':decision': { action: 'reject', ...decision },
        ':summary': summary,
        ':at': decision.at,
      },
    });
  }

  private async transition(
    runId: string,
    update: { UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> },
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKey(runId),
          ConditionExpression: '#s = :held',
          ExpressionAttributeNames: { '#s': 'status' },
          ...update,
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':held': 'HELD' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

function heldKey(item: Record<string, unknown>): HeldChunkKey {
  return typeof item.hash === 'string' ? { month: String(item.month), hash: item.hash } : { month: String(item.month) };
}
