import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The real source snapshots live outside the repository, in `../shared/data/` beside the
 * clone (see its README). `SHARED_DATA_DIR` overrides the location.
 */
export const SHARED_DATA_DIR =
  process.env.SHARED_DATA_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');

/** The snapshot files by role, as named in shared/data/README.md. */
export const SNAPSHOTS = {
  nytEarly: 'nyt/us_2020-06-04.csv',
  nytNext: 'nyt/us_2020-06-25.csv',
  nytFinal: 'nyt/us_2023-03-23.csv',
  jhuWithLatLong: 'jhu/time-series-19-covid-combined_2020-10-11.csv',
  jhuFinal: 'jhu/time-series-19-covid-combined_2021-03-17.csv',
  statesEarly: 'nyt/us-states_2020-08-13.csv',
  statesLate: 'nyt/us-states_2021-03-18.csv',
  countiesApril: 'nyt/us-counties_2020-04-17.csv',
  countiesRecent: 'nyt/us-counties-recent_2021-03-18.csv',
} as const;

export type SnapshotName = keyof typeof SNAPSHOTS;

/** Absolute path of a snapshot file. */
export function snapshotPath(name: SnapshotName): string {
  return path.join(SHARED_DATA_DIR, SNAPSHOTS[name]);
}

/**
 * Whether the real snapshots are here. In CI (`CI=true`) they must be: a missing folder
 * throws instead of skipping, so the real-data tests can never silently not run.
 */
export function sharedDataAvailable(): boolean {
  const present = Object.values(SNAPSHOTS).every((file) => existsSync(path.join(SHARED_DATA_DIR, file)));
  if (!present && process.env.CI === 'true') {
    throw new Error(`The real data snapshots are missing from ${SHARED_DATA_DIR}; CI must have ../shared/data`);
  }
  if (!present) {
    console.warn(
      `Skipping the real-data tests: no snapshots in ${SHARED_DATA_DIR} (set SHARED_DATA_DIR or clone beside ../shared).`,
    );
  }
  return present;
}
