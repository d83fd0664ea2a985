import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_SOURCE_URLS,
  dataPartitionKey,
  FetcherInput,
  formatChunkKey,
  formatGeoId,
  GeoId,
  GeoIdError,
  geoLevel,
  levelOfChunkKey,
  parseChunkKey,
  parseGeoId,
  parseGeoLevels,
  SOURCE_LABELS,
  SourceId,
  STATES,
  stateByName,
  versionPartitionKey,
} from '../src/index.js';

describe('geography ids', () => {
  it('parses the nation, states, counties and the special areas, and formats them back', () => {
    // Act
    const parsed = ['US', '48', '48201', '02997', '36-nyc', '29-kansas-city', '29-joplin', '72-unknown'].map(
      parseGeoId,
    );

    // Assess
    expect(parsed).toEqual([
      { id: 'US', level: 'nation' },
      { id: '48', level: 'state', state: '48' },
      { id: '48201', level: 'county', state: '48', fips: '48201' },
      { id: '02997', level: 'county', state: '02', fips: '02997' },
      { id: '36-nyc', level: 'county', state: '36', special: 'nyc' },
      { id: '29-kansas-city', level: 'county', state: '29', special: 'kansas-city' },
      { id: '29-joplin', level: 'county', state: '29', special: 'joplin' },
      { id: '72-unknown', level: 'county', state: '72', special: 'unknown' },
    ]);
    expect(parsed.map((geo) => formatGeoId(geo))).toEqual(parsed.map((geo) => geo.id));
    expect(geoLevel('06037')).toBe('county');
  });

  it('refuses malformed ids with one line naming the problem and the accepted forms', () => {
    // Prepare
    const cases: [string, string][] = [
      ['us', 'is not written in its exact case'],
      ['36-NYC', 'is not written in its exact case'],
      ['99', 'names no state or territory (FIPS 99)'],
      ['99001', 'names no state or territory (FIPS 99)'],
      ['48000', 'has county code 000'],
      ['06-nyc', 'puts New York City in the wrong state (it is 36-nyc)'],
      ['36-brooklyn', 'names no known area "brooklyn"'],
      ['4820', 'is not a geography id'],
      ['', 'is not a geography id'],
    ];

    for (const [text, problem] of cases) {
      // Act
      const parse = () => parseGeoId(text);

      // Assess
      expect(parse).toThrow(GeoIdError);
      expect(parse).toThrow(problem);
      try {
        parse();
      } catch (error) {
        expect((error as Error).message).not.toContain('\n');
        expect((error as Error).message).toContain('expected US, a state FIPS such as 06');
      }
    }
    expect(GeoId.safeParse('06-nyc').success).toBe(false);
    expect(GeoId.safeParse('36-nyc').success).toBe(true);
  });

  it('knows the 55 states and territories of the publisher plus American Samoa, by FIPS and by name', () => {
    // Assess
    expect(STATES).toHaveLength(56);
    expect(new Set(STATES.map((state) => state.fips)).size).toBe(56);
    expect(stateByName('Virgin Islands')?.fips).toBe('78');
    expect(stateByName('Texas')?.fips).toBe('48');
    expect(stateByName('texas')).toBeUndefined();
  });
});

describe('data table keys', () => {
  it('keeps the nation in partition US and its versions in DAY#<date>; other geographies get their own', () => {
    // Assess
    expect(dataPartitionKey('US')).toBe('US');
    expect(dataPartitionKey('36-nyc')).toBe('36-nyc');
    expect(versionPartitionKey('US', '2020-04-01')).toBe('DAY#2020-04-01');
    expect(versionPartitionKey('48201', '2020-04-01')).toBe('DAY#48201#2020-04-01');
    expect(() => dataPartitionKey('DAY#2020-04-01')).toThrow(GeoIdError);
  });
});

describe('chunk keys', () => {
  it('formats and parses (level, state, month)', () => {
    // Act
    const key = formatChunkKey({ level: 'county', state: '48', month: '2020-04' });

    // Assess
    expect(key).toBe('county/48/2020-04');
    expect(parseChunkKey(key)).toEqual({ level: 'county', state: '48', month: '2020-04' });
    expect(() => parseChunkKey('county/99/2020-04')).toThrow('chunk key "county/99/2020-04" is not');
    expect(() => parseChunkKey('2020-04')).toThrow(RangeError);
    expect(() => parseChunkKey('state/48/2020-13')).toThrow(RangeError);
  });
});

describe('geography levels and sources', () => {
  it('parses GEO_LEVELS into canonical order and refuses unknown or empty lists with one line', () => {
    // Act / Assess
    expect(parseGeoLevels('county,nation')).toEqual(['nation', 'county']);
    expect(parseGeoLevels(' state ')).toEqual(['state']);
    expect(() => parseGeoLevels('nation,states')).toThrow(
      'geography levels "nation,states" name unknown level(s) states; expected a comma-joined subset of nation,state,county',
    );
    expect(() => parseGeoLevels('')).toThrow('are empty');
  });

  it('names the level of a chunk or part key', () => {
    // Act / Assess
    expect(levelOfChunkKey('2020-04')).toBe('nation');
    expect(levelOfChunkKey('state/48/2020-04#01-31')).toBe('state');
    expect(levelOfChunkKey('county/36/2021-03#01-17')).toBe('county');
  });

  it('gives every source a label and a public default URL', () => {
    // Act / Assess
    for (const id of SourceId.options) {
      expect(SOURCE_LABELS[id]).toMatch(/\S/);
      expect(DEFAULT_SOURCE_URLS[id]).toMatch(/^https:\/\/raw\.githubusercontent\.com\/.+\.csv$/);
    }
    expect(DEFAULT_SOURCE_URLS['counties-recent']).toBe(
      'https://raw.githubusercontent.com/nytimes/covid-19-data/master/us-counties-recent.csv',
    );
  });

  it('accepts a counties backfill and levels in the fetcher input, and refuses an unknown source', () => {
    // Act
    const backfill = FetcherInput.safeParse({
      trigger: 'schedule',
      backfill: 'counties',
      scheduledTime: '2026-11-29T04:00:00Z',
    });
    const typo = FetcherInput.safeParse({ trigger: 'manual', sources: { county: 'https://x.example/c.csv' } });
    const daily = FetcherInput.safeParse({ trigger: 'schedule', scheduledTime: '2026-11-29T04:00:00Z' });

    // Assess
    expect(backfill.success && backfill.data.backfill).toBe('counties');
    expect(typo.success).toBe(false);
    expect(daily.success && daily.data.backfill).toBeUndefined();
    expect(FetcherInput.safeParse({ trigger: 'manual', backfill: 'states' }).success).toBe(false);
  });
});
