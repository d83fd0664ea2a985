import { describe, expect, it } from '@jest/globals';
import { InvocationPool } from '../src/index.js';

describe('InvocationPool', () => {
  it('runs once, when every member has submitted or left, and gives each submitter its result', async () => {
    // Prepare
    const calls: number[][] = [];
    const pool = new InvocationPool<number, string>(3, async (items) => {
      calls.push(items);
      return items.map((item) => `done ${item}`);
    });
    const [a, b, c] = [pool.member(), pool.member(), pool.member()];

    // Act
    const first = a.submit(1);
    b.leave();
    b.leave();
    const second = c.submit(2);
    c.leave();

    // Assess
    await expect(Promise.all([first, second])).resolves.toEqual(['done 1', 'done 2']);
    expect(calls).toEqual([[1, 2]]);
  });

  it('rejects every submitter when the pooled run fails, and never runs for members that all left', async () => {
    // Prepare
    let runs = 0;
    const failing = new InvocationPool<number, number>(2, async () => {
      runs += 1;
      throw new Error('BatchWriteItem failed');
    });
    const empty = new InvocationPool<number, number>(2, async (items) => {
      runs += 1;
      return items;
    });

    // Act
    const results = Promise.allSettled([failing.member().submit(1), failing.member().submit(2)]);
    empty.member().leave();
    empty.member().leave();

    // Assess
    expect((await results).map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(runs).toBe(1);
  });
});
