import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readGeoSnapshot, sharedDataAvailable } from '@covid-etl/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import { generateCounties } from '../bench/geo-generate.js';
import { extractGeoRows, GeoChunkPlanner } from '../src/index.js';

const describeReal = sharedDataAvailable() ? describe : describe.skip;

describeReal('the synthetic county file generator', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('writes a county file and its recent file that parse cleanly, with the special rows and cumulative counts', async () => {
    // Prepare
    const out = await mkdtemp(path.join(os.tmpdir(), 'geo-generate-test-'));
    dirs.push(out);

    // Act
    const generated = await generateCounties({ out, series: 2_800, days: 40, recentDays: 30 });

    // Assess
    const planner = await new GeoChunkPlanner('county').addAll(
      extractGeoRows(createReadStream(generated.full), { kind: 'counties', file: 'us-counties.csv' }),
    );
    expect(planner.rejected).toEqual([]);
    expect(planner.records).toBe(generated.rows);
    expect(generated.rows).toBe(generated.series * 40);
    const full = readGeoSnapshot(generated.full);
    const recent = readGeoSnapshot(generated.recent);
    const geos = new Set([...full.keys()].map((key) => key.split('|')[0] as string));
    expect(geos.size).toBe(generated.series);
    expect([...geos].filter((geo) => /^\d{5}$/.test(geo))).toHaveLength(2_800);
    for (const geo of ['36-nyc', '29-kansas-city', '29-joplin', '48-unknown', '72-unknown'])
      expect(geos.has(geo)).toBe(true);
    // The recent file is the last 30 days of the full one, value for value.
    expect(recent.size).toBe(generated.series * 30);
    const differing = [...recent].filter(
      ([key, values]) => full.get(key)?.cases !== values.cases || full.get(key)?.deaths !== values.deaths,
    );
    expect(differing).toEqual([]);
    // Counts never fall; Puerto Rico municipios have no deaths, like the real files.
    const last = new Map<string, number>();
    const falls: string[] = [];
    for (const [key, values] of [...full].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const geo = key.split('|')[0] as string;
      if (values.cases < (last.get(geo) ?? 0)) falls.push(key);
      last.set(geo, values.cases);
    }
    expect(falls).toEqual([]);
    const noDeaths = [...full].filter(([, values]) => values.deaths === null).map(([key]) => key.slice(0, 2));
    expect(noDeaths.length).toBeGreaterThan(0);
    expect(new Set(noDeaths)).toEqual(new Set(['72']));
  });
});
