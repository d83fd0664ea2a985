import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EnvVar, QUEUES } from '@covid-etl/contracts';
import {
  assertNoFaultInjection,
  createDocumentClient,
  createLogger,
  DynamoGeoLedger,
  EventBridgePublisher,
  GeoCatalogRepository,
  GeoSeriesStore,
  getStringFromEnv,
  LedgerRepository,
  meterAwsClient,
  RunFinalizer,
  SeriesRepository,
  systemClock,
} from '@covid-etl/platform';
import { createHandler } from './app.js';

assertNoFaultInjection();
getStringFromEnv({ key: EnvVar.Environment });
const dataTable = getStringFromEnv({ key: EnvVar.DataTable });
const ledgerTable = getStringFromEnv({ key: EnvVar.LedgerTable });
const eventBusName = getStringFromEnv({ key: EnvVar.EventBusName });

const doc = createDocumentClient();
const eventBridge = meterAwsClient(new EventBridgeClient({}));
const logger = createLogger({ service: 'loader' });
const ledger = new LedgerRepository(doc, ledgerTable);
const series = new SeriesRepository(doc, dataTable);
const events = new EventBridgePublisher(eventBridge, eventBusName);

export const handler = createHandler({
  ledger,
  series,
  geoLedger: new DynamoGeoLedger(doc, ledgerTable),
  geoSeries: new GeoSeriesStore(doc, dataTable),
  geoCatalog: new GeoCatalogRepository(doc, dataTable),
  finalizer: new RunFinalizer({ ledger, events, logger, versions: series.versions }),
  clock: systemClock,
  logger,
  // Longer than one invocation can write, so that only a crashed holder's lease runs out.
  monthLeaseMs: QUEUES.loader.functionTimeoutSeconds * 2 * 1000,
});
