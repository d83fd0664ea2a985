import {
  DEFAULT_SOURCE_URLS,
  EnvVar,
  GEO_LEVELS,
  type GeoLevel,
  type GeoSourceId,
  parseGeoLevels,
} from '@covid-etl/contracts';
import { ConfigurationError, getNumberFromEnv, getOptionalStringFromEnv } from '@covid-etl/platform';

type Env = Record<string, string | undefined>;

/**
 * The default body cap of one source: 256 MiB, the Terraform module's `max_source_bytes` default,
 * so that a local `etl run --backfill counties` takes the full county file (~100 MB by 2023) as the
 * deployed fetcher does. `MAX_SOURCE_BYTES` changes it.
 */
export const DEFAULT_MAX_SOURCE_BYTES = 256 * 1024 * 1024;

/** The geography levels the environment loads (`GEO_LEVELS`, comma-joined; default all). One-line error otherwise. */
export function geoLevelsFromEnv(env: Env = process.env): GeoLevel[] {
  const raw = getOptionalStringFromEnv({ key: EnvVar.GeoLevels, defaultValue: GEO_LEVELS.join(','), env });
  try {
    return parseGeoLevels(raw);
  } catch (error) {
    throw new ConfigurationError(`Environment variable ${EnvVar.GeoLevels}: ${(error as Error).message}`);
  }
}

/** The states and counties URLs (`STATES_URL`, `COUNTIES_URL`, `COUNTIES_RECENT_URL`; default the publisher's). */
export function geoUrlsFromEnv(env: Env = process.env): Record<GeoSourceId, string> {
  return {
    states: getOptionalStringFromEnv({ key: EnvVar.StatesUrl, defaultValue: DEFAULT_SOURCE_URLS.states, env }),
    counties: getOptionalStringFromEnv({ key: EnvVar.CountiesUrl, defaultValue: DEFAULT_SOURCE_URLS.counties, env }),
    'counties-recent': getOptionalStringFromEnv({
      key: EnvVar.CountiesRecentUrl,
      defaultValue: DEFAULT_SOURCE_URLS['counties-recent'],
      env,
    }),
  };
}

/** The most bytes read from one source (`MAX_SOURCE_BYTES`, a whole number from 1 KiB to 2 GiB; default 256 MiB). */
export function maxSourceBytesFromEnv(env: Env = process.env): number {
  const value = getNumberFromEnv({
    key: EnvVar.MaxSourceBytes,
    defaultValue: DEFAULT_MAX_SOURCE_BYTES,
    min: 1024,
    max: 2 * 1024 * 1024 * 1024,
    env,
  });
  if (!Number.isInteger(value)) {
    throw new ConfigurationError(`Environment variable ${EnvVar.MaxSourceBytes} must be a whole number of bytes`);
  }
  return value;
}
