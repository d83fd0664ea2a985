import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { countRequests, type LocalTables, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type HeldChunk, HeldRunRepository, type StoredHeldChunk } from '../src/index.js';

let local: LocalTables;

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

/** Every held chunk with its body, page after page. */
async function allChunks(held: HeldRunRepository, runId: string): Promise<StoredHeldChunk[]> {
  const out: StoredHeldChunk[] = [];
  for await (const page of held.chunkPages(runId)) out.push(...page);
  return out;
}

const partKey = (i: number) => `county/48/2020-04#${String(i).padStart(2, '0')}-${String(i).padStart(2, '0')}`;

describe('HeldRunRepository.putChunks', () => {
  it('writes a generator of chunks 25 at a time, each request before the next 25 are built, and keeps them all', async () => {
    // Prepare: 60 parts built on demand; at each one, the BatchWriteItem requests made so far.
    const { ledgerTable } = await local.tables();
    const held = new HeldRunRepository(local.doc, ledgerTable);
    const counter = countRequests(local.doc);
    const writesWhenBuilt: number[] = [];
    function* chunks(): Generator<HeldChunk> {
      for (let i = 0; i < 60; i++) {
        writesWhenBuilt.push(counter.requests[ledgerTable]?.BatchWriteItem ?? 0);
        yield { month: `county/48/2020-04#${String(i).padStart(2, '0')}`, hash: `h${i}`, body: `{"part":${i}}` };
      }
    }

    // Act
    await held.putChunks('m-20261130T000000Z-000001', chunks());
    counter.stop();

    // Assess: parts 0-24 before any write, 25-49 after the first, 50-59 after the second; all kept.
    expect(writesWhenBuilt).toEqual([...Array(25).fill(0), ...Array(25).fill(1), ...Array(10).fill(2)]);
    const stored = await allChunks(held, 'm-20261130T000000Z-000001');
    expect(stored.map((chunk) => chunk.body)).toEqual(Array.from({ length: 60 }, (_, i) => `{"part":${i}}`));
  });
});

describe('HeldRunRepository: reading a held snapshot', () => {
  it('reads the keys and hashes in key order without a body, and a chunk held without a hash as such', async () => {
    // Prepare: a month of the nation, two parts (out of order), and a part held before hashes were kept.
    const { ledgerTable } = await local.tables();
    const held = new HeldRunRepository(local.doc, ledgerTable);
    const runId = 'm-20261130T000000Z-000002';
    await held.putChunks(runId, [
      { month: 'state/39/2020-04#01-30', hash: 'hs', body: 'x'.repeat(50_000) },
      { month: '2020-04', hash: 'hn', body: 'x'.repeat(50_000) },
      { month: 'county/48/2020-04#01-30', hash: 'hc', body: 'x'.repeat(50_000) },
    ]);
    await local.doc.send(
      new PutCommand({
        TableName: ledgerTable,
        Item: {
          pk: `RUN#${runId}`,
          sk: 'HELD#county/01/2020-04#01-30',
          runId,
          month: 'county/01/2020-04#01-30',
          body: '{}',
        },
      }),
    );
    const counter = countRequests(local.doc);

    // Act
    const keys = await held.getChunkKeys(runId);
    const legacy = await held.getChunk(runId, 'county/01/2020-04#01-30');
    counter.stop();

    // Assess: key order, hashes beside the keys, no body; the old item has no hash and its body.
    expect(keys).toEqual([
      { month: '2020-04', hash: 'hn' },
      { month: 'county/01/2020-04#01-30' },
      { month: 'county/48/2020-04#01-30', hash: 'hc' },
      { month: 'state/39/2020-04#01-30', hash: 'hs' },
    ]);
    expect(counter.requests[ledgerTable]).toEqual({ Query: 1, GetItem: 1 });
    expect(legacy).toEqual({ month: 'county/01/2020-04#01-30', body: '{}' });
    expect(await held.getChunk(runId, 'county/02/2020-04#01-30')).toBeUndefined();
  });

  it('reads the bodies a page at a time, in key order, each page only once the one before is consumed', async () => {
    // Prepare: 30 parts of 100 KB (3 MB: more than one 1 MB Query page).
    const { ledgerTable } = await local.tables();
    const held = new HeldRunRepository(local.doc, ledgerTable);
    const runId = 'm-20261130T000000Z-000003';
    const body = (i: number) => `${i}:${'x'.repeat(100_000)}`;
    await held.putChunks(
      runId,
      Array.from({ length: 30 }, (_, i) => ({ month: partKey(29 - i), hash: `h${29 - i}`, body: body(29 - i) })),
    );
    const counter = countRequests(local.doc);

    // Act: note the Queries made when each page comes out.
    const queriesAtPage: number[] = [];
    const read: StoredHeldChunk[] = [];
    for await (const page of held.chunkPages(runId)) {
      queriesAtPage.push(counter.requests[ledgerTable]?.Query ?? 0);
      read.push(...page);
    }
    counter.stop();

    // Assess: several pages, one Query each, read one after the other; every chunk in key order.
    expect(queriesAtPage.length).toBeGreaterThan(2);
    expect(queriesAtPage).toEqual(queriesAtPage.map((_, i) => i + 1));
    expect(read.map((chunk) => [chunk.month, chunk.hash, chunk.body])).toEqual(
      Array.from({ length: 30 }, (_, i) => [partKey(i), `h${i}`, body(i)]),
    );
  });

  it('pages by `pageItems` when given', async () => {
    // Prepare
    const { ledgerTable } = await local.tables();
    const held = new HeldRunRepository(local.doc, ledgerTable, { pageItems: 4 });
    const runId = 'm-20261130T000000Z-000004';
    await held.putChunks(
      runId,
      Array.from({ length: 10 }, (_, i) => ({ month: partKey(i), hash: `h${i}`, body: `{"i":${i}}` })),
    );

    // Act
    const sizes: number[] = [];
    for await (const page of held.chunkPages(runId)) sizes.push(page.length);

    // Assess
    expect(sizes).toEqual([4, 4, 2]);
  });
});

describe('HeldRunRepository.deleteChunks', () => {
  it('deletes every held chunk (more than one BatchWriteItem) and keeps the trips; again, it deletes nothing', async () => {
    // Prepare: 30 parts and a trip.
    const { ledgerTable } = await local.tables();
    const held = new HeldRunRepository(local.doc, ledgerTable);
    const runId = 'm-20261130T000000Z-000005';
    await held.putChunks(
      runId,
      Array.from({ length: 30 }, (_, i) => ({ month: partKey(i + 1), hash: `h${i}`, body: `{"part":${i}}` })),
    );
    const trip = {
      gate: 'missing-geographies' as const,
      level: 'state' as const,
      geo: '10',
      message: 'Delaware is missing',
    };
    await held.putTrips(runId, [trip]);

    // Act
    const deleted = await held.deleteChunks(runId);
    const again = await held.deleteChunks(runId);

    // Assess
    expect(deleted).toBe(30);
    expect(again).toBe(0);
    expect(await held.getChunkKeys(runId)).toEqual([]);
    expect(await allChunks(held, runId)).toEqual([]);
    expect(await held.getTrips(runId)).toEqual([trip]);
  });
});
