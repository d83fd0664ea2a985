/**
 * The deployed slack-forwarder Lambda: the webhook URL is read from an SSM SecureString at
 * run time (never from plain environment variables); only the parameter's name is configured.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { EnvVar } from '@covid-etl/contracts';
import { assertNoFaultInjection, createLogger, getStringFromEnv, SsmSecretReader } from '@covid-etl/platform';
import { createHandler } from './app.js';

assertNoFaultInjection();
const webhookParameter = getStringFromEnv({ key: EnvVar.SlackWebhookParameter });

const ssmClient = new SSMClient({});

export const handler = createHandler({
  secrets: new SsmSecretReader(ssmClient),
  webhookParameter,
  logger: createLogger({ service: 'slack-forwarder' }),
});
