import type {
  Clock,
  GeoCatalogReader,
  GeoSeriesReader,
  Logger,
  RunLedger,
  SeriesRepository,
  VersionRepository,
} from '@covid-etl/platform';

/** What the dashboard reads the data table through (a Query on `pk = US`, never a Scan). */
export type SeriesReader = Pick<SeriesRepository, 'query'>;

/** What the dashboard reads the run ledger through (the `byStartedAt` index, latest first). */
export type RunReader = Pick<RunLedger, 'listRuns'>;

/** What the dashboard reads version items through (a day's history, a run's changes: Queries only). */
export type VersionReader = Pick<VersionRepository, 'history' | 'changesOf'>;

/** What the dashboard reads the catalogue (`pk = GEOS`) and the county summaries (`pk = COUNTIES#<state>`) through. */
export type GeoCatalogSource = GeoCatalogReader;

/** What the dashboard reads a state's or county's series through (one Query on `pk = <geo id>`). */
export type GeoSeriesSource = Pick<GeoSeriesReader, 'query'>;

/** The bundled front-end, served under `/assets/`. */
export interface WebAssets {
  /** A short content hash: `?v=<version>` URLs are cached for a year. */
  version: string;
  js: string;
  css: string;
  favicon: string;
}

export interface DashboardDeps {
  series: SeriesReader;
  ledger: RunReader;
  /** Version items: the latest run's revised days on the charts, and `/api/history`. */
  versions?: VersionReader;
  /** The geography catalogue and county summaries; without it only the nation is served. */
  geos?: GeoCatalogSource;
  /** States' and counties' series; without it only the nation is served. */
  geoSeries?: GeoSeriesSource;
  /** `local`, `dev`, `prod`: shown on the page and in `/api/status`. */
  environment: string;
  assets: WebAssets;
  clock?: Clock;
  logger?: Logger;
}
