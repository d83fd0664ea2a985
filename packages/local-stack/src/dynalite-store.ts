import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import dynalite, { type DynaliteOptions } from 'dynalite';

/** An abstract-level 3 iterator (keys or values). */
interface LevelIterator {
  nextv(size: number): Promise<unknown[]>;
  close(): Promise<void>;
}

/**
 * Entries read from LevelDB per native call by a Query or Scan stream. classic-level's `next()`
 * reads up to 1000 entries a call (capped at 16 KiB of data, ~30-80 of this project's items) into
 * a buffer sized for 1000, which it keeps until V8 collects the iterator, long after it is closed.
 */
const ITERATOR_BATCH = 64;

type Callback<T = unknown> = (error: Error | null, value?: T) => void;
type BatchOperation = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string };

/**
 * The parts of dynalite 4.0.0's store (`dynalite/db`'s `create`) that `tuneStore` changes: its
 * LevelDB (`db`, an abstract-level 3 database wrapped by dynalite with callback methods, that
 * every table, item and index sub-database reads and writes through) and its lifecycle manager
 * (which a graceful close waits on).
 */
interface DynaliteStore {
  db: {
    status: string;
    get(key: string, callback?: Callback): unknown;
    getSync(key: string): unknown;
    put(key: string, value: unknown, callback?: Callback): unknown;
    del(key: string, callback?: Callback): unknown;
    batch(operations: BatchOperation[], callback?: Callback): unknown;
    open?(options?: object, ...rest: unknown[]): unknown;
    keys(options?: object): LevelIterator;
    values(options?: object): LevelIterator;
    createKeyStream(options?: object): Readable;
    createValueStream(options?: object): Readable;
  };
  lifecycleManager?: {
    getState(): string;
    trackOperation<T>(operation: Promise<T>): Promise<T>;
  };
}

const require = createRequire(import.meta.url);
/** dynalite's own store module: the same instance `dynalite()` calls (`db.create(options)`). */
const dynaliteDb = require('dynalite/db') as { create: (options: DynaliteOptions) => DynaliteStore };

/**
 * Starts a dynalite server (not listening yet) whose store is tuned by `tuneStore`. dynalite
 * creates its store inside `dynalite()` and keeps it private: its `create` is wrapped for the
 * duration of that synchronous call only.
 */
export function createTunedDynalite(
  options: DynaliteOptions,
  tune = true,
  storage: StorageOptions = {},
): { server: Server; tuned: boolean } {
  if (!tune) return { server: dynalite(options), tuned: false };
  const create = dynaliteDb.create;
  let store: DynaliteStore | undefined;
  dynaliteDb.create = (storeOptions) => {
    store = create(storeOptions);
    return store;
  };
  let server: Server;
  try {
    server = dynalite(options);
  } finally {
    dynaliteDb.create = create;
  }
  return { server, tuned: store !== undefined && tuneStore(store, storage) };
}

/** LevelDB settings of the store (classic-level's open options). */
export interface StorageOptions {
  /**
   * LevelDB's `max_open_files`: its table cache keeps that many table files open, each
   * memory-mapped, and the pages read stay resident. LevelDB's default, 1000, holds every file
   * of a ~1 GB county table: a daily run on it peaked at 636 MB, 74 (LevelDB's minimum) at 306 MB
   * but 2.4x slower (files reopened). Unset: LevelDB's default.
   */
  maxOpenFiles?: number;
}

/**
 * Makes dynalite's storage cheaper per item, and stops it leaking memory, without changing what
 * it stores or answers (issue 13: a county backfill writes millions of items through it). dynalite makes several LevelDB
 * requests per item (the table's definition, the item's old value, its index entries, the item),
 * each an asynchronous native call with a thread-pool hop; under load those hops, not LevelDB,
 * were most of the local stack's time. Two changes, both below dynalite:
 *
 * - **reads are synchronous** (`getSync`, LevelDB's in-process read: memtable, block cache,
 *   then disk), answered on the next turn of the event loop like before. Before the database
 *   has opened, the original asynchronous read is used.
 * - **writes issued in the same turn of the event loop go to LevelDB as one batch** (in the
 *   order they were issued); each caller's callback runs once the batch is written, so an
 *   answer is only sent after its writes are in LevelDB, as before. The batch is registered with
 *   dynalite's lifecycle manager as soon as its first write is queued, so a graceful close waits
 *   for it.
 * - **Query and Scan close their LevelDB iterator** (`streamOf`): dynalite left it open.
 *
 * Returns false, changing nothing, if the store is not shaped as expected (another dynalite
 * version): the server then works as dynalite ships it, only slower.
 */
export function tuneStore(store: DynaliteStore, storage: StorageOptions = {}): boolean {
  const db = store?.db;
  if (
    typeof db?.get !== 'function' ||
    typeof db.getSync !== 'function' ||
    typeof db.put !== 'function' ||
    typeof db.del !== 'function' ||
    typeof db.batch !== 'function' ||
    typeof db.keys !== 'function' ||
    typeof db.values !== 'function'
  ) {
    return false;
  }
  // classic-level (on disk) and memory-level (in memory) both read synchronously; another
  // abstract-level database might not.
  const syncReads = (db as { supports?: { getSync?: boolean } }).supports?.getSync === true;
  const lifecycle = store.lifecycleManager;
  const closed = () => lifecycle?.getState() === 'closed';
  const asyncGet = db.get.bind(db);
  const batch = db.batch.bind(db);

  db.get = (key: string, callback?: Callback) => {
    if (!syncReads || typeof callback !== 'function' || db.status !== 'open' || closed()) {
      return asyncGet(key, callback);
    }
    let value: unknown;
    try {
      value = db.getSync(key);
    } catch (error) {
      setImmediate(callback, error as Error);
      return undefined;
    }
    setImmediate(callback, null, value);
    return undefined;
  };

  let pending: { operations: BatchOperation[]; callbacks: Callback[]; done: () => void } | undefined;
  const flush = () => {
    const current = pending;
    pending = undefined;
    if (!current) return;
    batch(current.operations, (error) => {
      current.done();
      for (const callback of current.callbacks) callback(error ?? null);
    });
  };
  const write = (operation: BatchOperation, callback: Callback) => {
    if (!pending) {
      let done: () => void = () => {};
      const written = new Promise<void>((resolve) => {
        done = resolve;
      });
      lifecycle?.trackOperation(written);
      pending = { operations: [], callbacks: [], done };
      setImmediate(flush);
    }
    pending.operations.push(operation);
    pending.callbacks.push(callback);
  };
  const put = db.put.bind(db);
  const del = db.del.bind(db);
  db.put = (key: string, value: unknown, callback?: Callback) => {
    if (typeof callback !== 'function' || closed()) return put(key, value, callback);
    write({ type: 'put', key, value }, callback);
    return undefined;
  };
  db.del = (key: string, callback?: Callback) => {
    if (typeof callback !== 'function' || closed()) return del(key, callback);
    write({ type: 'del', key }, callback);
    return undefined;
  };
  // dynalite's database opens on a microtask after its constructor: this runs before it.
  if (storage.maxOpenFiles !== undefined && typeof db.open === 'function') {
    const open = db.open.bind(db);
    const maxOpenFiles = storage.maxOpenFiles;
    db.open = (options?: object, ...rest: unknown[]) => open({ ...(options ?? {}), maxOpenFiles }, ...rest);
  }
  db.createKeyStream = (options?: object) => streamOf(db.keys(options));
  db.createValueStream = (options?: object) => streamOf(db.values(options));
  return true;
}

/**
 * A readable stream of an iterator's entries that closes the iterator when the stream ends or is
 * destroyed. dynalite's own streams call `iterator.return()`, which abstract-level 3 iterators
 * do not have, so every Query and Scan left its LevelDB iterator open: each pinned the memtable
 * and tables it started on, and the process's memory grew with every write after it.
 */
function streamOf(iterator: LevelIterator): Readable {
  return new Readable({
    objectMode: true,
    read() {
      iterator.nextv(ITERATOR_BATCH).then(
        (values) => {
          if (values.length === 0) this.push(null);
          for (const value of values) this.push(value);
        },
        (error: Error) => this.destroy(error),
      );
    },
    destroy(error, callback) {
      iterator.close().then(
        () => callback(error),
        (closeError: Error) => callback(error ?? closeError),
      );
    },
  });
}
