import { afterEach, describe, expect, it, jest } from '@jest/globals';

const savedEnv = { ...process.env };

/** Loads a fresh copy of handler.ts with exactly these variables set. */
async function importHandlerWith(env: Record<string, string>): Promise<unknown> {
  jest.resetModules();
  const { ETL_FAULTS: _ignored, ...base } = savedEnv;
  process.env = { ...base, AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent', ...env };
  return import('../src/handler.js');
}

const complete = {
  ETL_ENVIRONMENT: 'dev',
  LEDGER_TABLE: 'covid-etl-dev-ledger',
  TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:covid-etl-dev-notifications',
};

afterEach(() => {
  process.env = savedEnv;
});

describe('notifier configuration (handler.ts)', () => {
  it('fails fast when TOPIC_ARN is missing', async () => {
    // Prepare
    const { TOPIC_ARN: _omitted, ...env } = complete;

    // Act
    const loading = importHandlerWith(env);

    // Assess
    await expect(loading).rejects.toThrow('Environment variable TOPIC_ARN is required');
  });

  it('fails fast when LEDGER_TABLE is blank', async () => {
    // Prepare
    const env = { ...complete, LEDGER_TABLE: '  ' };

    // Act
    const loading = importHandlerWith(env);

    // Assess
    await expect(loading).rejects.toThrow('Environment variable LEDGER_TABLE is required');
  });

  it('refuses fault injection (ETL_FAULTS) in a deployed function', async () => {
    // Prepare
    const env = { ...complete, ETL_FAULTS: 'notifier=fail' };

    // Act
    const loading = importHandlerWith(env);

    // Assess
    await expect(loading).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('fault injection is refused outside the local environment'),
    });
  });

  it('starts with a complete configuration', async () => {
    // Prepare
    const env = complete;

    // Act
    const module = (await importHandlerWith(env)) as { handler?: unknown };

    // Assess
    expect(typeof module.handler).toBe('function');
  });
});
