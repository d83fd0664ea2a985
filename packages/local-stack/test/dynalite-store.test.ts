import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from '@jest/globals';
import { tuneStore } from '../src/dynalite-store.js';
import { ensureTables, startLocalDynamo } from '../src/index.js';

const require = createRequire(import.meta.url);
const dynaliteDb = require('dynalite/db') as { create: (options: object) => Parameters<typeof tuneStore>[0] };

const TABLE = {
  TableName: 'tuning-test',
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' as const },
    { AttributeName: 'sk', AttributeType: 'S' as const },
    { AttributeName: 'vrun', AttributeType: 'S' as const },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' as const },
    { AttributeName: 'sk', KeyType: 'RANGE' as const },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'byRun',
      KeySchema: [
        { AttributeName: 'vrun', KeyType: 'HASH' as const },
        { AttributeName: 'sk', KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    },
  ],
};

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A store as dynalite creates it (not yet tuned), open on a new folder. */
async function openStore(prefix: string) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  const store = dynaliteDb.create({ path: dir, createTableMs: 0 });
  const db = store.db as typeof store.db & { open(): Promise<void>; close(): Promise<void> };
  await db.open();
  return { store, db };
}

/** The answers of a fixed sequence of requests (writes, reads, queries with limits, an index, updates, deletes). */
async function scenario(tuned: boolean, dir: string) {
  const dynamo = await startLocalDynamo({ dir, tuned });
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const doc = client;
  const S = (value: string) => ({ S: value });
  const answers: unknown[] = [];
  try {
    await ensureTables(client, [TABLE]);
    const TableName = TABLE.TableName;
    for (let batch = 0; batch < 4; batch += 1) {
      await Promise.all(
        [0, 1, 2].map((part) =>
          doc.send(
            new BatchWriteItemCommand({
              RequestItems: {
                [TableName]: Array.from({ length: 25 }, (_, i) => ({
                  PutRequest: {
                    Item: {
                      pk: S(`p${part}`),
                      sk: S(String(batch * 25 + i).padStart(3, '0')),
                      n: { N: String(batch) },
                      vrun: S(`r${batch}`),
                    },
                  },
                })),
              },
            }),
          ),
        ),
      );
    }
    // Overwrites move index entries: the old ones must be gone.
    await doc.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [TableName]: Array.from({ length: 10 }, (_, i) => ({
            PutRequest: { Item: { pk: S('p0'), sk: S(String(i).padStart(3, '0')), n: { N: '9' }, vrun: S('r9') } },
          })),
        },
      }),
    );
    await doc.send(
      new UpdateItemCommand({
        TableName,
        Key: { pk: S('p1'), sk: S('005') },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
    await doc.send(new DeleteItemCommand({ TableName, Key: { pk: S('p2'), sk: S('007') } }));
    answers.push((await doc.send(new GetItemCommand({ TableName, Key: { pk: S('p1'), sk: S('005') } }))).Item);
    answers.push(
      (await doc.send(new GetItemCommand({ TableName, Key: { pk: S('p2'), sk: S('007') } }))).Item ?? 'absent',
    );
    for (const Limit of [undefined, 1, 8, 99]) {
      const page = await doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S('p0') },
          ...(Limit ? { Limit } : {}),
          ScanIndexForward: Limit !== 8,
        }),
      );
      answers.push({ items: page.Items, last: page.LastEvaluatedKey });
    }
    for (const run of ['r0', 'r9']) {
      const page = await doc.send(
        new QueryCommand({
          TableName,
          IndexName: 'byRun',
          KeyConditionExpression: 'vrun = :r',
          ExpressionAttributeValues: { ':r': S(run) },
        }),
      );
      answers.push(page.Items?.map((item) => `${item.pk?.S}/${item.sk?.S}`));
    }
  } finally {
    client.destroy();
    await dynamo.close();
  }
  // The data survives a restart on the same folder.
  const again = await startLocalDynamo({ dir, tuned });
  const client2 = new DynamoDBClient({
    endpoint: again.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const page = await client2.send(
      new QueryCommand({
        TableName: TABLE.TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'p2' } },
      }),
    );
    answers.push(page.Count);
  } finally {
    client2.destroy();
    await again.close();
  }
  return answers;
}

describe('the tuned dynalite store', () => {
  it('answers every request exactly as dynalite as shipped does, and keeps the data across a restart', async () => {
    // Prepare
    const shippedDir = mkdtempSync(path.join(tmpdir(), 'dynalite-shipped-'));
    const tunedDir = mkdtempSync(path.join(tmpdir(), 'dynalite-tuned-'));
    dirs.push(shippedDir, tunedDir);

    // Act
    const shipped = await scenario(false, shippedDir);
    const tuned = await scenario(true, tunedDir);

    // Assess
    expect(tuned).toEqual(shipped);
    expect(tuned.at(-1)).toBe(99);
    expect(tuned[1]).toBe('absent');
  }, 60_000);

  it("opens LevelDB with the table cache size asked for (maxOpenFiles), and LevelDB's default otherwise", async () => {
    // Prepare: two stores as dynalite creates them, the options their LevelDB opens with spied on.
    const opened = async (storage?: { maxOpenFiles: number }) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'dynalite-open-'));
      dirs.push(dir);
      const store = dynaliteDb.create({ path: dir, createTableMs: 0 });
      const db = store.db as typeof store.db & {
        _open(options: object): Promise<void>;
        open(): Promise<void>;
        close(): Promise<void>;
      };
      let seen: Record<string, unknown> = {};
      const _open = db._open.bind(db);
      db._open = (options: object) => {
        seen = options as Record<string, unknown>;
        return _open(options);
      };
      expect(tuneStore(store, storage)).toBe(true);

      // Act: dynalite's own deferred open.
      await db.open();
      await db.close();
      return seen;
    };

    // Assess
    expect((await opened({ maxOpenFiles: 80 })).maxOpenFiles).toBe(80);
    expect((await opened()).maxOpenFiles).toBeUndefined();
  });

  it('closes the LevelDB iterator of every Query, whether it reads to the end or stops at a limit', async () => {
    // Prepare: a store as dynalite creates it, its iterators spied on.
    const { store, db } = await openStore('dynalite-iterators-');
    const opened: { closed: boolean }[] = [];
    const values = db.values.bind(db);
    db.values = (options?: object) => {
      const iterator = values(options);
      const state = { closed: false };
      opened.push(state);
      const close = iterator.close.bind(iterator);
      iterator.close = () => {
        state.closed = true;
        return close();
      };
      return iterator;
    };
    expect(tuneStore(store)).toBe(true);
    for (let i = 0; i < 5; i += 1) await db.batch([{ type: 'put', key: `k~${i}`, value: { i } }]);

    // Act: read to the end, and stop after one entry (what a Query with a Limit does).
    const all: unknown[] = [];
    for await (const value of db.createValueStream({ gte: 'k~', lt: 'k~\xff' })) all.push(value);
    const partial = db.createValueStream({ gte: 'k~', lt: 'k~\xff' });
    const first = await new Promise((resolve) => partial.once('data', resolve));
    partial.destroy();
    await new Promise((resolve) => partial.once('close', resolve));

    // Assess
    expect(all).toHaveLength(5);
    expect(first).toEqual({ i: 0 });
    expect(opened).toEqual([{ closed: true }, { closed: true }]);
    await db.close();
  });

  it('reads each Query in batches of at most 64 entries, not into the 1000-entry buffer LevelDB keeps until GC', async () => {
    // Prepare: 150 entries, and every read of the store's iterators recorded.
    const { store, db } = await openStore('dynalite-batches-');
    const reads: string[] = [];
    const values = db.values.bind(db);
    db.values = (options?: object) => {
      const iterator = values(options) as ReturnType<typeof values> & {
        next(): Promise<unknown>;
        nextv(size: number): Promise<unknown[]>;
      };
      const next = iterator.next.bind(iterator);
      const nextv = iterator.nextv.bind(iterator);
      iterator.next = () => {
        reads.push('next');
        return next();
      };
      iterator.nextv = (size: number) => {
        reads.push(`nextv(${size})`);
        return nextv(size);
      };
      return iterator;
    };
    expect(tuneStore(store)).toBe(true);
    await db.batch(
      Array.from({ length: 150 }, (_, i) => ({ type: 'put', key: `k~${String(i).padStart(3, '0')}`, value: { i } })),
    );

    // Act
    const all: unknown[] = [];
    for await (const value of db.createValueStream({ gte: 'k~', lt: 'k~\xff' })) all.push(value);

    // Assess: every entry once, in key order, three batches and the empty read that ends it.
    expect(all).toEqual(Array.from({ length: 150 }, (_, i) => ({ i })));
    expect(reads).toEqual(['nextv(64)', 'nextv(64)', 'nextv(64)', 'nextv(64)']);
    await db.close();
  });
});
