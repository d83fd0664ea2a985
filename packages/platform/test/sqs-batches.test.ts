import { MAX_MESSAGE_BYTES } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import { SQS_MAX_BATCH, sqsBatches } from '../src/index.js';

describe('sqsBatches', () => {
  it('keeps each SendMessageBatch under 10 entries and 256 KiB of bodies together', () => {
    // Prepare: ten 130 KB county parts, then 25 small months.
    const big = Array.from({ length: 10 }, (_, i) => ({ id: `p${i}`, body: 'x'.repeat(130_000) }));
    const small = Array.from({ length: 25 }, (_, i) => ({ id: `m${i}`, body: '{}' }));

    // Act
    const batches = [...sqsBatches([...big, ...small])];

    // Assess
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(SQS_MAX_BATCH);
      expect(batch.reduce((sum, m) => sum + Buffer.byteLength(m.body), 0)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    }
    expect(batches.flat().map((m) => m.id)).toEqual([...big, ...small].map((m) => m.id));
    expect(batches.map((batch) => batch.length)).toEqual([2, 2, 2, 2, 10, 10, 7]);
  });

  it('yields each batch before reading the messages after it (a generator is built a batch at a time)', () => {
    // Prepare: a generator of 25 messages that counts how many were built.
    let built = 0;
    function* messages() {
      for (let i = 0; i < 25; i++) {
        built += 1;
        yield { id: `m${i}`, body: '{}' };
      }
    }

    // Act: note how many were built when each batch comes out.
    const seen: [number, number][] = [];
    for (const batch of sqsBatches(messages())) seen.push([batch.length, built]);

    // Assess: each batch comes out as soon as it has 10 entries, before the next is built.
    expect(seen).toEqual([
      [10, 10],
      [10, 20],
      [5, 25],
    ]);
  });

  it('batches an async iterable the same way, each batch before the messages after it are read', async () => {
    // Prepare: 25 messages read in pages of 4 (as from a table), counting the pages read.
    let pages = 0;
    async function* messages() {
      for (let start = 0; start < 25; start += 4) {
        pages += 1;
        for (let i = start; i < Math.min(start + 4, 25); i++) yield { id: `m${i}`, body: '{}' };
      }
    }

    // Act
    const seen: [number, number][] = [];
    const ids: string[] = [];
    for await (const batch of sqsBatches(messages())) {
      seen.push([batch.length, pages]);
      ids.push(...batch.map((m) => m.id));
    }

    // Assess: the first batch comes out after 3 pages of 7, all 25 in order.
    expect(seen).toEqual([
      [10, 3],
      [10, 5],
      [5, 7],
    ]);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
  });
});
