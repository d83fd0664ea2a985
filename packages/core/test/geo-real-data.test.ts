import { createReadStream } from 'node:fs';
import path from 'node:path';
import { GeoChunkMessage } from '@covid-etl/contracts';
import { diffGeoSnapshots, readGeoSnapshot, sharedDataAvailable, snapshotPath } from '@covid-etl/testing';
import { describe, expect, it } from '@jest/globals';
import {
  assertGeoPartSize,
  changedDays,
  chunksCoveredBy,
  extractGeoRows,
  type GeoChunk,
  GeoChunkPlanner,
  type GeoFileKind,
  geoPartMessage,
  MAX_CHUNK_BYTES,
  planParts,
} from '../src/index.js';

const describeReal = sharedDataAvailable() ? describe : describe.skip;

type Snapshot = 'statesEarly' | 'statesLate' | 'countiesApril' | 'countiesRecent';

async function plan(name: Snapshot): Promise<GeoChunkPlanner> {
  const kind: GeoFileKind = name.startsWith('states') ? 'states' : 'counties';
  const file = snapshotPath(name);
  const planner = new GeoChunkPlanner(kind === 'states' ? 'state' : 'county');
  return planner.addAll(extractGeoRows(createReadStream(file), { kind, file: path.basename(file) }));
}

function geosOf(chunks: GeoChunk[]): Set<string> {
  return new Set(chunks.flatMap((chunk) => chunk.records().map((record) => record.geo)));
}

describeReal('the real states and counties snapshots', () => {
  it('reads both states snapshots as 55 series with no rejected row, equal to an independent reading', async () => {
    for (const name of ['statesEarly', 'statesLate'] as const) {
      // Act
      const planner = await plan(name);

      // Assess
      const chunks = planner.chunks();
      expect(planner.rejected).toEqual([]);
      expect(geosOf(chunks).size).toBe(55);
      expect(planner.names.size).toBe(55);
      expect(planner.names.get('78')).toBe('Virgin Islands');
      const expected = readGeoSnapshot(snapshotPath(name));
      const parsed = new Map(
        chunks.flatMap((chunk) =>
          chunk
            .records()
            .map((record) => [`${record.geo}|${record.date}`, { cases: record.cases, deaths: record.deaths }]),
        ),
      );
      expect(parsed.size).toBe(expected.size);
      expect(parsed).toEqual(expected);
    }
  });

  it('finds exactly the new and revised days of the later states snapshot by day hash, as the independent diff does', async () => {
    // Prepare
    const diff = diffGeoSnapshots(snapshotPath('statesEarly'), snapshotPath('statesLate'));
    const early = new Map((await plan('statesEarly')).chunks().map((chunk) => [chunk.key, chunk]));

    // Act
    const late = (await plan('statesLate')).chunks();
    const changed = late.flatMap((chunk) => {
      const loaded = new Map(early.get(chunk.key)?.days.map((day) => [day.date, day.hash]));
      return changedDays(chunk, loaded).map((date) => `${chunk.state}|${date}`);
    });

    // Assess: at the state level a chunk's day is one row, so changed days are new plus revised rows.
    expect(diff.missing).toEqual([]);
    expect([diff.inserted.length, diff.revised.length, diff.unchanged]).toEqual([12_760, 94, 8_060]);
    expect(changed.sort()).toEqual([...diff.inserted, ...diff.revised].sort());
    const unchangedChunks = late.filter((chunk) => early.get(chunk.key)?.hash === chunk.hash);
    expect(unchangedChunks.length).toBeGreaterThan(0);
  });

  it('reads the April county file with the rows without FIPS as their own series', async () => {
    // Act
    const planner = await plan('countiesApril');

    // Assess
    const geos = geosOf(planner.chunks());
    expect(planner.rejected).toEqual([]);
    expect(planner.records).toBe(64_707);
    expect(geos.size).toBe(2_767);
    const specials = [...geos].filter((geo) => geo.includes('-'));
    expect(specials).toHaveLength(45);
    expect(specials).toEqual(expect.arrayContaining(['36-nyc', '29-kansas-city', '36-unknown', '72-unknown']));
    expect(planner.names.size).toBe(2_767);
    expect([planner.names.get('48201'), planner.names.get('36-nyc'), planner.names.get('72-unknown')]).toEqual([
      'Harris',
      'New York City',
      'Unknown',
    ]);
    expect(readGeoSnapshot(snapshotPath('countiesApril')).size).toBe(64_707);
  });

  it('reads the recent county file: Joplin too, and the Puerto Rico rows with deaths not reported', async () => {
    // Act
    const planner = await plan('countiesRecent');

    // Assess
    const chunks = planner.chunks();
    const records = chunks.flatMap((chunk) => chunk.records());
    expect(planner.rejected).toEqual([]);
    expect(records).toHaveLength(97_378);
    expect(geosOf(chunks).size).toBe(3_248);
    for (const geo of ['36-nyc', '29-kansas-city', '29-joplin']) {
      expect(records.filter((record) => record.geo === geo)).toHaveLength(30);
    }
    const notReported = records.filter((record) => record.deaths === null);
    expect(notReported).toHaveLength(2_340);
    expect(new Set(notReported.map((record) => record.geo.slice(0, 2)))).toEqual(new Set(['72']));
    // Only the months the file's dates cover.
    const covered = new Set(chunksCoveredBy('county', '2021-02-16', '2021-03-17').map((chunk) => chunk.key));
    expect(chunks.every((chunk) => covered.has(chunk.key))).toBe(true);
  });

  it('keeps every part of the real county files under the message limit (Texas included)', async () => {
    for (const name of ['countiesApril', 'countiesRecent'] as const) {
      // Act
      const chunks = (await plan(name)).chunks();
      const sizes = chunks.flatMap((chunk) => planParts(chunk).map((part) => assertGeoPartSize(chunk, part)));

      // Assess
      expect(Math.max(...sizes)).toBeLessThan(MAX_CHUNK_BYTES);
      const texas = chunks.find((chunk) => chunk.key === 'county/48/2021-03');
      if (name === 'countiesRecent') expect(texas && planParts(texas).length).toBeGreaterThan(1);
      // The parts are valid messages: the states with special ids, NYT's own codes and deaths not reported.
      const special = chunks.filter((chunk) => ['02', '29', '36', '48', '72'].includes(chunk.state));
      expect(special.length).toBeGreaterThan(4);
      const invalid = special.flatMap((chunk) =>
        planParts(chunk).flatMap((part) => {
          const parsed = GeoChunkMessage.safeParse(geoPartMessage('s-20210318T000000Z', chunk, part));
          return parsed.success ? [] : [`${part.key}: ${parsed.error.issues[0]?.message}`];
        }),
      );
      expect(invalid).toEqual([]);
      // Each part carries the publisher's names of its geographies (Harris County, Texas: 48201).
      const harris = texas && planParts(texas).map((part) => part.names['48201']);
      if (name === 'countiesRecent') expect(new Set(harris)).toEqual(new Set(['Harris']));
    }
  });
});
