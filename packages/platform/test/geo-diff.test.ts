import { describe, expect, it } from '@jest/globals';
import { type GeoDayVersion, geoDiffOfRun, summarizeGeoDiff } from '../src/index.js';

/** A run's changes: states and counties (and one nation day, which the geo diff leaves out). */
function versions(): GeoDayVersion[] {
  const out: GeoDayVersion[] = [];
  const geos = ['48', '06', '48201', '48113', '06037', '36-unknown'];
  for (const [g, geo] of geos.entries()) {
    for (let day = 1; day <= 12; day += 1) {
      const date = `2021-03-${String(day).padStart(2, '0')}`;
      const kind = (g + day) % 4;
      const cases = 100 * (g + 1) + ((day * 37) % 23);
      out.push({
        geo,
        date,
        runId: 'r1',
        change: kind === 0 ? 'inserted' : kind === 3 ? 'deleted' : 'updated',
        before: kind === 0 ? null : { cases, deaths: day % 5 === 0 ? null : day, runId: 'r0' },
        after: kind === 3 ? null : { cases: cases + ((g * day) % 7), deaths: day },
      });
    }
  }
  out.push({
    geo: 'US',
    date: '2021-03-01',
    runId: 'r1',
    change: 'inserted',
    before: null,
    after: { cases: 1, deaths: 1 },
  });
  return out;
}

/** The same versions in pages of `size`, as the versions index returns them. */
async function* pages(all: GeoDayVersion[], size: number): AsyncGenerator<GeoDayVersion[]> {
  for (let i = 0; i < all.length; i += size) yield all.slice(i, i + size);
}

describe('summarizeGeoDiff', () => {
  it.each([1, 3, 10])('keeps exact counts and, with --limit %i, the largest changes of each level', async (limit) => {
    // Prepare
    const all = versions();
    const full = geoDiffOfRun(all);

    // Act
    const summary = await summarizeGeoDiff(pages(all, 7), limit);

    // Assess: the same rows as sorting everything and keeping the first `limit` of each level.
    for (const level of ['state', 'county'] as const) {
      const rows = full.filter((row) => row.level === level);
      expect(summary[level].rows).toEqual(rows.slice(0, limit));
      expect(summary[level].total).toBe(rows.length);
      expect(summary[level].counts).toEqual({
        inserted: rows.filter((row) => row.change === 'inserted').length,
        updated: rows.filter((row) => row.change === 'updated').length,
        deleted: rows.filter((row) => row.change === 'deleted').length,
      });
    }
    expect(summary.state.total + summary.county.total).toBe(all.length - 1);
  });

  it('keeps every change without a limit, largest first', async () => {
    // Act
    const summary = await summarizeGeoDiff(pages(versions(), 5));

    // Assess
    const full = geoDiffOfRun(versions());
    expect(summary.state.rows).toEqual(full.filter((row) => row.level === 'state'));
    expect(summary.county.rows).toEqual(full.filter((row) => row.level === 'county'));
    expect(summary.county.rows).toHaveLength(48);
  });
});
