import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EnvVar } from '@covid-etl/contracts';
import {
  assertNoFaultInjection,
  createDocumentClient,
  createLogger,
  EventBridgePublisher,
  getNumberFromEnv,
  getStringFromEnv,
  LedgerRepository,
  meterAwsClient,
  RunFinalizer,
  systemClock,
} from '@covid-etl/platform';
import { createHandler } from './app.js';

assertNoFaultInjection();
const environment = getStringFromEnv({ key: EnvVar.Environment });
const ledgerTable = getStringFromEnv({ key: EnvVar.LedgerTable });
const eventBusName = getStringFromEnv({ key: EnvVar.EventBusName });
const stallAfterMinutes = getNumberFromEnv({ key: EnvVar.StallAfterMinutes, defaultValue: 30, min: 1, max: 1440 });

const doc = createDocumentClient();
const eventBridge = meterAwsClient(new EventBridgeClient({}));
const logger = createLogger({ service: 'watchdog' });
const ledger = new LedgerRepository(doc, ledgerTable);

export const handler = createHandler({
  environment,
  ledger,
  finalizer: new RunFinalizer({ ledger, events: new EventBridgePublisher(eventBridge, eventBusName), logger }),
  clock: systemClock,
  logger,
  stallAfterMs: stallAfterMinutes * 60_000,
});
