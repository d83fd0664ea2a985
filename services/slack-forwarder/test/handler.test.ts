import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { lambdaContext } from '@covid-etl/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { runNotification, snsEvent, startWebhookServer, type WebhookServer } from './fixtures.js';

const PARAMETER = '/covid-etl/dev/slack-webhook-url';

const ssm = mockClient(SSMClient);
const savedEnv = { ...process.env };

type Handler = (event: SNSEvent, context: unknown) => Promise<void>;
let handler: Handler;
let server: WebhookServer;

beforeAll(async () => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', SLACK_WEBHOOK_PARAMETER: PARAMETER, LOG_LEVEL: 'silent' });
  delete process.env.ETL_FAULTS;
  ({ handler } = (await import('../src/handler.js')) as unknown as { handler: Handler });
});

afterAll(() => {
  process.env = savedEnv;
  ssm.restore();
});

beforeEach(async () => {
  ssm.reset();
  server = await startWebhookServer();
});

afterEach(async () => {
  await server.close();
});

describe('deployed slack-forwarder handler (handler.ts)', () => {
  // First: the secret reader caches a value it read for 5 minutes, and never an empty one.
  it('fails when the parameter is empty, naming the parameter', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Value: '' } });

    // Act
    const posting = handler(snsEvent('hello', 'plain'), lambdaContext());

    // Assess
    await expect(posting).rejects.toThrow(`SSM parameter ${PARAMETER} is empty`);
    expect(server.requests).toHaveLength(0);
  });

  it('reads the webhook URL from SSM (decrypted) at run time and posts to it', async () => {
    // Prepare
    ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Name: PARAMETER, Value: server.url } });

    // Act
    await handler(snsEvent(runNotification()), lambdaContext());

    // Assess
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: PARAMETER, WithDecryption: true });
    expect(server.requests).toHaveLength(1);
    expect(JSON.parse(server.requests[0]?.body ?? '').text).toContain('[covid-etl dev] Run 2026-11-25 PARTIAL');
  });
});
