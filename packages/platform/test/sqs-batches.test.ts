import { MAX_MESSAGE_BYTES } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import { SQS_MAX_BATCH, sqsBatches } from '../src/index.js';

describe('sqsBatches', () => {
  it('keeps each SendMessageBatch under 10 entries and 256 KiB of bodies together', () => {
    // Prepare: ten 130 KB county parts, then 25 small months.
    const big = Array.from({ length: 10 }, (_, i) => ({ id: `p${i}`, body: 'x'.repeat(130_000) }));
    const small = Array.from({ length: 25 }, (_, i) => ({ id: `m${i}`, body: '{}' }));

    // Act
    const batches = sqsBatches([...big, ...small]);

    // Assess
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(SQS_MAX_BATCH);
      expect(batch.reduce((sum, m) => sum + Buffer.byteLength(m.body), 0)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    }
    expect(batches.flat().map((m) => m.id)).toEqual([...big, ...small].map((m) => m.id));
    expect(batches.map((batch) => batch.length)).toEqual([2, 2, 2, 2, 10, 10, 7]);
  });
});
