import { afterEach, describe, expect, it, jest } from '@jest/globals';

const savedEnv = { ...process.env };

/** Loads a fresh copy of handler.ts with exactly these variables set. */
async function importHandlerWith(env: Record<string, string>): Promise<unknown> {
  jest.resetModules();
  const { ETL_FAULTS: _ignored, SLACK_WEBHOOK_PARAMETER: _unset, ...base } = savedEnv;
  process.env = { ...base, AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent', ...env };
  return import('../src/handler.js');
}

afterEach(() => {
  process.env = savedEnv;
});

describe('slack-forwarder configuration (handler.ts)', () => {
  it('fails fast when SLACK_WEBHOOK_PARAMETER is missing', async () => {
    // Prepare
    const env = {};

    // Act
    const loading = importHandlerWith(env);

    // Assess
    await expect(loading).rejects.toThrow('Environment variable SLACK_WEBHOOK_PARAMETER is required');
  });

  it('refuses fault injection (ETL_FAULTS) in a deployed function', async () => {
    // Prepare
    const env = { SLACK_WEBHOOK_PARAMETER: '/covid-etl/dev/slack-webhook-url', ETL_FAULTS: 'notifier=fail' };

    // Act
    const loading = importHandlerWith(env);

    // Assess
    await expect(loading).rejects.toThrow('fault injection is refused outside the local environment');
  });

  it('starts with the parameter name set, without reading it yet', async () => {
    // Prepare
    const env = { SLACK_WEBHOOK_PARAMETER: '/covid-etl/dev/slack-webhook-url' };

    // Act
    const module = (await importHandlerWith(env)) as { handler?: unknown };

    // Assess
    expect(typeof module.handler).toBe('function');
  });
});
