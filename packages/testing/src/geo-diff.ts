import { readFileSync } from 'node:fs';
import { stateByName } from '@covid-etl/contracts';

/**
 * An independent reading of the NYT states and counties files, for tests: a plain line split
 * (the publisher's files hold no quotes), none of the core library's code. It gives the
 * expected outcome of loading one snapshot after another, to compare with what the pipeline
 * counts and writes.
 */

/** The values of one (geography, date): `deaths` null when the file leaves it empty. */
export interface GeoDayValues {
  cases: number;
  deaths: number | null;
}

/** The publisher's county rows without FIPS, by county name, and the id suffix they get. */
const NO_FIPS: Record<string, { suffix: string; state?: string }> = {
  Unknown: { suffix: 'unknown' },
  'New York City': { suffix: 'nyc', state: '36' },
  'Kansas City': { suffix: 'kansas-city', state: '29' },
  Joplin: { suffix: 'joplin', state: '29' },
};

/**
 * Every (geography id, date) of a states or counties file with its values, keyed `<geo>|<date>`.
 * Throws on a row it cannot place (these tests read only the real, clean snapshots).
 */
export function readGeoSnapshot(file: string): Map<string, GeoDayValues> {
  const lines = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line !== '');
  const header = (lines.shift() ?? '').split(',');
  const col = (name: string) => header.indexOf(name);
  const [date, county, state, fips, cases, deaths] = ['date', 'county', 'state', 'fips', 'cases', 'deaths'].map(col);
  const rows = new Map<string, GeoDayValues>();
  for (const line of lines) {
    const cells = line.split(',');
    const at = (index: number | undefined) => (index === undefined || index < 0 ? '' : (cells[index] ?? ''));
    let geo = at(fips);
    if (geo === '') {
      const special = NO_FIPS[at(county)];
      const stateFips = stateByName(at(state))?.fips;
      if (!special || !stateFips) throw new Error(`${file}: cannot place ${line}`);
      geo = `${stateFips}-${special.suffix}`;
    }
    const key = `${geo}|${at(date)}`;
    if (rows.has(key)) throw new Error(`${file}: ${key} twice`);
    rows.set(key, { cases: Number(at(cases)), deaths: at(deaths) === '' ? null : Number(at(deaths)) });
  }
  return rows;
}

/** What loading `next` after `previous` changes, by `<geo>|<date>` key, each list sorted. */
export interface GeoSnapshotDiff {
  /** In `next` only. */
  inserted: string[];
  /** In both, with other values. */
  revised: string[];
  /** In both, equal. */
  unchanged: number;
  /** In `previous` only (a load never deletes them). */
  missing: string[];
}

/** The independent diff of two snapshots of the same file (see {@link readGeoSnapshot}). */
export function diffGeoSnapshots(previousFile: string, nextFile: string): GeoSnapshotDiff {
  const previous = readGeoSnapshot(previousFile);
  const next = readGeoSnapshot(nextFile);
  const diff: GeoSnapshotDiff = { inserted: [], revised: [], unchanged: 0, missing: [] };
  for (const [key, values] of next) {
    const before = previous.get(key);
    if (!before) diff.inserted.push(key);
    else if (before.cases !== values.cases || before.deaths !== values.deaths) diff.revised.push(key);
    else diff.unchanged++;
  }
  for (const key of previous.keys()) if (!next.has(key)) diff.missing.push(key);
  diff.inserted.sort();
  diff.revised.sort();
  diff.missing.sort();
  return diff;
}
