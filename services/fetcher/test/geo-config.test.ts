import { DEFAULT_SOURCE_URLS } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_MAX_SOURCE_BYTES, geoLevelsFromEnv, geoUrlsFromEnv, maxSourceBytesFromEnv } from '../src/app.js';

describe('geography configuration', () => {
  it('loads every level by default and the listed ones otherwise, in canonical order', () => {
    // Act / Assess
    expect(geoLevelsFromEnv({})).toEqual(['nation', 'state', 'county']);
    expect(geoLevelsFromEnv({ GEO_LEVELS: 'county, nation' })).toEqual(['nation', 'county']);
    expect(() => geoLevelsFromEnv({ GEO_LEVELS: ',' })).toThrow(
      'Environment variable GEO_LEVELS: geography levels "," are empty; expected a comma-joined subset of nation,state,county',
    );
  });

  it('reads the states and counties URLs, defaulting to the publisher', () => {
    // Act
    const urls = geoUrlsFromEnv({ COUNTIES_URL: 'https://mirror.example.org/c.csv' });

    // Assess
    expect(urls).toEqual({
      states: DEFAULT_SOURCE_URLS.states,
      counties: 'https://mirror.example.org/c.csv',
      'counties-recent': DEFAULT_SOURCE_URLS['counties-recent'],
    });
  });

  it('reads the body cap strictly', () => {
    // Act / Assess
    expect(maxSourceBytesFromEnv({})).toBe(DEFAULT_MAX_SOURCE_BYTES);
    // The Terraform module's default (terraform/modules/pipeline/variables.tf): the real full county
    // file (~100 MB) fits, locally as deployed.
    expect(DEFAULT_MAX_SOURCE_BYTES).toBe(268435456);
    expect(maxSourceBytesFromEnv({ MAX_SOURCE_BYTES: '268435456' })).toBe(268435456);
    expect(() => maxSourceBytesFromEnv({ MAX_SOURCE_BYTES: '1500.5' })).toThrow('whole number of bytes');
    expect(() => maxSourceBytesFromEnv({ MAX_SOURCE_BYTES: '12' })).toThrow('from 1024');
  });
});
