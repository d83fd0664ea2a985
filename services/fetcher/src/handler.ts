import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EnvVar } from '@covid-etl/contracts';
import {
  assertNoFaultInjection,
  createDocumentClient,
  createLogger,
  DynamoGeoLedger,
  EventBridgePublisher,
  GeoCatalogRepository,
  GeoSeriesStore,
  getStringFromEnv,
  HeldRunRepository,
  LedgerRepository,
  meterAwsClient,
  RunFinalizer,
  SeriesRepository,
  SqsMessageSender,
  systemClock,
} from '@covid-etl/platform';
import { createHandler } from './app.js';
import { allowedHostsFromEnv, qualityGatesFromEnv } from './gates-config.js';
import { geoLevelsFromEnv, geoUrlsFromEnv, maxSourceBytesFromEnv } from './geo-config.js';
import { HttpSourceDownloader } from './source-downloader.js';
import { UrlPolicy } from './url-policy.js';

// Configuration is read once, at start: a missing variable fails the cold start.
assertNoFaultInjection();
const environment = getStringFromEnv({ key: EnvVar.Environment });
const ledgerTable = getStringFromEnv({ key: EnvVar.LedgerTable });
const gates = qualityGatesFromEnv();
const allowedHosts = allowedHostsFromEnv();
const queueUrl = getStringFromEnv({ key: EnvVar.TransformerQueueUrl });
const eventBusName = getStringFromEnv({ key: EnvVar.EventBusName });
const defaultUrls = {
  nyt: getStringFromEnv({ key: EnvVar.NytUrl }),
  jhu: getStringFromEnv({ key: EnvVar.JhuUrl }),
  ...geoUrlsFromEnv(),
};
const levels = geoLevelsFromEnv();
const maxBytes = maxSourceBytesFromEnv();
const dataTable = getStringFromEnv({ key: EnvVar.DataTable });

// SDK clients: created once per container.
const doc = createDocumentClient();
const sqs = meterAwsClient(new SQSClient({}));
const eventBridge = meterAwsClient(new EventBridgeClient({}));

const logger = createLogger({ service: 'fetcher' });
const ledger = new LedgerRepository(doc, ledgerTable);

export const handler = createHandler({
  environment,
  defaultUrls,
  ledger,
  levels,
  geoLedger: new DynamoGeoLedger(doc, ledgerTable),
  geoSeries: new GeoSeriesStore(doc, dataTable),
  geoCatalog: new GeoCatalogRepository(doc, dataTable),
  held: new HeldRunRepository(doc, ledgerTable),
  series: new SeriesRepository(doc, dataTable),
  gates,
  transformerQueue: new SqsMessageSender(sqs, queueUrl),
  downloader: new HttpSourceDownloader({ maxBytes, policy: new UrlPolicy({ environment, allowedHosts }) }),
  finalizer: new RunFinalizer({ ledger, events: new EventBridgePublisher(eventBridge, eventBusName), logger }),
  clock: systemClock,
  logger,
});
