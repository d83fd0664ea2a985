import { EnvVar } from '@covid-etl/contracts';
import {
  createDocumentClient,
  createLogger,
  GeoCatalogRepository,
  GeoSeriesReader,
  getStringFromEnv,
  LedgerRepository,
  SeriesRepository,
  systemClock,
} from '@covid-etl/platform';
import { createHandler } from './app.js';
import { WEB_ASSETS } from './generated/web-assets.js';

const environment = getStringFromEnv({ key: EnvVar.Environment });
const dataTable = getStringFromEnv({ key: EnvVar.DataTable });
const ledgerTable = getStringFromEnv({ key: EnvVar.LedgerTable });

const doc = createDocumentClient();

/** The deployed dashboard: a Lambda function URL (payload format 2.0), read-only on both tables. */
const series = new SeriesRepository(doc, dataTable);

export const handler = createHandler({
  series,
  versions: series.versions,
  geos: new GeoCatalogRepository(doc, dataTable),
  geoSeries: new GeoSeriesReader(doc, dataTable),
  ledger: new LedgerRepository(doc, ledgerTable),
  environment,
  assets: WEB_ASSETS,
  clock: systemClock,
  logger: createLogger({ service: 'dashboard' }),
});
