import { SQSClient } from '@aws-sdk/client-sqs';
import { EnvVar } from '@covid-etl/contracts';
import {
  assertNoFaultInjection,
  createDocumentClient,
  createLogger,
  getStringFromEnv,
  LedgerRepository,
  meterAwsClient,
  SqsMessageSender,
} from '@covid-etl/platform';
import { createHandler } from './app.js';

assertNoFaultInjection();
const ledgerTable = getStringFromEnv({ key: EnvVar.LedgerTable });
const loaderQueueUrl = getStringFromEnv({ key: EnvVar.LoaderQueueUrl });
getStringFromEnv({ key: EnvVar.Environment });

const doc = createDocumentClient();
const sqs = meterAwsClient(new SQSClient({}));

export const handler = createHandler({
  ledger: new LedgerRepository(doc, ledgerTable),
  loaderQueue: new SqsMessageSender(sqs, loaderQueueUrl),
  logger: createLogger({ service: 'transformer' }),
});
