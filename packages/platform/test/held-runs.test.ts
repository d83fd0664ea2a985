import { countRequests, type LocalTables, startLocalTables } from '@covid-etl/testing/platform';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type HeldChunk, HeldRunRepository } from '../src/index.js';

let local: LocalTables;

beforeAll(async () => {
  local = await startLocalTables();
});

afterAll(async () => {
  await local.close();
});

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
        yield { month: `county/48/2020-04#${String(i).padStart(2, '0')}`, body: `{"part":${i}}` };
      }
    }

    // Act
    await held.putChunks('m-20261130T000000Z-000001', chunks());
    counter.stop();

    // Assess: parts 0-24 before any write, 25-49 after the first, 50-59 after the second; all kept.
    expect(writesWhenBuilt).toEqual([...Array(25).fill(0), ...Array(25).fill(1), ...Array(10).fill(2)]);
    const stored = await held.getChunks('m-20261130T000000Z-000001');
    expect(stored.map((chunk) => chunk.body)).toEqual(Array.from({ length: 60 }, (_, i) => `{"part":${i}}`));
  });
});
