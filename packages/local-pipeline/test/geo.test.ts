import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { diffGeoSnapshots, readGeoSnapshot, sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import type { FaultMode } from '../src/faults.js';
import { LocalPipeline } from '../src/pipeline.js';

const describeReal = sharedDataAvailable() ? describe : describe.skip;

/** The table's value of every (geo, date) of `keys`, as `readGeoSnapshot` gives them. */
async function tableValues(pipeline: LocalPipeline, keys: Iterable<string>) {
  const pairs = [...keys].map((key) => {
    const [geo, date] = key.split('|') as [string, string];
    return { geo, date };
  });
  const stored = await pipeline.geoStore.getDays(pairs);
  return new Map([...stored].map(([key, day]) => [key, { cases: day.cases, deaths: day.deaths }]));
}

/** A copy under its own name: its own URL (and source baseline). */
function copyInto(dir: string, file: string): string {
  const target = path.join(dir, path.basename(file));
  copyFileSync(file, target);
  return pathToFileURL(target).href;
}

describeReal('states and counties through the local pipeline (real files)', () => {
  it.each([
    ['no fault', undefined],
    ['loader crash-mid-batch', 'crash-mid-batch'],
    ['loader fail-first', 'fail-first'],
  ] as [string, FaultMode | undefined][])(
    'states in date order (%s): counts per run equal the independent diff, the table the expected state',
    async (_name, fault) => {
      // Prepare
      const dir = mkdtempSync(path.join(tmpdir(), 'etl-geo-states-'));
      const early = snapshotPath('statesEarly');
      const late = snapshotPath('statesLate');
      const diff = diffGeoSnapshots(early, late);
      const expected = new Map([...readGeoSnapshot(early), ...readGeoSnapshot(late)]);
      const pipeline = await LocalPipeline.open({ dir, ...(fault ? { faults: { loader: fault } } : {}) });
      try {
        // Act
        const first = await pipeline.run({
          trigger: 'manual',
          levels: ['state'],
          sources: { states: copyInto(dir, early) },
        });
        const second = await pipeline.run({
          trigger: 'manual',
          levels: ['state'],
          sources: { states: copyInto(dir, late) },
        });

        // Assess
        expect(first.status).toBe('SUCCEEDED');
        expect(first.summary?.levels?.state).toEqual({
          inserted: readGeoSnapshot(early).size,
          updated: 0,
          unchanged: 0,
          rejected: 0,
        });
        expect(second.status).toBe('SUCCEEDED');
        const counts = {
          inserted: diff.inserted.length,
          updated: diff.revised.length,
          unchanged: diff.unchanged,
          rejected: 0,
        };
        expect(second.summary?.levels?.state).toEqual(counts);
        expect(second.summary?.counts).toEqual(counts);
        expect(await tableValues(pipeline, expected.keys())).toEqual(expected);
      } finally {
        await pipeline.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    600_000,
  );

  it('loads the April county file and the recent one with the rows without FIPS as their own series', async () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'etl-geo-counties-'));
    const april = snapshotPath('countiesApril');
    const recent = snapshotPath('countiesRecent');
    const pipeline = await LocalPipeline.open({ dir });
    try {
      // Act
      const backfill = await pipeline.run({
        trigger: 'manual',
        levels: ['county'],
        backfill: 'counties',
        sources: { counties: copyInto(dir, april) },
      });
      const daily = await pipeline.run({
        trigger: 'manual',
        levels: ['county'],
        sources: { 'counties-recent': copyInto(dir, recent) },
      });
      const again = await pipeline.run({
        trigger: 'manual',
        levels: ['county'],
        sources: { 'counties-recent': copyInto(mkdtempSync(path.join(dir, 'b-')), recent) },
      });

      // Assess
      expect(backfill.status).toBe('SUCCEEDED');
      expect(backfill.summary?.levels?.county?.inserted).toBe(readGeoSnapshot(april).size);
      expect(daily.status).toBe('SUCCEEDED');
      expect(daily.summary?.levels?.county?.inserted).toBe(readGeoSnapshot(recent).size);
      expect(again.summary?.levels?.county).toEqual({
        inserted: 0,
        updated: 0,
        unchanged: readGeoSnapshot(recent).size,
        rejected: 0,
      });
      expect(again.months).toEqual([]);
      const specials = ['36-nyc|2020-04-16', '29-kansas-city|2020-04-16', '36-nyc|2021-03-17', '29-joplin|2021-03-17'];
      const stored = await tableValues(pipeline, specials);
      expect([...stored.keys()].sort()).toEqual([...specials].sort());
      const both = new Map([...readGeoSnapshot(april), ...readGeoSnapshot(recent)]);
      for (const key of specials) expect(stored.get(key)).toEqual(both.get(key));
      // The parts carry the publisher's names: the catalogue (the dashboard's search) lists them.
      const names = new Map((await pipeline.geos.listGeos()).map((geo) => [geo.id, geo.name]));
      expect(['48201', '36-nyc', '29-kansas-city', '72001'].map((id) => names.get(id))).toEqual([
        'Harris',
        'New York City',
        'Kansas City',
        'Adjuntas',
      ]);
    } finally {
      await pipeline.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
