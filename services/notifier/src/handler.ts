/**
 * The deployed notifier Lambda: reads its configuration once (failing fast), creates the SDK
 * clients once per container and wires the AWS adapters into `createHandler`.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { EnvVar } from '@covid-etl/contracts';
import {
  assertNoFaultInjection,
  createDocumentClient,
  createLogger,
  getStringFromEnv,
  LedgerRepository,
  meterAwsClient,
  SnsNotificationPublisher,
} from '@covid-etl/platform';
import { createHandler } from './app.js';

assertNoFaultInjection();
const environment = getStringFromEnv({ key: EnvVar.Environment });
const ledgerTable = getStringFromEnv({ key: EnvVar.LedgerTable });
const topicArn = getStringFromEnv({ key: EnvVar.TopicArn });

const documentClient = createDocumentClient();
const snsClient = meterAwsClient(new SNSClient({}));

export const handler = createHandler({
  ledger: new LedgerRepository(documentClient, ledgerTable),
  publisher: new SnsNotificationPublisher(snsClient, topicArn),
  logger: createLogger({ service: 'notifier' }).child({ environment }),
});
