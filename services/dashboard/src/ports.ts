import type { Clock, Logger, RunLedger, SeriesRepository } from '@covid-etl/platform';

/** What the dashboard reads the data table through (a Query on `pk = US`, never a Scan). */
export type SeriesReader = Pick<SeriesRepository, 'query'>;

/** What the dashboard reads the run ledger through (the `byStartedAt` index, latest first). */
export type RunReader = Pick<RunLedger, 'listRuns'>;

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
  /** `local`, `dev`, `prod`: shown on the page and in `/api/status`. */
  environment: string;
  assets: WebAssets;
  clock?: Clock;
  logger?: Logger;
}
