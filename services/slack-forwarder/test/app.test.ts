import { TransientError } from '@covid-etl/platform';
import { lambdaContext } from '@covid-etl/testing';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHandler, createWebhookPoster, type SlackForwarderDeps } from '../src/app.js';
import {
  alarmMessage,
  capturedLogger,
  runNotification,
  secretsOf,
  snsEvent,
  startWebhookServer,
  type WebhookServer,
} from './fixtures.js';

const PARAMETER = '/covid-etl/dev/slack-webhook-url';
const SECRET_PATH = '/services/T0TEST/B0TEST/s3cr3tW3bh00kT0k3n';

let server: WebhookServer;

beforeEach(async () => {
  server = await startWebhookServer();
});

afterEach(async () => {
  await server.close();
});

function setup(overrides: Partial<SlackForwarderDeps> = {}) {
  const secrets = secretsOf({ [PARAMETER]: server.url });
  const captured = capturedLogger();
  const handler = createHandler(
    { secrets, webhookParameter: PARAMETER, logger: captured.logger, ...overrides },
    { timeoutEarlyInMillis: 0 },
  );
  return { handler, secrets, ...captured };
}

describe('slack-forwarder posting to a webhook', () => {
  it('posts the Slack message of a run notification as JSON to the URL read from the secret', async () => {
    // Prepare
    const { handler, secrets, lines } = setup();

    // Act
    await handler(snsEvent(runNotification(), '[covid-etl dev] Run 2026-11-25 PARTIAL'), lambdaContext());

    // Assess
    expect(secrets.reads).toEqual([PARAMETER]);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(SECRET_PATH);
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    const payload = JSON.parse(request?.body ?? '');
    expect(payload.text).toBe(':warning: [covid-etl dev] Run 2026-11-25 PARTIAL: 2 new, 5 rows rejected');
    expect(payload.blocks.map((block: { type: string }) => block.type)).toEqual(['header', 'section', 'context']);
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'Posted to Slack',
        kind: 'notification',
        runId: 's-20261125T060000Z',
      }),
    ]);
  });

  it('posts a CloudWatch alarm', async () => {
    // Prepare
    const { handler } = setup();

    // Act
    await handler(snsEvent(alarmMessage(), 'ALARM: "covid-etl-dev-loader-dlq-depth"'), lambdaContext());

    // Assess
    const payload = JSON.parse(server.requests[0]?.body ?? '');
    expect(payload.text).toMatch(/^:rotating_light: ALARM covid-etl-dev-loader-dlq-depth/);
  });

  it('throws a TransientError naming the status when Slack answers 500, without the URL', async () => {
    // Prepare
    server.answer = { status: 500, body: `internal_error at ${server.url}` };
    const { handler, raw, lines } = setup();

    // Act
    const posting = handler(snsEvent(runNotification()), lambdaContext());

    // Assess
    await expect(posting).rejects.toThrow(TransientError);
    await expect(posting).rejects.toThrow(/^Slack webhook answered HTTP 500: internal_error at \[webhook URL\]$/);
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'error',
        runId: 's-20261125T060000Z',
        error: 'TransientError: Slack webhook answered HTTP 500: internal_error at [webhook URL]',
      }),
    ]);
    expect(raw()).not.toContain(SECRET_PATH);
    expect(raw()).not.toContain(server.url);
  });

  it('honours a 429 Retry-After that fits in the remaining time, then posts once more', async () => {
    // Prepare
    server.answers.push({ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } });
    const { handler } = setup();
    const started = Date.now();

    // Act
    await handler(snsEvent(runNotification()), lambdaContext({ getRemainingTimeInMillis: () => 30_000 }));

    // Assess
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('fails the delivery at once when Retry-After is longer than the remaining time', async () => {
    // Prepare
    server.answers.push({ status: 429, body: 'rate_limited', headers: { 'retry-after': '120' } });
    const { handler } = setup();
    const started = Date.now();

    // Act
    const posting = handler(snsEvent(runNotification()), lambdaContext({ getRemainingTimeInMillis: () => 30_000 }));

    // Assess
    await expect(posting).rejects.toThrow(
      /^Slack webhook answered HTTP 429 \(rate limited; Retry-After 120 s\): more than the 24 s left in this invocation; the delivery fails and is retried later$/,
    );
    expect(server.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('throws a TransientError on a 404 (e.g. a revoked webhook)', async () => {
    // Prepare
    server.answer = { status: 404, body: 'no_service' };
    const { handler } = setup();

    // Act
    const posting = handler(snsEvent('hello', 'plain'), lambdaContext());

    // Assess
    await expect(posting).rejects.toThrow('Slack webhook answered HTTP 404: no_service');
  });

  it('throws a TransientError when nobody listens, naming the network error and not the URL', async () => {
    // Prepare
    const { handler, raw } = setup();
    await server.close();

    // Act
    const posting = handler(snsEvent(runNotification()), lambdaContext());

    // Assess
    await expect(posting).rejects.toThrow('Slack webhook request failed: ECONNREFUSED');
    expect(raw()).toContain('ECONNREFUSED');
    expect(raw()).not.toContain(SECRET_PATH);
  });

  it('gives up after its timeout when Slack does not answer', async () => {
    // Prepare
    server.answer = 'hang';
    const { handler } = setup({ post: createWebhookPoster({ timeoutMs: 200 }) });

    // Act
    const started = Date.now();
    const posting = handler(snsEvent(runNotification()), lambdaContext());

    // Assess
    await expect(posting).rejects.toThrow('Slack webhook request failed: no answer within 0.2 s');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses a secret that is not a URL without quoting it', async () => {
    // Prepare
    const secret = 'hooks.slack.com/services/NOT-A-URL-s3cr3t';
    const { handler, raw } = setup({ secrets: secretsOf({ [PARAMETER]: secret }) });

    // Act
    const posting = handler(snsEvent(runNotification()), lambdaContext());

    // Assess
    await expect(posting).rejects.toThrow(`Secret ${PARAMETER} does not hold a URL`);
    expect(raw()).not.toContain('s3cr3t');
    expect(server.requests).toHaveLength(0);
  });

  it('posts nothing and succeeds while the parameter holds the Terraform placeholder', async () => {
    // Prepare: Terraform creates the parameter as "not-configured" until an operator sets it.
    const { handler, raw } = setup({ secrets: secretsOf({ [PARAMETER]: 'not-configured' }) });

    // Act
    const posting = handler(snsEvent(runNotification()), lambdaContext());

    // Assess
    await expect(posting).resolves.toBeUndefined();
    expect(server.requests).toHaveLength(0);
    expect(raw()).toContain('Slack is not configured');
  });

  it('redacts the URL from the error of a custom post function', async () => {
    // Prepare
    const { handler, raw } = setup({
      post: async (url) => {
        throw new Error(`could not reach ${url}`);
      },
    });

    // Act
    const posting = handler(snsEvent(runNotification()), lambdaContext());

    // Assess
    await expect(posting).rejects.toThrow('could not reach [webhook URL]');
    expect(raw()).not.toContain(SECRET_PATH);
  });
});
